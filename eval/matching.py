"""Overlaps of boxes and the one-frame assignment rules of the MOT evaluators.

Boxes are MOTChallenge ``x, y, w, h`` float arrays of shape ``(N, 4)`` (pixels, top-left
corner and size). Similarity matrices are ``(G, D)``: rows = ground truth, columns =
tracker detections.

The IoU is computed with the same floating-point operations, in the same order, as
TrackEval, so thresholds that fall exactly on a boundary (IoU 0.5 of integer boxes) decide
alike.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "EPS",
    "box_ioa",
    "box_iou",
    "match_max_count_min_distance",
    "match_max_similarity",
]

EPS = float(np.finfo(float).eps)


def _corners(xywh: np.ndarray) -> np.ndarray:
    boxes = np.array(xywh, np.float64).reshape(-1, 4)
    boxes[:, 2:] += boxes[:, :2]
    return boxes


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, M)`` intersection areas of ``x0, y0, x1, y1`` boxes."""
    width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return np.maximum(width, 0) * np.maximum(height, 0)


def _area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(gt_xywh: np.ndarray, tracker_xywh: np.ndarray) -> np.ndarray:
    """Pairwise IoU ``(G, D)`` in ``[0, 1]``; a zero-area box has IoU 0 with everything."""
    a, b = _corners(gt_xywh), _corners(tracker_xywh)
    inter = _intersection(a, b)
    area_a, area_b = _area(a), _area(b)
    union = area_a[:, None] + area_b[None, :] - inter
    inter[area_a <= EPS, :] = 0
    inter[:, area_b <= EPS] = 0
    inter[union <= EPS] = 0
    union[union <= EPS] = 1
    return inter / union


def box_ioa(boxes_xywh: np.ndarray, regions_xywh: np.ndarray) -> np.ndarray:
    """``(N, R)`` fraction of each box's area that lies inside each region (0 for zero-area boxes)."""
    a, b = _corners(boxes_xywh), _corners(regions_xywh)
    inter = _intersection(a, b)
    area = _area(a)
    out = np.zeros_like(inter)
    ok = area > EPS
    out[ok] = inter[ok] / area[ok, None]
    return out


def match_max_similarity(similarity: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """TrackEval's rule: the assignment maximising the summed similarity over the pairs
    with ``similarity >= threshold`` (to float eps). Returns ``(rows, cols)`` int arrays."""
    score = np.where(similarity < threshold - EPS, 0.0, similarity)
    rows, cols = linear_sum_assignment(-score)
    keep = score[rows, cols] > EPS
    return rows[keep], cols[keep]


def match_max_count_min_distance(distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """motmetrics' rule: the most pairs with a finite ``distance`` (NaN = not matchable),
    and among those the smallest total distance.

    Invalid pairs get motmetrics' finite stand-in cost (``2 r c + 1`` with ``r`` the smaller
    side and ``c`` one more than the largest valid cost), so that scipy sees the same matrix
    as motmetrics' scipy solver and breaks ties alike.
    """
    valid = np.isfinite(distance)
    if not valid.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    c = np.abs(distance[valid]).max() + 1
    cost = np.where(valid, distance, 2 * min(distance.shape) * c + 1)
    rows, cols = linear_sum_assignment(cost)
    keep = valid[rows, cols]
    return rows[keep], cols[keep]
