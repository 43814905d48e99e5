"""Preparing one frame's detections for a tracker: joining the detections of several
detectors (sources), and class-agnostic NMS.

Source ``s``'s row ``i`` becomes row ``offsets[s] + i`` of the joined detections, with
``offsets = [0, len(source_0), len(source_0) + len(source_1), ...]``: trackers that take
several sources report ``det_indices`` into this concatenation.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from trackers.matching import box_iou, greedy_nms
from trackers.types import Detections

__all__ = ["class_agnostic_nms", "concatenate_detections"]


def concatenate_detections(parts: Sequence[Detections]) -> Detections:
    """Rows of ``parts`` one after the other (source order).

    Embeddings (masks) are kept when every non-empty part has them; they must then have one
    dimension. Raises ``ValueError`` when only some non-empty parts carry them.
    """
    if not parts:
        raise ValueError("concatenate_detections needs at least one Detections")
    filled = [p for p in parts if len(p)]
    embeddings = masks = None
    if filled and any(p.embeddings is not None for p in filled):
        if any(p.embeddings is None for p in filled):
            raise ValueError("some sources have embeddings and others not")
        embeddings = np.concatenate([p.embeddings for p in filled])
    if filled and any(p.masks is not None for p in filled):
        if any(p.masks is None for p in filled):
            raise ValueError("some sources have masks and others not")
        masks = [m for p in filled for m in p.masks]
    return Detections(
        boxes=np.concatenate([p.boxes for p in parts]),
        scores=np.concatenate([p.scores for p in parts]),
        labels=np.concatenate([p.labels for p in parts]),
        embeddings=embeddings,
        masks=masks,
    )


def class_agnostic_nms(dets: Detections, iou_threshold: float) -> Detections:
    """The rows of ``dets`` that survive NMS across labels, in their original order.

    A multi-class detector with per-class sigmoids (RetinaNet, RetinaTrack) can report one
    object under several labels (class-wise NMS keeps them all); a tracker would then see
    two objects. Greedily from the highest score, a row is dropped when a kept row of any
    label overlaps it with box IoU ``> iou_threshold`` (torchvision's ``nms`` rule).
    Embeddings and masks follow their rows.
    """
    return dets.select(greedy_nms(box_iou(dets.boxes, dets.boxes), dets.scores, iou_threshold))
