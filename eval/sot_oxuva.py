"""OxUvA long-term tracking metrics: true positive / true negative rates and their
(maximum) geometric mean.

Rules of the OxUvA toolkit (``oxuva.assess``):
- The first frame is the initialisation and is not assessed (OxUvA tasks keep it out of
  their labels). Every other ground-truth frame is assessed; OxUvA annotates at 1 Hz, so
  a sequence here holds the annotated frames only.
- A present frame is a true positive when the tracker reports present (a finite box)
  **and** IoU >= ``iou_threshold`` (inclusive, default 0.5); an absent frame is a true
  negative when the tracker reports absent (a NaN box).
- ``TPR = TP / #present``, ``TNR = TN / #absent`` (NaN where the count is 0),
  ``GM = sqrt(TPR * TNR)``.
- ``MaxGM = max_{p in [0, 1]} sqrt(((1 - p) TPR) ((1 - p) TNR + p))``: the best GM reachable
  by additionally reporting "absent" at random with probability p. With ``q = 1 - p`` the
  square is ``TPR * q * (1 - q (1 - TNR))``, a concave parabola in q with its top at
  ``q* = 1 / (2 (1 - TNR))``; so the optimum is p = 0 (MaxGM = GM) when TNR >= 1/2, else
  ``p* = 1 - q*`` and ``MaxGM = sqrt(TPR / (4 (1 - TNR)))``. This closed form is exact
  (the toolkit maximises the same quadratic on [0, 1]).
- Combined rates pool the frame counts of all sequences (``assessment_sum``).

With scores (``(N, 5)`` predictions) the combined TPR/TNR curve is traced like the
toolkit's ``posthoc_threshold``: at threshold t a frame is reported present when its box
is finite and ``score >= t``; thresholds are ``+inf`` (everything absent) followed by the
distinct scores of present predictions, descending.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from eval.sot_data import SotGroundTruth, paired_sequences
from eval.sot_geometry import iou

__all__ = ["evaluate_oxuva", "max_geometric_mean"]


def max_geometric_mean(tpr: float, tnr: float) -> tuple[float, float]:
    """``(MaxGM, p*)``: the maximum over ``p in [0, 1]`` of
    ``sqrt(((1 - p) tpr) ((1 - p) tnr + p))`` and the p that attains it (NaN, NaN if a
    rate is NaN)."""
    if math.isnan(tpr) or math.isnan(tnr):
        return float("nan"), float("nan")
    if tnr >= 0.5:
        return math.sqrt(tpr * tnr), 0.0
    q = 1.0 / (2.0 * (1.0 - tnr))
    return math.sqrt(tpr * q * (1.0 - q * (1.0 - tnr))), 1.0 - q


def _rates(tp: int, tn: int, n_present: int, n_absent: int) -> dict:
    tpr = tp / n_present if n_present else float("nan")
    tnr = tn / n_absent if n_absent else float("nan")
    return {
        "TPR": tpr,
        "TNR": tnr,
        "GM": math.sqrt(tpr * tnr),
        "MaxGM": max_geometric_mean(tpr, tnr)[0],
        "num_present": n_present,
        "num_absent": n_absent,
    }


def _score_curve(hit: np.ndarray, false_alarm: np.ndarray, scores: np.ndarray,
                 n_present: int, n_absent: int) -> dict:
    """Combined TPR/TNR when only predictions with ``score >= t`` count as present.

    ``hit``/``false_alarm`` mark the frames that are a TP / FP when reported present;
    ``scores`` are the scores of present predictions (``-inf`` on absent ones).
    """
    order = np.argsort(-scores, kind="stable")
    descending = scores[order]
    distinct = np.unique(descending[np.isfinite(descending)])[::-1]
    reported = np.searchsorted(-descending, -distinct, side="right")  # frames with score >= t
    tp = np.concatenate([[0], np.cumsum(hit[order])[reported - 1]])
    fp = np.concatenate([[0], np.cumsum(false_alarm[order])[reported - 1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr, tnr = tp / n_present, (n_absent - fp) / n_absent
    return {"thresholds": [math.inf, *distinct.tolist()], "TPR": tpr.tolist(), "TNR": tnr.tolist()}


def evaluate_oxuva(
    gt: Mapping[str, SotGroundTruth], pred: Mapping[str, np.ndarray], *, iou_threshold: float = 0.5
) -> dict:
    """OxUvA TPR, TNR, GM and MaxGM per sequence and pooled (see the module docstring).

    Args:
        gt: sequence name -> :class:`SotGroundTruth`.
        pred: sequence name -> ``(N, 4)`` or ``(N, 5)`` predictions; a NaN box row reports
            "absent".
        iou_threshold: minimum IoU (inclusive) of a true positive.

    Returns:
        ``{"per_sequence": {seq: m}, "combined": m, "curves": {...}}`` with ``m`` =
        ``TPR``, ``TNR``, ``GM``, ``MaxGM`` (floats) and ``num_present``, ``num_absent``
        (ints). ``curves`` holds ``{"tpr_tnr": {"thresholds", "TPR", "TNR"}}`` (lists)
        when every prediction has a score, else it is empty.
    """
    per_sequence, totals = {}, np.zeros(4, np.int64)  # TP, TN, present frames, absent frames
    with_scores, pooled = True, {"hit": [], "false_alarm": [], "scores": []}
    for name, g, boxes, scores in paired_sequences(gt, pred):
        gt_present, pred_present = ~g.absent[1:], np.isfinite(boxes[1:]).all(axis=1)
        hit = gt_present & pred_present & (iou(boxes[1:], g.boxes[1:]) >= iou_threshold)
        false_alarm = ~gt_present & pred_present
        counts = [hit.sum(), (~gt_present & ~pred_present).sum(), gt_present.sum(), (~gt_present).sum()]
        per_sequence[name] = _rates(*map(int, counts))
        totals += counts
        with_scores &= scores is not None
        if with_scores:
            pooled["hit"].append(hit)
            pooled["false_alarm"].append(false_alarm)
            pooled["scores"].append(np.where(pred_present, scores[1:], -np.inf))
    tp, tn, n_present, n_absent = map(int, totals)
    curves = {}
    if with_scores:
        curves["tpr_tnr"] = _score_curve(*(np.concatenate(v) for v in pooled.values()), n_present, n_absent)
    return {"per_sequence": per_sequence, "combined": _rates(tp, tn, n_present, n_absent), "curves": curves}
