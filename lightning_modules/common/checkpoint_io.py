"""Checkpoint files that are never half written."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins import TorchCheckpointIO


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes ``<path>.partial`` in the checkpoint's own directory, flushes it to disk and
    renames it over ``<path>``: a job killed while saving leaves the previous checkpoint
    whole. (Lightning's default writes a temporary file in the system temp directory and
    moves it, which is a copy, not an atomic rename, when the run directory is on another
    file system, as it often is on clusters.) Local paths only.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options, got {storage_options!r}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
