"""CLEAR MOT and identity (IDF1) metrics through py-motmetrics.

Inputs are MOTChallenge-style arrays per sequence (see :mod:`eval.mot_io`):
``frame, id, x, y, w, h[, conf[, class, ...]]``.

Matching follows the MOTChallenge convention: a ground-truth object and a hypothesis
may be matched when their IoU >= ``iou_threshold`` (0.5); the distance fed to motmetrics
is ``1 - IoU`` (NaN = not matchable). With ``class_aware`` pairs of different classes are
not matchable either (only when both arrays have a class column, column 8).

The ground truth is used as given: filtering MOTChallenge "consider"/distractor/ignore
rows is the caller's (dataset adapter's) job.

numpy 2 note: motmetrics 1.4.0's ``distances.iou_matrix`` calls ``np.asfarray`` (removed in
numpy 2), so IoU is computed here. Its ``generate_overall`` MOTP is NaN as soon as one
sequence has no matches (``NaN * 0``), so the combined MOTP is recomputed here from the
per-sequence sums. This module never imports ``trackers`` (evaluators are independent of
the code they evaluate).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import motmetrics as mm
import numpy as np

__all__ = ["METRIC_NAMES", "evaluate_mot", "format_table"]

# our name -> motmetrics name
_MM_NAMES = {
    "MOTA": "mota",
    "MOTP": "motp",
    "IDF1": "idf1",
    "IDP": "idp",
    "IDR": "idr",
    "IDSW": "num_switches",
    "FP": "num_false_positives",
    "FN": "num_misses",
    "Frag": "num_fragmentations",
    "MT": "mostly_tracked",
    "PT": "partially_tracked",
    "ML": "mostly_lost",
    "num_frames": "num_frames",
    "GT": "num_objects",
}
METRIC_NAMES: tuple[str, ...] = tuple(_MM_NAMES)
_RATIOS = {"MOTA", "MOTP", "IDF1", "IDP", "IDR"}
_DEFAULT_TABLE = ("MOTA", "MOTP", "IDF1", "IDP", "IDR", "IDSW", "FP", "FN", "Frag", "MT", "PT", "ML", "GT")
COMBINED = "COMBINED"


def _iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``(N, 4)`` and ``(M, 4)`` ``x, y, w, h`` boxes -> ``(N, M)``."""
    a_lo, a_hi = a[:, None, :2], a[:, None, :2] + a[:, None, 2:]
    b_lo, b_hi = b[None, :, :2], b[None, :, :2] + b[None, :, 2:]
    wh = np.clip(np.minimum(a_hi, b_hi) - np.maximum(a_lo, b_lo), 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _as_rows(arr, what: str) -> np.ndarray:
    arr = np.asarray(arr, np.float64)
    if arr.size == 0:
        return arr.reshape(0, max(6, arr.shape[-1] if arr.ndim == 2 else 6))
    if arr.ndim != 2 or arr.shape[1] < 6:
        raise ValueError(f"{what}: expected MOT rows of shape (N, >=6), got {arr.shape}")
    return arr


def _accumulate(gt: np.ndarray, pred: np.ndarray, iou_threshold: float, class_aware: bool) -> mm.MOTAccumulator:
    use_class = class_aware and gt.shape[1] >= 8 and pred.shape[1] >= 8
    acc = mm.MOTAccumulator(auto_id=False)
    frames = np.union1d(gt[:, 0], pred[:, 0])
    g_frame, p_frame = gt[:, 0], pred[:, 0]
    g_order, p_order = np.argsort(g_frame, kind="stable"), np.argsort(p_frame, kind="stable")
    g_lo = np.searchsorted(g_frame[g_order], frames, "left")
    g_hi = np.searchsorted(g_frame[g_order], frames, "right")
    p_lo = np.searchsorted(p_frame[p_order], frames, "left")
    p_hi = np.searchsorted(p_frame[p_order], frames, "right")
    for f, gl, gh, pl, ph in zip(frames.tolist(), g_lo, g_hi, p_lo, p_hi):
        g = gt[g_order[gl:gh]]
        p = pred[p_order[pl:ph]]
        iou = _iou_xywh(g[:, 2:6], p[:, 2:6])
        ok = iou >= iou_threshold
        if use_class:
            ok &= g[:, 7][:, None] == p[:, 7][None, :]
        dist = np.where(ok, 1.0 - iou, np.nan)
        acc.update(g[:, 1].astype(np.int64).tolist(), p[:, 1].astype(np.int64).tolist(), dist, frameid=int(f))
    return acc


def _convert(row: Mapping) -> dict:
    out = {}
    for ours, theirs in _MM_NAMES.items():
        v = row[theirs]
        if ours in _RATIOS:
            out[ours] = float(v)
        else:
            out[ours] = int(v)
    # motmetrics' motp is the mean distance (1 - IoU) of matches; report mean IoU like TrackEval
    out["MOTP"] = 1.0 - out["MOTP"]
    return out


def evaluate_mot(
    gt: Mapping[str, np.ndarray],
    pred: Mapping[str, np.ndarray],
    *,
    iou_threshold: float = 0.5,
    class_aware: bool = True,
) -> dict:
    """CLEAR MOT + identity metrics per sequence and combined.

    Args:
        gt: sequence name -> ``(N, >=6)`` rows ``frame, id, x, y, w, h[, conf, class, ...]``.
        pred: sequence name -> rows of the same layout; ``conf``/``class`` may be absent
            (then classes are ignored). A sequence missing from ``pred`` counts as an
            empty prediction; a sequence in ``pred`` but not in ``gt`` is an error.
        iou_threshold: minimum IoU (inclusive) of a match.
        class_aware: a ground truth and a hypothesis of different classes never match
            (applies only when both have the class column 8).

    Returns:
        ``{"per_sequence": {seq: metrics}, "combined": metrics}`` where ``metrics`` maps
        :data:`METRIC_NAMES` to Python floats (MOTA, MOTP, IDF1, IDP, IDR) or ints (the
        counts). ``MOTP`` is the mean IoU of matched pairs (``1 -`` motmetrics' MOTP, as
        in TrackEval), NaN without matches; ``GT`` is the number of ground-truth boxes;
        ratios are NaN (or ``-inf`` for MOTA) where their denominator is 0. ``combined``
        comes from motmetrics' ``generate_overall`` (counts summed, ratios recomputed from
        the sums), except MOTP, which is the match-weighted mean IoU over all sequences.
    """
    extra = sorted(set(pred) - set(gt))
    if extra:
        raise ValueError(f"predictions for sequences without ground truth: {extra}")
    if not gt:
        raise ValueError("evaluate_mot needs at least one ground-truth sequence")
    names = list(gt)
    accs = []
    for seq in names:
        g = _as_rows(gt[seq], f"gt[{seq!r}]")
        p = _as_rows(pred.get(seq, np.zeros((0, 6))), f"pred[{seq!r}]")
        accs.append(_accumulate(g, p, iou_threshold, class_aware))

    mh = mm.metrics.create()
    summary = mh.compute_many(
        accs,
        metrics=list(_MM_NAMES.values()) + ["num_detections"],
        names=names,
        generate_overall=True,
    )
    per_sequence = {seq: _convert(summary.loc[seq]) for seq in names}
    combined = _convert(summary.loc["OVERALL"])
    # overall MOTP: match-weighted mean of the per-sequence mean distances
    n_det = summary.loc[names, "num_detections"].to_numpy(np.float64)
    motp = summary.loc[names, "motp"].to_numpy(np.float64)
    total = n_det.sum()
    combined["MOTP"] = 1.0 - float((motp[n_det > 0] * n_det[n_det > 0]).sum() / total) if total > 0 else math.nan
    return {"per_sequence": per_sequence, "combined": combined}


def _cell(name: str, value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if name in _RATIOS:
            return f"{100.0 * value:.1f}"
        return f"{value:.3f}"
    return str(value)


def format_table(result: Mapping, metrics: Sequence[str] = _DEFAULT_TABLE) -> str:
    """Aligned text table of an :func:`evaluate_mot` result.

    Rows are the sequences (in result order) followed by ``COMBINED``; columns are
    ``metrics``. Ratios (MOTA, MOTP, IDF1, IDP, IDR) are printed as percentages with one
    decimal, counts as integers.
    """
    rows = [(seq, m) for seq, m in result["per_sequence"].items()] + [(COMBINED, result["combined"])]
    header = ["sequence", *metrics]
    body = [[seq, *(_cell(k, m[k]) for k in metrics)] for seq, m in rows]
    widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths)))

    sep = "-" * len(line(header))
    return "\n".join([line(header), sep, *(line(r) for r in body[:-1]), sep, line(body[-1])])
