"""VOT long-term (VOT-LT / LTB-35) metrics: tracking precision, recall and F-score.

Definitions (Lukezic et al., "Now you see me: evaluating performance in long-term visual
tracking", and the VOT toolkit's ``vot.analysis.longterm``):
- A frame is *reported* at threshold t when the tracker gives a box (not NaN) whose
  confidence is ``>= t``. Without a score column every box has confidence 1.
- ``Pr(t)`` = mean IoU over the reported frames, an absent target giving IoU 0
  (``Pr = 1`` when no frame is reported, as in the toolkit).
- ``Re(t)`` = sum of the IoUs of reported frames on which the target is visible, divided
  by the number of visible frames (unreported frames count 0).
- ``F(t) = 2 Pr Re / (Pr + Re)`` (0 where both are 0). The combined Pr/Re curves are the
  per-sequence curves averaged over sequences; ``F`` is the maximum of the combined F
  curve and ``Pr``, ``Re``, ``tau`` are taken at its first (highest-threshold) maximum.
  Per sequence the same is done on that sequence's curves.
- Thresholds, shared by all sequences, come from the confidences of all reported frames
  the way the toolkit's ``determine_thresholds`` picks them: sorted descending, and when
  there are more than ``resolution - 2`` of them, ``resolution - 2`` evenly spaced order
  statistics; then ``+inf`` is prepended and ``-inf`` appended (duplicates removed).
  ``resolution=None`` uses every distinct confidence.
- The first frame (the initialisation) is excluded. Here an absent target is a frame of
  ``SotGroundTruth.absent``; IoU is the continuous box IoU (the toolkit rasterises
  regions to pixels and bounds them to the image, which differs slightly for fractional
  or out-of-image coordinates).

The toolkit scores a confident *empty* region on an absent frame as overlap 1; here a
NaN box is never reported, so such frames count in neither Pr nor Re (the definition of
the paper). A sequence without visible frames has no recall (NaN) and is left out of the
combined recall mean.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from eval.sot_data import SotGroundTruth, paired_sequences
from eval.sot_geometry import iou

__all__ = ["evaluate_vot_lt", "vot_thresholds"]


def vot_thresholds(confidences: np.ndarray, resolution: int | None = 100) -> np.ndarray:
    """Descending thresholds ``[+inf, ..., -inf]`` from ``confidences`` (NaN ignored); see
    the module docstring."""
    if resolution is not None and resolution < 3:
        raise ValueError(f"resolution must be at least 3 (or None), got {resolution}")
    scores = np.sort(np.asarray(confidences, np.float64)[~np.isnan(confidences)])[::-1]
    if resolution is not None and len(scores) > resolution - 2:
        delta = len(scores) // (resolution - 2)
        scores = scores[np.round(np.linspace(delta, len(scores) - delta, resolution - 2)).astype(np.int64)]
    return np.unique(np.concatenate([[-np.inf], scores, [np.inf]]))[::-1]


def _pr_re_curves(overlaps: np.ndarray, confidence: np.ndarray, n_visible: int,
                  thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pr(t), Re(t) of one sequence for descending ``thresholds``.

    ``overlaps``: IoU per frame (0 where the target is absent); ``confidence``: NaN on
    frames the tracker does not report at any threshold.
    """
    reported = ~np.isnan(confidence)
    conf, ovl = confidence[reported], overlaps[reported]
    order = np.argsort(-conf, kind="stable")
    count = np.searchsorted(-conf[order], -thresholds, side="right")  # frames with conf >= t
    overlap_sum = np.concatenate([[0.0], np.cumsum(ovl[order])])[count]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(count > 0, overlap_sum / count, 1.0)
        recall = overlap_sum / n_visible if n_visible else np.full(len(thresholds), np.nan)
    return precision, recall


def _f_score(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    """``2 Pr Re / (Pr + Re)``, 0 where both are 0, NaN where a term is NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        f = 2 * precision * recall / (precision + recall)
    return np.where(precision + recall == 0, 0.0, f)


def _best(precision: np.ndarray, recall: np.ndarray, thresholds: np.ndarray) -> dict:
    """Pr, Re, F and the threshold at the first maximum of the F curve (NaN without one)."""
    f = _f_score(precision, recall)
    if np.isnan(f).all():
        return {"Pr": float("nan"), "Re": float("nan"), "F": float("nan"), "tau": float("nan")}
    i = int(np.nanargmax(f))
    return {"Pr": float(precision[i]), "Re": float(recall[i]), "F": float(f[i]), "tau": float(thresholds[i])}


def evaluate_vot_lt(
    gt: Mapping[str, SotGroundTruth], pred: Mapping[str, np.ndarray], *, resolution: int | None = 100
) -> dict:
    """VOT-LT tracking precision / recall / F per sequence and combined.

    Args:
        gt: sequence name -> :class:`SotGroundTruth`.
        pred: sequence name -> ``(N, 4)`` boxes or ``(N, 5)`` boxes + confidence; a NaN
            box row means "not reported".
        resolution: number of thresholds as in the VOT toolkit (100), ``None`` for every
            distinct confidence.

    Returns:
        ``{"per_sequence": {seq: m}, "combined": m, "curves": {"pr_re": {"thresholds",
        "Pr", "Re", "F"}}}`` with ``m`` = ``Pr``, ``Re``, ``F``, ``tau`` (floats) and
        ``num_visible`` (int); the curve lists run over the descending thresholds
        (``inf`` first, ``-inf`` last).
    """
    sequences = []
    for name, g, boxes, scores in paired_sequences(gt, pred):
        visible = ~g.absent[1:]
        reported = np.isfinite(boxes[1:]).all(axis=1)
        confidence = np.where(reported, 1.0 if scores is None else scores[1:], np.nan)
        overlaps = np.where(visible, iou(boxes[1:], g.boxes[1:]), 0.0)
        sequences.append((name, overlaps, confidence, int(visible.sum())))
    thresholds = vot_thresholds(np.concatenate([s[2] for s in sequences]), resolution)

    per_sequence, precisions, recalls = {}, [], []
    for name, overlaps, confidence, n_visible in sequences:
        precision, recall = _pr_re_curves(overlaps, confidence, n_visible, thresholds)
        per_sequence[name] = {**_best(precision, recall, thresholds), "num_visible": n_visible}
        precisions.append(precision)
        recalls.append(recall)
    precision = np.mean(precisions, axis=0)
    recalls = np.array(recalls)
    kept = recalls[~np.isnan(recalls).any(axis=1)]
    recall = kept.mean(axis=0) if len(kept) else np.full(len(thresholds), np.nan)
    combined = {**_best(precision, recall, thresholds), "num_visible": sum(s[3] for s in sequences)}
    curves = {"pr_re": {"thresholds": thresholds.tolist(), "Pr": precision.tolist(),
                        "Re": recall.tolist(), "F": _f_score(precision, recall).tolist()}}
    return {"per_sequence": per_sequence, "combined": combined, "curves": curves}
