"""Lightning callbacks shared by every model."""
from __future__ import annotations

import random
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

from datamodules.resumable import derived_seed


class ConfigInCheckpoint(L.Callback):
    """Stores the resolved model and data configs (and the code version) in every
    checkpoint under ``checkpoint["trackzoo"]``, so a checkpoint alone rebuilds its model.
    """

    def __init__(self, model: dict, data: dict, git: dict) -> None:
        self.payload = {"model": model, "data": data, "git": git}

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint["trackzoo"] = self.payload


class StepSeed(L.Callback):
    """Seeds torch, numpy and ``random`` before every training step from ``(seed, epoch,
    batch index, rank)``, so what a step draws at random (e.g. the sampled triplets) does
    not depend on what ran before it: a run resumed mid-epoch draws what the
    uninterrupted run drew."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        seed = derived_seed(self.seed, trainer.current_epoch, batch_idx, trainer.global_rank)
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)


class LastCheckpoint(ModelCheckpoint):
    """``<dirpath>/last.ckpt``, what ``resume=auto`` continues from: written every
    ``every_n_train_steps`` steps, when training ends, and when Lightning stops the job on
    SIGTERM (it finishes the step in progress first, so the file holds a step boundary).

    One file, replaced in place (no ``last-v1.ckpt``); the trainer's checkpoint plugin
    decides how it is written (:class:`~lightning_modules.common.checkpoint_io.AtomicCheckpointIO`).
    """

    def __init__(self, dirpath: str, every_n_train_steps: int) -> None:
        super().__init__(dirpath=dirpath, save_top_k=0, save_last=True,
                         every_n_train_steps=every_n_train_steps, enable_version_counter=False)

    @property
    def path(self) -> Path:
        return Path(self.dirpath) / f"{self.CHECKPOINT_NAME_LAST}{self.FILE_EXTENSION}"

    def _save_last_if_new(self, trainer) -> None:
        if not self._should_skip_saving_checkpoint(trainer):  # fast_dev_run, or saved at this step
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_train_end(self, trainer, pl_module) -> None:
        self._save_last_if_new(trainer)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if isinstance(exception, SIGTERMException):
            self._save_last_if_new(trainer)
