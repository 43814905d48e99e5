"""One-pass evaluation (OPE) of OTB-2015 and LaSOT: success, precision and normalised
precision plots.

Per sequence, following the LaSOT toolkit (``calc_seq_err_robust``), which extends OTB's:
1. The first frame's prediction is replaced by the ground truth (the tracker was
   initialised with it).
2. A later prediction that is NaN or has ``w <= 0`` / ``h <= 0`` is replaced by the
   latest valid prediction before it (counted and logged).
3. Frames whose target is absent (``SotGroundTruth.absent``: LaSOT's full occlusion / out
   of view, NaN or zero-size ground truth) are removed; the plots are fractions of the
   remaining frames. OTB has no absent frames, so this changes nothing there.
4. Success plot: fraction of frames with IoU **strictly greater** than each threshold in
   ``0, 0.05, ..., 1`` (21 points); ``success_auc`` is their mean. Since no IoU exceeds
   1, a perfect tracker scores 20/21 ~ 0.952, as in the toolkits.
5. Precision plot: fraction of frames with centre error **at most** each threshold in
   ``0, 1, ..., 50`` px; ``precision_20px`` is the value at 20 px.
6. Normalised precision plot (LaSOT): fraction with normalised centre error (offset
   divided by the ground-truth width/height) at most each threshold in
   ``0, 0.01, ..., 0.5``; ``norm_precision_auc`` is the mean over those 51 points (the
   LaSOT paper's ranking) and ``norm_precision_0.2`` the value at 0.2 (pytracking's
   P_norm).

Deliberate differences from the MATLAB code: ground-truth rows with negative coordinates
are not special-cased (the toolkit sets their errors to -1, which counts as *precise*);
the carried-forward box is the latest valid one, where the toolkit copies the previous raw
row even if that was invalid too.

Combined results average the per-sequence plots over sequences (every sequence weighs
the same); sequences without any present frame are left out of that mean.
"""
from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from eval.sot_data import SotGroundTruth, paired_sequences
from eval.sot_geometry import center_error, iou, normalized_center_error

__all__ = ["NORM_PRECISION_THRESHOLDS", "PRECISION_THRESHOLDS", "SUCCESS_THRESHOLDS", "evaluate_ope"]

logger = logging.getLogger(__name__)

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64)
NORM_PRECISION_THRESHOLDS = np.linspace(0.0, 0.5, 51)
_PRECISION_AT = 20  # index of 20 px
_NORM_PRECISION_AT = 20  # index of 0.2


def _repaired_prediction(gt: SotGroundTruth, boxes: np.ndarray, name: str) -> np.ndarray:
    """Steps 1 and 2: first frame = ground truth, invalid boxes carried forward."""
    boxes = boxes.copy()
    boxes[0] = gt.boxes[0]
    valid = np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    n_repaired = int((~valid & ~gt.absent).sum())
    if n_repaired:
        logger.info("%s: %d frame(s) without a valid box take the previous box", name, n_repaired)
    source = np.maximum.accumulate(np.where(valid, np.arange(len(boxes)), -1))
    return np.where((source >= 0)[:, None], boxes[np.maximum(source, 0)], np.nan)


def _fraction_above(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fraction of ``values`` strictly above each threshold (NaN without values)."""
    if len(values) == 0:
        return np.full(len(thresholds), np.nan)
    return (values[:, None] > thresholds[None, :]).mean(axis=0)


def _fraction_within(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fraction of ``values`` at most each threshold (NaN without values)."""
    if len(values) == 0:
        return np.full(len(thresholds), np.nan)
    return (values[:, None] <= thresholds[None, :]).mean(axis=0)


def _summary(success: np.ndarray, precision: np.ndarray, norm_precision: np.ndarray, n: int) -> dict:
    return {
        "success_auc": float(np.mean(success)),
        "precision_20px": float(precision[_PRECISION_AT]),
        "norm_precision_auc": float(np.mean(norm_precision)),
        "norm_precision_0.2": float(norm_precision[_NORM_PRECISION_AT]),
        "num_frames": n,
    }


def evaluate_ope(gt: Mapping[str, SotGroundTruth], pred: Mapping[str, np.ndarray]) -> dict:
    """OTB / LaSOT one-pass evaluation (see the module docstring for the rules).

    Args:
        gt: sequence name -> :class:`SotGroundTruth`.
        pred: sequence name -> ``(N, 4)`` or ``(N, 5)`` predictions (the score is unused).

    Returns:
        ``{"per_sequence": {seq: m}, "combined": m, "curves": curves}`` where ``m`` has
        ``success_auc``, ``precision_20px``, ``norm_precision_auc``,
        ``norm_precision_0.2`` (floats in [0, 1], NaN for a sequence without present
        frames) and ``num_frames`` (evaluated frames, an int; summed in ``combined``).
        ``curves`` has ``success``, ``precision`` and ``norm_precision``, each
        ``{"thresholds": [...], "combined": [...], "per_sequence": {seq: [...]}}``.
    """
    per_sequence, plots = {}, {"success": {}, "precision": {}, "norm_precision": {}}
    for name, g, boxes, _ in paired_sequences(gt, pred):
        present = ~g.absent
        p, t = _repaired_prediction(g, boxes, name)[present], g.boxes[present]
        if not present.any():
            logger.warning("%s: the target is absent in every frame; left out of the combined plots", name)
        plots["success"][name] = _fraction_above(iou(p, t), SUCCESS_THRESHOLDS)
        plots["precision"][name] = _fraction_within(center_error(p, t), PRECISION_THRESHOLDS)
        plots["norm_precision"][name] = _fraction_within(normalized_center_error(p, t), NORM_PRECISION_THRESHOLDS)
        per_sequence[name] = _summary(*(plots[k][name] for k in plots), int(present.sum()))

    combined_plots = {}
    for key, by_seq in plots.items():
        stacked = np.stack(list(by_seq.values()))
        kept = stacked[~np.isnan(stacked).any(axis=1)]
        combined_plots[key] = kept.mean(axis=0) if len(kept) else np.full(stacked.shape[1], np.nan)
    combined = _summary(*combined_plots.values(), sum(m["num_frames"] for m in per_sequence.values()))

    thresholds = {"success": SUCCESS_THRESHOLDS, "precision": PRECISION_THRESHOLDS,
                  "norm_precision": NORM_PRECISION_THRESHOLDS}
    curves = {
        key: {
            "thresholds": thresholds[key].tolist(),
            "combined": combined_plots[key].tolist(),
            "per_sequence": {name: curve.tolist() for name, curve in plots[key].items()},
        }
        for key in plots
    }
    return {"per_sequence": per_sequence, "combined": combined, "curves": curves}
