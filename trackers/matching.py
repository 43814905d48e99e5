"""Shared building blocks of online trackers: box/mask IoU, cosine similarity, assignments,
non-maximum suppression.

Everything here is vectorised numpy (plus scipy for the Hungarian algorithm and
pycocotools for RLE masks); no torch.

Conventions
- Boxes are ``x1, y1, x2, y2`` float arrays of shape ``(N, 4)``.
- Masks are COCO RLE dicts (``{"size": [h, w], "counts": ...}``), as in ``Detections.masks``.
- A *score* matrix is "higher is better", a *cost* matrix "lower is better"; both are
  ``(N, M)`` with rows = tracks (or any first set) and columns = detections.
- A ``valid`` mask of shape ``(N, M)`` (bool) marks the pairs that may be matched (gating);
  ``None`` means every finite entry is valid. Non-finite scores/costs are never matched.
- Assignments return ``(rows, cols)``: two int64 arrays of equal length ``K`` giving the
  matched pairs ``(rows[k], cols[k])``; every row and every column appears at most once.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from pycocotools import mask as mask_utils
from scipy.optimize import linear_sum_assignment

__all__ = [
    "box_iou",
    "paired_box_iou",
    "cosine_similarity",
    "greedy_assignment",
    "greedy_nms",
    "hungarian_assignment",
    "low_score_association",
    "mask_iou",
    "unit_rows",
    "unmatched",
]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection-over-union of two sets of ``x1, y1, x2, y2`` boxes.

    Args:
        a: ``(N, 4)`` boxes.
        b: ``(M, 4)`` boxes.

    Returns:
        ``(N, M)`` float64 IoU in ``[0, 1]``. Degenerate (zero-area) boxes have IoU 0 with
        everything, including themselves.
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    return _iou(a[:, None, :], b[None, :, :])


def paired_box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of each box ``a[k]`` with ``b[k]``: ``(K, 4)``, ``(K, 4)`` -> ``(K,)`` float64
    (as :func:`box_iou`, for a chosen list of pairs)."""
    return _iou(np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4))


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of broadcastable ``(..., 4)`` box arrays, per coordinate to avoid 4-wide temporaries."""
    iw = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    ih = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.maximum(iw, 0.0, out=iw) * np.maximum(ih, 0.0, out=ih)
    area_a = np.maximum(a[..., 2] - a[..., 0], 0.0) * np.maximum(a[..., 3] - a[..., 1], 0.0)
    area_b = np.maximum(b[..., 2] - b[..., 0], 0.0) * np.maximum(b[..., 3] - b[..., 1], 0.0)
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def mask_iou(a: Sequence[dict], b: Sequence[dict]) -> np.ndarray:
    """Pairwise intersection-over-union of two lists of COCO RLE masks.

    Args:
        a: N RLE dicts.
        b: M RLE dicts, all of the same image size as ``a``.

    Returns:
        ``(N, M)`` float64 IoU in ``[0, 1]``; empty masks have IoU 0 with everything.
    """
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float64)
    iou = mask_utils.iou(list(a), list(b), [0] * len(b))
    return np.asarray(iou, np.float64).reshape(len(a), len(b))


def cosine_similarity(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Pairwise cosine similarity of two sets of vectors after L2 normalisation.

    Args:
        a: ``(N, D)`` vectors.
        b: ``(M, D)`` vectors.
        eps: norms below ``eps`` are treated as zero vectors.

    Returns:
        ``(N, M)`` float64 in ``[-1, 1]``. A zero vector has similarity 0 with everything
        (it is neither similar nor dissimilar), never NaN. When both inputs are float32
        (as ``Detections.embeddings``) the product is computed in float32 (about 2x
        faster; error ~1e-7).
    """
    dtype = np.result_type(np.asarray(a).dtype, np.asarray(b).dtype, np.float32)
    a = np.asarray(a, dtype)
    b = np.asarray(b, dtype)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"cosine_similarity needs (N, D) and (M, D) arrays, got {a.shape} and {b.shape}")
    cos = (unit_rows(a, eps) @ unit_rows(b, eps).T).astype(np.float64)
    return np.minimum(np.maximum(cos, -1.0, out=cos), 1.0, out=cos)


def unit_rows(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows of a float ``(N, D)`` array scaled to unit L2 norm, same dtype; rows with norm
    ``<= eps`` become zero. Row ``k`` of the result depends on ``x[k]`` only, so rows
    normalised once can be stored and reused (as :func:`cosine_similarity` would compute)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > eps)


def _valid_mask(matrix: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    mask = np.isfinite(matrix)
    if valid is not None:
        valid = np.asarray(valid, bool)
        if valid.shape != matrix.shape:
            raise ValueError(f"valid mask shape {valid.shape} != matrix shape {matrix.shape}")
        mask &= valid
    return mask


def greedy_assignment(
    score: np.ndarray, valid: np.ndarray | None = None, min_score: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy bipartite matching: repeatedly take the highest-scoring valid pair.

    All valid pairs are sorted by score (descending; ties broken by row, then column
    index) and a pair is accepted when neither its row nor its column is taken yet.

    Args:
        score: ``(N, M)`` similarity, higher is better.
        valid: ``(N, M)`` bool gating mask, or ``None`` (all finite entries valid).
        min_score: pairs with ``score < min_score`` are invalid too (``None``: no floor).

    Returns:
        ``(rows, cols)`` int64 arrays of length ``K <= min(N, M)``, in acceptance order
        (descending score).
    """
    score = np.asarray(score, np.float64)
    if score.ndim != 2:
        raise ValueError(f"score must be (N, M), got shape {score.shape}")
    mask = _valid_mask(score, valid)
    if min_score is not None:
        mask &= score >= min_score
    # valid pairs in row-major order, so a stable sort keeps the (row, col) tie order
    # (flatnonzero + divmod: several times faster than a 2-D nonzero)
    r, c = np.divmod(np.flatnonzero(mask), mask.shape[1])
    order = np.argsort(-score[r, c], kind="stable")
    r, c = r[order], c[order]
    row_free = np.ones(score.shape[0], bool)
    col_free = np.ones(score.shape[1], bool)
    rows, cols = [], []
    budget = min(score.shape)
    for i, j in zip(r.tolist(), c.tolist()):
        if row_free[i] and col_free[j]:
            row_free[i] = col_free[j] = False
            rows.append(i)
            cols.append(j)
            if len(rows) == budget:
                break
    return np.asarray(rows, np.int64), np.asarray(cols, np.int64)


def hungarian_assignment(
    cost: np.ndarray, valid: np.ndarray | None = None, max_cost: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost bipartite matching (``scipy.optimize.linear_sum_assignment``).

    Invalid pairs get a cost larger than any valid assignment could total, so the solver
    only uses them when a row/column cannot be matched otherwise; they are dropped after.
    This yields the minimum-cost matching among those with the most valid pairs. Rows and
    columns without any valid pair are left out of the solve (same result, less work).

    Args:
        cost: ``(N, M)`` cost, lower is better.
        valid: ``(N, M)`` bool gating mask, or ``None`` (all finite entries valid).
        max_cost: pairs with ``cost > max_cost`` are invalid too (``None``: no ceiling).

    Returns:
        ``(rows, cols)`` int64 arrays of length ``K <= min(N, M)``, sorted by row.
    """
    cost = np.asarray(cost, np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be (N, M), got shape {cost.shape}")
    mask = _valid_mask(cost, valid)
    if max_cost is not None:
        mask &= cost <= max_cost
    live_rows = np.flatnonzero(mask.any(axis=1))
    live_cols = np.flatnonzero(mask.any(axis=0))
    if len(live_rows) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cost, mask = cost[np.ix_(live_rows, live_cols)], mask[np.ix_(live_rows, live_cols)]
    finite = cost[mask]
    span = float(finite.max() - finite.min()) + 1.0
    big = float(finite.max()) + span * (min(cost.shape) + 1)
    rows, cols = linear_sum_assignment(np.where(mask, cost, big))
    keep = mask[rows, cols]
    return live_rows[rows[keep]].astype(np.int64), live_cols[cols[keep]].astype(np.int64)


def greedy_nms(overlap: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression on a precomputed ``(N, N)`` overlap matrix (box IoU,
    mask IoM, ...): visiting rows by descending ``scores (N,)`` (ties: lower index first),
    keep a row unless its overlap with an already kept row exceeds ``threshold``.
    Returns the kept indices, int64, ascending."""
    suppressed = np.zeros(len(scores), bool)
    keep = []
    for i in np.argsort(-np.asarray(scores), kind="stable").tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= overlap[i] > threshold
    return np.sort(np.asarray(keep, np.int64))


def low_score_association(
    track_boxes: np.ndarray, track_labels: np.ndarray, matches: tuple[np.ndarray, np.ndarray],
    det_boxes: np.ndarray, det_labels: np.ndarray, low: np.ndarray, iou_threshold: float,
    class_aware: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """ByteTrack's second association (Zhang et al., ECCV 2022): the tracks that the first
    association left unmatched are matched greedily, by box IoU alone, to low-score
    detections (appearance of a half-hidden object is unreliable, its box still overlaps).

    Args:
        track_boxes: ``(T, 4)`` each live track's last box; ``track_labels (T,)``.
        matches: ``(track rows, detection indices)`` of the first association.
        det_boxes: ``(N, 4)`` the frame's detections; ``det_labels (N,)``.
        low: indices of the low-score detections that may be matched here.
        iou_threshold: pairs need ``IoU >= iou_threshold`` (ByteTrack: 0.5).
        class_aware: pairs need equal labels.

    Returns:
        ``(track rows, detection indices)`` int64 of both associations, the first
        association's pairs first.
    """
    tracks, det_indices = matches
    free = unmatched(len(track_boxes), tracks)
    iou = box_iou(track_boxes[free], det_boxes[low])
    valid = track_labels[free][:, None] == det_labels[low][None, :] if class_aware else None
    rows, cols = greedy_assignment(iou, valid, min_score=iou_threshold)
    return np.concatenate([tracks, free[rows]]), np.concatenate([det_indices, low[cols]]).astype(np.int64)


def unmatched(n: int, matched: np.ndarray) -> np.ndarray:
    """The int64 indices in ``range(n)`` that are not in ``matched``, ascending."""
    free = np.ones(n, bool)
    free[np.asarray(matched, np.int64)] = False
    return np.flatnonzero(free)
