"""The real Hydra configs: every experiment runs, and overrides change what is built."""
from __future__ import annotations

import math
import subprocess
import time

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from conftest import CONF, compose_train, tiny_overrides
from train import build_callbacks, build_loggers, train

EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


def test_experiments_are_discovered():
    assert {"retinatrack", "retinatrack_no_triplet", "retinanet_star", "retinanet_k1", "retinanet"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("experiment", EXPERIMENTS + [None])
def test_experiment_fast_dev_run(experiment, data_dir, tmp_path):
    overrides = ["debug=fast_dev_run", *tiny_overrides(data_dir, tmp_path)]
    if experiment is not None:
        overrides.insert(0, f"experiment={experiment}")
    else:  # the paper-sized default (ResNet-50, 256 channels), shrunk only in width
        overrides += ["model.backbone.depth=18", "model.channels=32", "model.embedding_dim=32"]
    cfg = compose_train(overrides)
    metric = train(cfg)
    assert metric is not None and 0.0 <= metric <= 1.0


def test_model_overrides_change_the_built_network():
    cfg = compose_train(["experiment=retinatrack", "model.m1=2", "model.m2=2", "model.m3=3",
                         "model.anchor_scales=[1.0]", "model.embedding_dim=24"])
    net = instantiate(cfg.model.module.net)
    assert len(net.head.shared) == 2
    assert len(net.head.cls_tower) == 2 and len(net.head.box_tower) == 2
    assert len(net.head.emb_tower) == 3
    assert net.num_anchors == 3 and net.head.shared.convs[0].out_channels == 3 * cfg.model.channels
    assert net.embedding_dim == 24
    default = instantiate(compose_train(["experiment=retinatrack"]).model.module.net)
    assert len(default.head.shared) == 1 and default.num_anchors == 6  # the CPU experiment's m1


def test_a_callback_set_to_null_is_switched_off():
    def names(*overrides):
        return {type(c).__name__ for c in build_callbacks(compose_train(["experiment=retinatrack", *overrides]))}

    assert "RichProgressBar" in names()
    left = names("callbacks.progress_bar=null")
    assert "RichProgressBar" not in left and "LearningRateMonitor" in left


def test_a_logger_set_to_null_is_switched_off(tmp_path):
    def names(*overrides):
        cfg = compose_train(["logger=many", f"paths.output_dir={tmp_path}", *overrides])
        return {type(logger).__name__ for logger in build_loggers(cfg)}

    assert {"CSVLogger", "TensorBoardLogger"} <= names("logger.wandb=null")
    assert "WandbLogger" not in names("logger.wandb=null")
    assert names("logger.wandb=null", "logger.tensorboard=null") == {"CSVLogger"}


def test_colour_jitter_override_reaches_the_training_transform(data_dir):
    def jitters(*overrides):
        dm = instantiate(compose_train(["experiment=retinatrack", f"data.root={data_dir}", *overrides]).data)
        dm.setup("fit")
        steps = dm.train_dataset().datasets[0].transform.transform.transforms
        return [t for t in steps if type(t).__name__ == "ColorJitter"]

    (jitter,) = jitters()
    assert jitter.hue == (-0.5, 0.5)
    assert jitters("data.augment.color_jitter=null") == []


def test_paper_defaults_without_experiment():
    cfg = compose_train([])
    m = cfg.model
    assert (m.m1, m.m2, m.m3, m.per_anchor, m.embedding_dim) == (3, 1, 2, True, 256)
    assert len(m.anchor_scales) * len(m.aspect_ratios) == 6
    loss = m.module.net.loss
    assert (loss.fg_iou, loss.id_iou, loss.focal_alpha, loss.focal_gamma) == (0.5, 0.7, 0.25, 2.0)
    assert (loss.triplet_margin, loss.num_triplets) == (0.1, 64)
    opt, sched = m.optimizer, m.module.scheduler
    assert (opt.lr, opt.momentum, opt.weight_decay) == (0.001, 0.9, 0.0004)
    assert (sched.warmup_steps, sched.cosine_steps) == (1000, 9000)
    assert m.backbone._target_.endswith("ResNetFPN") and m.backbone.depth == 50
    assert (cfg.data.clip_stride, cfg.data.frames_per_clip) == (8, 2)


def test_data_override_changes_the_datamodule(data_dir):
    cfg = compose_train(["experiment=retinatrack", *tiny_overrides(data_dir), "data.clip_stride=3"])
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    clips = datamodule.train_dataloader().dataset.datasets[0]
    assert clips.stride == 3
    video, start = clips.items[0]
    sample = clips[0]
    assert [f["frame_index"] for f in sample] == [video.frames[start].frame_index, video.frames[start + 3].frame_index]


def test_tracker_overrides_change_the_built_tracker():
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("track", overrides=["ckpt_path=x", "trackers.retinatrack.max_age=7",
                                          "trackers.iou.iou_threshold=0.45"])
    retina = instantiate(cfg.trackers.retinatrack)
    iou = instantiate(cfg.trackers.iou)
    assert retina.max_age == 7 and math.isclose(iou.iou_threshold, 0.45)
    assert type(retina).__name__ == "RetinaTrackTracker" and type(iou).__name__ == "IoUTracker"


def test_unknown_world_key_is_rejected(data_dir):
    cfg = compose_train([*tiny_overrides(data_dir), "+data.train_sources.synthetic.world.no_such_knob=1"])
    datamodule = instantiate(cfg.data)
    with pytest.raises(TypeError, match="no_such_knob"):
        datamodule.setup("fit")


def test_configured_world_is_the_one_make_data_builds():
    """`make data` (the generator's defaults) and `data=synthetic` describe one world, so
    training after `make data` finds it current instead of rebuilding it."""
    from datamodules.synthetic import SyntheticWorldConfig

    world = compose_train(["experiment=retinatrack"]).data.train_sources.synthetic.world
    assert SyntheticWorldConfig.from_dict(dict(world)) == SyntheticWorldConfig()
    assert list(world.num_videos) == ["train", "val", "tune"]


@pytest.mark.parametrize("avx512_bf16, amx, expected", [
    (True, False, "bf16-mixed"), (False, True, "bf16-mixed"), (False, False, "32-true"),
])
def test_cpu_experiment_trains_in_bf16_only_where_the_cpu_computes_it(monkeypatch, avx512_bf16, amx, expected):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    cfg = compose_train(["experiment=retinatrack"])
    assert cfg.trainer.precision == expected
    assert instantiate(cfg.trainer, logger=False, enable_checkpointing=False).precision == expected


def test_gpu_run_of_the_cpu_experiment_asks_the_gpu(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    # a pre-Ampere GPU: bf16 only by emulation
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert compose_train(["experiment=retinatrack", "trainer=gpu"]).trainer.precision == "32-true"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    assert compose_train(["experiment=retinatrack", "trainer=gpu"]).trainer.precision == "bf16-mixed"
    with pytest.raises(ValueError, match="unknown accelerator 'tpu'"):
        compose_train(["experiment=retinatrack", "trainer.accelerator=tpu"]).trainer.precision


def make_demo_commands(start: int) -> tuple[int, list[str], list[str]]:
    """``make -n demo`` as if started at ``start`` (epoch seconds): the training budget the
    shell computes now, and the train.py and track.py arguments."""
    lines = subprocess.run(["make", "-n", "demo", f"DEMO_START={start}", "PY=python"], cwd=CONF.parent,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("budget="))
    budget = subprocess.run(["sh", "-c", lines[at].rstrip("\\") + ' echo "$budget"'],
                            capture_output=True, text=True, check=True).stdout.split()[-1]
    track = next(line for line in lines if "track.py" in line)
    return int(budget), lines[at + 1].split(), track.split()


def test_make_demo_gives_training_the_time_left_and_its_commands_compose():
    budget, train_args, track_args = make_demo_commands(int(time.time()))
    assert 1040 <= budget <= 1050  # DEMO_TRAIN_UNTIL_S after a start that is now
    assert make_demo_commands(1000)[0] == 60  # a start long past: the floor
    assert train_args[:3] == ["python", "train.py", "experiment=retinatrack"]
    cfg = compose_train([a.replace("$budget", str(budget)) for a in train_args[2:] if not a.startswith("hydra.")])
    assert cfg.time_budget_s == budget
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("track", overrides=[a for a in track_args[2:] if not a.startswith("hydra.")])
    assert cfg.test_time_augment == "dihedral"
    assert instantiate(cfg.trackers.retinatrack).max_age == 1
