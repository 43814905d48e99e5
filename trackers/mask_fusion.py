"""ReMOTS §2.1: fusing the instance masks of several detectors with IoM NMS.

IoM (intersection over minimum) = ``|A ∩ B| / min(|A|, |B|)``: a mask lying inside a larger
one has IoM 1 however small it is (its IoU can be tiny), so NMS on IoM removes such
fragments. After NMS every pixel claimed by several masks is kept only by the
highest-scoring one ("we only keep the mask with the top confident score for each
overlapping area"); masks left empty are dropped and boxes are recomputed from the masks.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from pycocotools import mask as mask_utils

from trackers.detection_sources import concatenate_detections
from trackers.matching import greedy_nms, mask_iou
from trackers.types import Detections

__all__ = ["exclusive_masks", "fuse_mask_detections", "iom_nms", "mask_iom"]


def mask_iom(a: Sequence[dict], b: Sequence[dict]) -> np.ndarray:
    """``(N, M)`` intersection over the smaller area of two lists of COCO RLE masks (0 when
    either mask is empty)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    iou = mask_iou(a, b)
    area_a = mask_utils.area(list(a)).astype(np.float64)[:, None]
    area_b = mask_utils.area(list(b)).astype(np.float64)[None, :]
    intersection = iou * (area_a + area_b) / (1.0 + iou)  # from IoU = I / (A + B - I)
    smaller = np.minimum(area_a, area_b)
    return np.divide(intersection, smaller, out=np.zeros_like(intersection), where=smaller > 0)


def iom_nms(masks: Sequence[dict], scores: np.ndarray, iom_threshold: float) -> np.ndarray:
    """Greedy NMS on IoM: visiting masks by descending score, keep a mask unless its IoM
    with an already kept mask exceeds ``iom_threshold``. Returns kept indices, ascending."""
    return greedy_nms(mask_iom(masks, masks), scores, iom_threshold)


def exclusive_masks(masks: Sequence[dict], scores: np.ndarray) -> list[dict]:
    """Give every pixel covered by several masks to the highest-scoring one only."""
    if len(masks) == 0:
        return []
    binary = mask_utils.decode(list(masks)).astype(bool)  # (H, W, N)
    taken = np.zeros(binary.shape[:2], bool)
    for i in np.argsort(-np.asarray(scores), kind="stable").tolist():
        binary[..., i] &= ~taken
        taken |= binary[..., i]
    return mask_utils.encode(np.asfortranarray(binary.astype(np.uint8)))


def fuse_mask_detections(sources: Sequence[Detections], iom_threshold: float) -> Detections:
    """Fuse one frame's detections of several detectors (each with ``masks``): IoM NMS over
    all of them, then exclusive pixels. Rows keep source order; boxes come from the masks."""
    dets = concatenate_detections(sources)
    if len(dets) == 0:
        return dets
    if dets.masks is None:
        raise ValueError("mask fusion needs Detections.masks")
    dets = dets.select(iom_nms(dets.masks, dets.scores, iom_threshold))
    masks = exclusive_masks(dets.masks, dets.scores)
    dets.masks = masks
    dets = dets.select(mask_utils.area(masks) > 0)
    xywh = mask_utils.toBbox(dets.masks).reshape(-1, 4) if len(dets) else np.zeros((0, 4))
    dets.boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1).astype(np.float32)
    return dets
