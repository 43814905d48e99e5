"""Shared fixtures: a tiny synthetic world, and helpers composing the real Hydra configs
or running the real entry points on it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

import lightning_modules.common.precision  # noqa: F401  (the configs' ${bf16_if_native:} resolver)

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
os.environ.setdefault("TRACKZOO_ROOT", str(REPO))
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

TINY_WORLD = [
    "data.train_sources.synthetic.world.num_videos={train: 2, val: 1, tune: 1}",
    "data.train_sources.synthetic.world.frames_per_video=10",
]


def tiny_overrides(data_dir: Path, output_dir: Path | None = None) -> list[str]:
    """Overrides that point a run at the tiny world and keep it small and single-process."""
    overrides = [
        f"paths.data_dir={data_dir}", *TINY_WORLD, "data.num_workers=0", "data.batch_size=2",
        "data.eval_batch_size=4", "~callbacks.progress_bar",
        "data.batches_per_epoch=null",  # an epoch is one pass over the tiny world
    ]
    if output_dir is not None:
        overrides.append(f"paths.output_dir={output_dir}")
    return overrides


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """Data folder holding the tiny synthetic world, generated once per session."""
    from datamodules.synthetic import SyntheticWorldConfig, ensure_world

    root = tmp_path_factory.mktemp("data")
    ensure_world(
        SyntheticWorldConfig(num_videos={"train": 2, "val": 1, "tune": 1}, frames_per_video=10),
        root / "synthetic", progress=False,
    )
    return root


def compose_train(overrides: list[str]) -> DictConfig:
    """Compose conf/train.yaml as ``python train.py <overrides>`` would (pass
    ``paths.output_dir=...`` to run it: there is no Hydra run directory here)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides, return_hydra_config=True)
    HydraConfig().set_config(cfg)
    with open_dict(cfg):  # the task function of @hydra.main never sees the hydra node
        del cfg["hydra"]
    return cfg


def run_cli(script: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python <script> <args>`` from the repo root; fail with its output if it fails."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, script, *args], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{script} {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc
