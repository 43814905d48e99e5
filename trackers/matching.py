"""Shared building blocks of online trackers: box IoU, cosine similarity, assignments.

Everything here is vectorised numpy (plus scipy for the Hungarian algorithm); no torch.

Conventions
- Boxes are ``x1, y1, x2, y2`` float arrays of shape ``(N, 4)``.
- A *score* matrix is "higher is better", a *cost* matrix "lower is better"; both are
  ``(N, M)`` with rows = tracks (or any first set) and columns = detections.
- A ``valid`` mask of shape ``(N, M)`` (bool) marks the pairs that may be matched (gating);
  ``None`` means every finite entry is valid. Non-finite scores/costs are never matched.
- Assignments return ``(rows, cols)``: two int64 arrays of equal length ``K`` giving the
  matched pairs ``(rows[k], cols[k])``; every row and every column appears at most once.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "box_iou",
    "cosine_similarity",
    "greedy_assignment",
    "hungarian_assignment",
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
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return iou


def cosine_similarity(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Pairwise cosine similarity of two sets of vectors after L2 normalisation.

    Args:
        a: ``(N, D)`` vectors.
        b: ``(M, D)`` vectors.
        eps: norms below ``eps`` are treated as zero vectors.

    Returns:
        ``(N, M)`` float64 in ``[-1, 1]``. A zero vector has similarity 0 with everything
        (it is neither similar nor dissimilar), never NaN.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"cosine_similarity needs (N, D) and (M, D) arrays, got {a.shape} and {b.shape}")
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    a = np.divide(a, na, out=np.zeros_like(a), where=na > eps)
    b = np.divide(b, nb, out=np.zeros_like(b), where=nb > eps)
    return np.clip(a @ b.T, -1.0, 1.0)


def _valid_mask(matrix: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    mask = np.isfinite(matrix)
    if valid is not None:
        valid = np.asarray(valid, bool)
        if valid.shape != matrix.shape:
            raise ValueError(f"valid mask shape {valid.shape} != matrix shape {matrix.shape}")
        mask &= valid
    return mask


def greedy_assignment(score: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy bipartite matching: repeatedly take the highest-scoring valid pair.

    All valid pairs are sorted by score (descending; ties broken by row, then column
    index) and a pair is accepted when neither its row nor its column is taken yet.

    Args:
        score: ``(N, M)`` similarity, higher is better.
        valid: ``(N, M)`` bool gating mask, or ``None`` (all finite entries valid).

    Returns:
        ``(rows, cols)`` int64 arrays of length ``K <= min(N, M)``, in acceptance order
        (descending score).
    """
    score = np.asarray(score, np.float64)
    if score.ndim != 2:
        raise ValueError(f"score must be (N, M), got shape {score.shape}")
    mask = _valid_mask(score, valid)
    r, c = np.nonzero(mask)  # row-major, so a stable sort keeps the (row, col) tie order
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


def hungarian_assignment(cost: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost bipartite matching (``scipy.optimize.linear_sum_assignment``).

    Invalid pairs get a cost larger than any valid assignment could total, so the solver
    only uses them when a row/column cannot be matched otherwise; they are dropped after.
    This yields the minimum-cost matching among those with the most valid pairs.

    Args:
        cost: ``(N, M)`` cost, lower is better.
        valid: ``(N, M)`` bool gating mask, or ``None`` (all finite entries valid).

    Returns:
        ``(rows, cols)`` int64 arrays of length ``K <= min(N, M)``, sorted by row.
    """
    cost = np.asarray(cost, np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be (N, M), got shape {cost.shape}")
    mask = _valid_mask(cost, valid)
    if not mask.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    finite = cost[mask]
    span = float(finite.max() - finite.min()) + 1.0
    big = float(finite.max()) + span * (min(cost.shape) + 1)
    rows, cols = linear_sum_assignment(np.where(mask, cost, big))
    keep = mask[rows, cols]
    return rows[keep].astype(np.int64), cols[keep].astype(np.int64)
