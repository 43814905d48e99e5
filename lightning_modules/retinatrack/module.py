"""LightningModule training and running RetinaTrack."""
from __future__ import annotations

from typing import Callable

import lightning as L
import torch

from datamodules.datasets import scale_boxes_to_original
from eval.coco import evaluate_coco_boxes
from lightning_modules.common.distributed import gather_dicts
from lightning_modules.retinatrack.network import RetinaTrackNet
from trackers.types import Detections


class RetinaTrackModule(L.LightningModule):
    """Trains :class:`RetinaTrackNet` on clips and predicts per-frame detections with
    one embedding each.

    Args:
        net: the network (instantiated by Hydra).
        optimizer: partial optimizer taking ``params`` (paper: momentum SGD 0.9, wd 4e-4).
        scheduler: partial LR scheduler taking ``optimizer``, stepped every step, or None.
    """

    def __init__(
        self, net: RetinaTrackNet, optimizer: Callable, scheduler: Callable | None = None
    ) -> None:
        super().__init__()
        # The partials are kept out of the checkpoint's hyperparameters so checkpoints load
        # with torch's weights_only=True; the resolved config travels in
        # checkpoint["trackzoo"] (ConfigInCheckpoint).
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.net = net
        self._val_detections: dict[int, tuple] = {}

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.net(images)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        outputs = self.net(batch["images"])
        losses = self.net.losses(outputs, batch["targets"], batch["clip_ids"])
        batch_size = len(batch["images"])
        for name, value in losses.items():  # averaged over DDP ranks
            self.log(f"train/{name}", value, prog_bar=name == "loss", batch_size=batch_size, sync_dist=True)
        return losses["loss"]

    def _detect(self, batch: dict) -> list[tuple[dict, Detections]]:
        """Detections per frame of a batch, boxes in original image pixels."""
        outputs = self.net.inference_outputs(batch["images"])
        detections = self.net.detect(outputs, tuple(batch["images"].shape[-2:]))
        frames = []
        for meta, det in zip(batch["meta"], detections):
            boxes = scale_boxes_to_original(det["boxes"].cpu().numpy(), meta["size"], meta["orig_size"])
            embeddings = det["embeddings"].cpu().numpy() if "embeddings" in det else None
            frames.append((meta, Detections(boxes, det["scores"].cpu().numpy(), det["labels"].cpu().numpy(), embeddings)))
        return frames

    def on_validation_epoch_start(self) -> None:
        self._val_detections = {}

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        for meta, det in self._detect(batch):
            self._val_detections[meta["image_id"]] = (det.boxes, det.scores, det.labels)

    def on_validation_epoch_end(self) -> None:
        """COCO box AP of the whole evaluation split: under DDP each rank detected a shard
        of it, so the ranks' detections are gathered first and every rank computes the same
        metrics (``sync_dist`` averages equal values: it only tells Lightning they agree)."""
        detections = gather_dicts(self._val_detections)
        metrics = evaluate_coco_boxes(self.trainer.datamodule.val_index, detections)
        for name in ("AP", "AP50", "AP75"):
            self.log(f"val/{name}", float(metrics[name]), prog_bar=name == "AP50", sync_dist=True)

    def predict_step(self, batch: dict, batch_idx: int) -> list[dict]:
        """One dict per frame: ``video``, ``frame_index``, ``image_id``, ``detections``."""
        return [
            {"video": m["video"], "frame_index": m["frame_index"], "image_id": m["image_id"], "detections": d}
            for m, d in self._detect(batch)
        ]

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
