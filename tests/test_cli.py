"""The entry points as users run them: train, resume, multirun, W&B offline, track."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import run_cli, tiny_overrides
from eval.mot_io import read_mot_txt
from trackers.matching import box_iou
from lightning_modules.common.run_record import file_sha256

# 2 train videos x 10 frames, clip stride 2 -> 16 clips -> 8 steps per epoch at batch 2.
STEPS_PER_EPOCH = 8


def train_args(data_dir: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        "experiment=retinatrack", *tiny_overrides(data_dir), f"hydra.run.dir={run_dir}",
        "model.module.scheduler.warmup_steps=4", "model.module.scheduler.cosine_steps=12",
        "trainer.log_every_n_steps=1", *extra,
    ]


def read_wandb_history(run_file: Path) -> list[dict]:
    """History rows of an offline W&B run file (``run-*.wandb``).

    The file is a 7-byte ``:W&B`` header followed by LevelDB-log blocks of 32 KiB holding
    protobuf ``Record`` messages (record header: crc32 4 B, length 2 B LE, type 1 B;
    type 1 = full, 2 = first, 3 = middle, 4 = last fragment).
    """
    from wandb.proto import wandb_internal_pb2 as pb

    data, pos, block, pending, rows = run_file.read_bytes(), 7, 32768, b"", []
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # too little room for a header: the block is padded
            pos += block - pos % block
            continue
        length, kind = int.from_bytes(data[pos + 4:pos + 6], "little"), data[pos + 6]
        chunk, pos = data[pos + 7:pos + 7 + length], pos + 7 + length
        if kind == 0 and length == 0:
            continue
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(pending)
            if record.WhichOneof("record_type") == "history":
                rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item})
    return rows


def logged_steps(run_dir: Path) -> list[int]:
    with open(run_dir / "csv" / "version_0" / "metrics.csv") as f:
        return sorted({int(row["step"]) for row in csv.DictReader(f) if row.get("train/loss")})


@pytest.fixture(scope="module")
def trained_run(data_dir, tmp_path_factory) -> Path:
    """One epoch of training on the tiny world (decoding every candidate: after 8 steps
    no score reaches the usual 0.05)."""
    run_dir = tmp_path_factory.mktemp("train")
    run_cli("train.py", *train_args(data_dir, run_dir, f"trainer.max_steps={STEPS_PER_EPOCH}",
                                    "model.module.net.inference.score_threshold=0.0"))
    return run_dir


def test_training_writes_checkpoints_and_run_record(trained_run):
    last = trained_run / "checkpoints" / "last.ckpt"
    assert last.exists()
    checkpoint = torch.load(last, map_location="cpu", weights_only=False)
    assert checkpoint["global_step"] == STEPS_PER_EPOCH
    assert checkpoint["trackzoo"]["model"]["m1"] == 1  # config travels with the weights (the experiment's m1)
    record = json.loads((trained_run / "run_record.json").read_text())
    assert record["git"]["commit"] is None or len(record["git"]["commit"]) == 40
    assert record["checkpoints"]["last"]["sha256"] == file_sha256(last)
    splits = {(d["split"], d["videos"]) for d in record["datasets"]}
    assert splits == {("train", 2), ("val", 1)}
    assert record["config"]["model"]["m1"] == 1
    assert "val/AP50" in record["metrics"]


def test_resume_continues_at_the_same_step(trained_run, data_dir, tmp_path):
    resumed = tmp_path / "resumed"
    run_cli("train.py", *train_args(
        data_dir, resumed, f"trainer.max_steps={STEPS_PER_EPOCH + 4}",
        f"ckpt_path={trained_run / 'checkpoints' / 'last.ckpt'}",
    ))
    steps = logged_steps(resumed)
    # exactly the 4 remaining steps were trained, none before the checkpoint's step
    assert len(steps) == 4 and steps[0] >= STEPS_PER_EPOCH and steps == list(range(steps[0], steps[0] + 4))
    checkpoint = torch.load(resumed / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["global_step"] == STEPS_PER_EPOCH + 4
    # The LR schedule was restored, not restarted: it has counted every step.
    assert checkpoint["lr_schedulers"][0]["last_epoch"] == STEPS_PER_EPOCH + 4


def test_init_from_loads_matching_weights(trained_run, data_dir, tmp_path):
    from hydra.utils import instantiate

    from conftest import compose_train
    from train import load_initial_weights

    source = torch.load(trained_run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    # A detection-only RetinaNet of the same backbone: backbone weights transfer, the
    # head (different structure) keeps its initialisation.
    model = instantiate(compose_train(["experiment=retinanet", *tiny_overrides(data_dir)]).model.module)
    report = load_initial_weights(model, str(trained_run / "checkpoints" / "last.ckpt"))
    state = model.state_dict()
    backbone = [k for k in report["loaded"] if k.startswith("net.backbone.")]
    assert backbone and all(torch.equal(state[k], source[k]) for k in backbone)
    assert any(k.startswith("net.head.") for k in report["missing"] + report["shape_mismatch"])


def test_multirun_sweep_writes_one_run_per_point(data_dir, tmp_path):
    sweep_dir = tmp_path / "sweep"
    run_cli("train.py", "-m", *train_args(
        data_dir, tmp_path / "unused", "trainer.max_steps=2", "model.m1=1,2",
        f"hydra.sweep.dir={sweep_dir}",
    ))
    records = [json.loads((sweep_dir / str(i) / "run_record.json").read_text()) for i in (0, 1)]
    assert sorted(r["config"]["model"]["m1"] for r in records) == [1, 2]
    for job, record in enumerate(records):
        checkpoint = torch.load(sweep_dir / str(job) / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
        # the override reached the network: the task-shared tower has m1 convolutions
        shared = {k for k in checkpoint["state_dict"] if k.startswith("net.head.shared.convs.")}
        assert {k.split(".")[4] for k in shared} == {str(i) for i in range(record["config"]["model"]["m1"])}


def test_wandb_offline_run_holds_the_logged_metrics(data_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    run_dir = tmp_path / "wandb_run"
    run_cli("train.py", *train_args(data_dir, run_dir, "trainer.max_steps=3", "logger=wandb"))
    runs = list((run_dir / "wandb").glob("offline-run-*"))
    assert len(runs) == 1  # offline (no key), one run
    history = read_wandb_history(next(runs[0].glob("run-*.wandb")))
    losses = [row["train/loss"] for row in history if "train/loss" in row]
    assert len(losses) == 3 and all(isinstance(v, float) and v > 0 for v in losses)
    assert any(key.startswith("lr-") for row in history for key in row)  # LR monitor callback


def test_track_writes_results_and_metrics(trained_run, data_dir, tmp_path):
    track_dir = tmp_path / "track"
    ckpt = trained_run / "checkpoints" / "last.ckpt"
    proc = run_cli("track.py", f"ckpt_path={ckpt}", f"hydra.run.dir={track_dir}",
                   "accelerator=cpu", f"paths.data_dir={data_dir}", f"paths.cache_dir={tmp_path / 'cache'}")
    metrics = json.loads((track_dir / "metrics.json").read_text())
    assert set(metrics["trackers"]) == {"retinatrack", "iou"}
    for name in ("retinatrack", "iou"):
        combined = metrics["trackers"][name]["combined"]
        assert combined["GT"] > 0 and combined["MOTA"] <= 1.0
        result_files = list((track_dir / name).glob("*.txt"))
        assert [p.stem for p in result_files] == ["synth_val_0000"]
        rows = read_mot_txt(result_files[0])
        assert rows.shape[1] == 8 or len(rows) == 0
    assert 0.0 <= metrics["detection"]["AP50"] <= 1.0
    record = json.loads((track_dir / "run_record.json").read_text())
    assert record["checkpoint"]["sha256"] == file_sha256(ckpt)
    assert record["datasets"][0]["split"] == "val"
    # The printed table has one row per tracker.
    assert "retinatrack" in proc.stdout and "iou" in proc.stdout and "IDF1" in proc.stdout


def test_tracker_sweep_replays_cached_detections(trained_run, data_dir, tmp_path):
    ckpt = trained_run / "checkpoints" / "last.ckpt"
    common = [f"ckpt_path={ckpt}", "accelerator=cpu", f"paths.data_dir={data_dir}", f"paths.cache_dir={tmp_path / 'cache'}"]
    first = tmp_path / "first"
    run_cli("track.py", *common, f"hydra.run.dir={first}")
    assert "detections cached in" in (first / "track.log").read_text()
    flipped = tmp_path / "flipped"  # other detections: the unflipped cache must not serve them
    run_cli("track.py", *common, f"hydra.run.dir={flipped}", "test_time_augment=hflip", "tracker=iou")
    assert "detections cached in" in (flipped / "track.log").read_text()
    sweep = tmp_path / "sweep"
    run_cli("track.py", "-m", *common, f"hydra.sweep.dir={sweep}", "tracker=iou", "tracker.min_score=0.5,0.0")
    jobs = [sweep / "0", sweep / "1"]
    for job in jobs:
        assert "detections from the cache" in (job / "track.log").read_text()  # the network never reran
        assert set(json.loads((job / "metrics.json").read_text())["trackers"]) == {"iou"}
    video = "synth_val_0000.txt"
    # same detections and tracker settings as the first run's IoU tracker -> same rows
    assert (jobs[0] / "iou" / video).read_text() == (first / "iou" / video).read_text()
    assert len(read_mot_txt(jobs[1] / "iou" / video)) > len(read_mot_txt(jobs[0] / "iou" / video))


def test_tracking_nms_thins_what_the_trackers_receive(trained_run, data_dir, tmp_path):
    common = [f"ckpt_path={trained_run / 'checkpoints' / 'last.ckpt'}", "accelerator=cpu", "tracker=iou",
              "tracker.min_score=0.0", f"paths.data_dir={data_dir}", f"paths.cache_dir={tmp_path / 'cache'}"]
    video = Path("iou") / "synth_val_0000.txt"
    run_cli("track.py", *common, f"hydra.run.dir={tmp_path / 'all'}")
    run_cli("track.py", *common, "tracking_nms_iou=0.0", f"hydra.run.dir={tmp_path / 'nms'}")
    all_rows, nms_rows = read_mot_txt(tmp_path / "all" / video), read_mot_txt(tmp_path / "nms" / video)
    assert 0 < len(nms_rows) < len(all_rows)
    # at IoU 0 no two boxes a tracker received in one frame overlap
    for frame in np.unique(nms_rows[:, 0]):
        xywh = nms_rows[nms_rows[:, 0] == frame, 2:6]
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1)
        iou = box_iou(boxes, boxes)
        assert (iou[~np.eye(len(boxes), dtype=bool)] == 0).all()


@pytest.mark.parametrize("split, videos", [("train", ["synth_train_0000", "synth_train_0001"]),
                                           ("tune", ["synth_tune_0000"])])
def test_track_split_override_evaluates_that_split(trained_run, data_dir, tmp_path, split, videos):
    track_dir = tmp_path / f"track_{split}"
    run_cli("track.py", f"ckpt_path={trained_run / 'checkpoints' / 'last.ckpt'}", f"hydra.run.dir={track_dir}",
            "accelerator=cpu", f"split={split}", "tracker=iou", f"paths.data_dir={data_dir}",
            f"paths.cache_dir={tmp_path / 'cache'}")
    record = json.loads((track_dir / "run_record.json").read_text())
    assert record["datasets"][0]["split"] == split
    assert sorted(p.stem for p in (track_dir / "iou").glob("*.txt")) == videos


def test_split_override_needs_a_val_source_with_a_split():
    from track import with_eval_split

    data = {"val_source": {"_target_": "x", "split": "val", "root": "r"}, "batch_size": 2}
    assert with_eval_split(data, "train") == {"val_source": {"_target_": "x", "split": "train", "root": "r"}, "batch_size": 2}
    assert data["val_source"]["split"] == "val"  # the checkpoint's config is not modified
    with pytest.raises(ValueError, match="val_source has no `split`"):
        with_eval_split({"val_source": {"_target_": "x"}}, "train")
