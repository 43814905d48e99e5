"""Running train.py in tests as a job that is distributed, stopped or restarted: the
arguments of a tiny run, starting and waiting for its processes, and adding test-only
callbacks (:mod:`probes`)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, tiny_overrides

# 2 train videos x 10 frames, clip stride 2 -> 16 clips -> 8 steps per epoch at batch 2.
STEPS_PER_EPOCH = 8


def tiny_run_args(data_dir: Path, *extra: str) -> list[str]:
    """RetinaTrack narrowed to 80 K parameters, on the tiny world (a step takes ~0.1 s)."""
    return [
        "experiment=retinatrack", *tiny_overrides(data_dir), "model.channels=16", "model.embedding_dim=16",
        "model.backbone.widths=[8,16,16,16]", "model.backbone.out_channels=16",
        "model.module.scheduler.warmup_steps=4", "model.module.scheduler.cosine_steps=12",
        "trainer.log_every_n_steps=1", *extra,
    ]


def start_train(*args: str, env: dict | None = None) -> subprocess.Popen:
    """``python train.py <args>`` from the repo root, in the background."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen([sys.executable, "train.py", *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen, expected: int = 0, timeout: int = 300) -> None:
    """Wait for ``proc``; fail with its output unless it exited with ``expected``."""
    output, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == expected, f"exit code {proc.returncode}, expected {expected}:\n{output[-6000:]}"


def callback_args(key: str, target: type, **kwargs) -> list[str]:
    """Overrides adding ``target(**kwargs)`` to the run's callbacks under ``key``."""
    return [f"+callbacks.{key}._target_=tests.probes.{target.__name__}",
            *(f"+callbacks.{key}.{arg}={value}" for arg, value in kwargs.items())]
