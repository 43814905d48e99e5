"""Lightning callbacks shared by every model."""
from __future__ import annotations

import lightning as L


class ConfigInCheckpoint(L.Callback):
    """Stores the resolved model and data configs (and the code version) in every
    checkpoint under ``checkpoint["trackzoo"]``, so a checkpoint alone rebuilds its model.
    """

    def __init__(self, model: dict, data: dict, git: dict) -> None:
        self.payload = {"model": model, "data": data, "git": git}

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint["trackzoo"] = self.payload
