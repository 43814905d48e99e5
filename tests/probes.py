"""Test-only callbacks that Hydra adds to a train.py run
(``+callbacks.<key>._target_=tests.probes.<Class>``, see :func:`launching.callback_args`):
they record what the run's processes did, or stop the run."""
from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path
from typing import Iterable

import lightning as L
import torch

from lightning_modules.common.distributed import gather_dicts


def parameter_digest(named_tensors: Iterable[tuple[str, torch.Tensor]]) -> str:
    """SHA-256 of tensors' bytes, in name order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(named_tensors, key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class RankReport(L.Callback):
    """Writes ``<out_dir>/rank<global rank>.json`` at the end of fit: the world size, a
    digest of the parameters, and how many validation frames this rank detected and how
    many the ranks detected together."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)
        self.val_frames: dict[str, int] = {}

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        local = pl_module._val_detections
        self.val_frames = {"local": len(local), "gathered": len(gather_dicts(local))}

    def on_fit_end(self, trainer, pl_module) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        report = {
            "world_size": trainer.world_size, "pid": os.getpid(),
            "params": parameter_digest(pl_module.named_parameters()),
            "param_names": [name for name, _ in pl_module.named_parameters()],
            "val_frames": self.val_frames,
        }
        (self.out_dir / f"rank{trainer.global_rank}.json").write_text(json.dumps(report))


class SignalAtStep(L.Callback):
    """Sends the signal ``name`` (e.g. SIGTERM) to its own process at the start of the
    batch that follows ``step`` finished optimizer steps."""

    def __init__(self, step: int, name: str) -> None:
        self.step, self.signum = step, signal.Signals[name]

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)
