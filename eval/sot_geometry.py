"""Frame-by-frame box comparisons for single-object tracking.

All functions take paired ``(N, 4)`` arrays of ``x, y, w, h`` boxes (row ``i`` of one
against row ``i`` of the other) and return ``(N,)`` float64.

Conventions (those of the OTB, LaSOT and GOT-10k toolkits):
- IoU is continuous: the intersection of ``[x, x + w) x [y, y + h)``. The MATLAB
  toolkits' ``+1/-1`` pixel arithmetic reduces to the same number.
- The centre is ``(x + w / 2, y + h / 2)``. The toolkits use ``x + (w - 1) / 2``; the
  ``-1/2`` cancels in every difference of centres, so the errors are identical.
- IoU is clipped to [0, 1] (rounding can push equal boxes to ``1 + 2e-16``, which would
  pass the success plot's ``> 1`` threshold).
- A NaN box (a prediction that reports "absent") has IoU 0 and centre error ``inf``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["center_error", "clip_boxes_got10k", "iou", "normalized_center_error"]


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of paired boxes; 0 where a box is NaN or the union is empty."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    lo = np.maximum(a[:, :2], b[:, :2])
    hi = np.minimum(a[:, :2] + a[:, 2:], b[:, :2] + b[:, 2:])
    wh = np.clip(hi - lo, 0, None)
    inter = wh[:, 0] * wh[:, 1]
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    valid = np.isfinite(union) & (union > 0)
    # clipped: for equal boxes (x + w) - x can round above w, giving 1 + 2e-16
    return np.clip(np.divide(inter, union, out=np.zeros(len(a)), where=valid), 0.0, 1.0)


def _center_offsets(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    return (pred[:, :2] + pred[:, 2:] / 2) - (gt[:, :2] + gt[:, 2:] / 2)


def center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distance between box centres in pixels; ``inf`` where a box is NaN."""
    err = np.hypot(*_center_offsets(pred, gt).T)
    return np.where(np.isnan(err), np.inf, err)


def normalized_center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """LaSOT's normalised centre error: the centre offset divided by the ground-truth size,
    ``sqrt((dx / w_gt)^2 + (dy / h_gt)^2)`` (unitless); ``inf`` where a box is NaN."""
    gt = np.asarray(gt, np.float64)
    err = np.hypot(*(_center_offsets(pred, gt) / gt[:, 2:]).T)
    return np.where(np.isnan(err), np.inf, err)


def clip_boxes_got10k(boxes: np.ndarray, image_size: tuple[float, float]) -> np.ndarray:
    """Clamp boxes into a ``(width, height)`` image the way the GOT-10k toolkit does before
    its IoU: the corner is clamped into the image, then the size is clamped to what fits
    from that corner. (This shifts a box that starts left of/above the image rather than
    cutting it.) NaN rows stay NaN."""
    width, height = image_size
    out = np.array(boxes, np.float64, copy=True).reshape(-1, 4)
    out[:, 0] = np.clip(out[:, 0], 0, width)
    out[:, 1] = np.clip(out[:, 1], 0, height)
    out[:, 2] = np.clip(out[:, 2], 0, width - out[:, 0])
    out[:, 3] = np.clip(out[:, 3], 0, height - out[:, 1])
    return out
