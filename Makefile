# TrackZoo: `make demo` (train, track, evaluate on the synthetic world) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA_ROOT := data/synthetic
DEMO_DIR := logs/demo/$(shell date +%Y-%m-%d_%H-%M-%S)
PYTEST_ARGS ?=

.PHONY: venv data demo test benchmark clean

# Create the virtual environment if missing (or if the requirements changed).
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# Build the synthetic world if missing (no-op when data/synthetic/world.json matches).
data: venv
	$(PY) -m datamodules.synthetic --root $(DATA_ROOT)

# Inference and tracking settings for the synthetic world, chosen on its tune split
# (`track.py split=tune`: 6 held-out videos; the train split cannot choose them, the
# detector has memorised it), never on val. One rule for what both trackers share
# (test-time views, score floor, ByteTrack's second association): the highest sum of both
# trackers' MOTA + IDF1 over views none / hflip / flips / dihedral x floors 0.4 / 0.45 /
# 0.5 x second association off / low 0.25, 0.3 at IoU 0.3 / low 0.3 at IoU 0.5 (store at
# epsilon 0.3, H 1): dihedral, floor 0.5, low 0.3, IoU 0.3 (155.4; flips at its best
# 150.4, no views 147.4; seed 1 picks the same). RetinaTrack store: its best MOTA + IDF1
# over cosine gates epsilon -1 (none) / 0 / 0.3 / 0.5 (the paper does not state it) and
# H 1 / 4 stored observations: epsilon 0.5, H 1 (seed 1 the same); memory 1 frame among
# 1 / 3 / 8 / 40 (87.3 / 85.8 / 80.3 / 75.9; seed 1 prefers 3 by 1.3): the paper's 40
# frames at 10 Hz Waymo let tracks of objects that left this 128 px world, crossed in
# ~10 frames, take look-alike newcomers. IoU tracker: memory 1 (the paper's baseline).
# Tune split MOTA / IDF1: RetinaTrack 39.8 / 47.5, IoU 29.9 / 39.6.
DEMO_TRACKING := test_time_augment=dihedral trackers.retinatrack.max_age=1 trackers.retinatrack.score_threshold=0.5 trackers.retinatrack.epsilon=0.5 trackers.retinatrack.history=1 trackers.retinatrack.low_score=0.3 trackers.retinatrack.low_iou_threshold=0.3 trackers.iou.min_score=0.5 trackers.iou.low_score=0.3 trackers.iou.low_iou_threshold=0.3

# The demo keeps to 20 minutes from `make demo` (environment and data included): training
# gets what is left until DEMO_TRAIN_UNTIL_S seconds after the start (the rest is for
# validation, checkpoints and tracking: ~1 minute with 8 views on 2 cores). Where the
# experiment's 4750 steps do not fit (e.g. a CPU without native bf16: ~0.4 s a step
# instead of ~0.17), training ends at the last step that does, with its cosine schedule
# shortened to end there (train.py time_budget_s; run_record.json keeps the steps used).
DEMO_START := $(shell date +%s)
DEMO_TRAIN_UNTIL_S := 1050
DEMO_TRAIN_BUDGET = $$(( $(DEMO_START) + $(DEMO_TRAIN_UNTIL_S) - $$(date +%s) ))

# Train the default experiment, track the validation videos with the RetinaTrack track
# store and the IoU-only baseline, and print the metrics.
demo: data
	budget=$(DEMO_TRAIN_BUDGET); test $$budget -gt 60 || budget=60; \
	$(PY) train.py experiment=retinatrack hydra.run.dir=$(DEMO_DIR)/train time_budget_s=$$budget
	$(PY) track.py ckpt_path=$(DEMO_DIR)/train/checkpoints/last.ckpt hydra.run.dir=$(DEMO_DIR)/track $(DEMO_TRACKING)

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

benchmark: data
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,bench]"
	$(PY) benchmarks/retinatrack_speed.py
	$(PY) benchmarks/eval_mot_speed.py
	$(PY) benchmarks/tracker_speed.py

clean:
	rm -rf logs outputs multirun .pytest_cache
