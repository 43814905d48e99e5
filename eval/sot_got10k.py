"""GOT-10k metrics: average overlap (AO) and success rates (SR) at IoU 0.5 and 0.75.

Rules of the GOT-10k toolkit (``got10k.experiments.ExperimentGOT10k.report``):
- The first frame (the initialisation) is excluded.
- Frames whose target is absent are excluded, whatever the prediction there: the toolkit
  keeps frames with ``cover > 0``; here ``SotGroundTruth.absent`` (``cover.label == 0``,
  ``absence.label == 1``, NaN or zero-size ground truth) is excluded.
- With a known image size, both boxes are clamped into the image first
  (:func:`~eval.sot_geometry.clip_boxes_got10k`), as the toolkit does with the
  sequence's ``resolution``.
- ``SR0.5`` / ``SR0.75`` count IoU **strictly above** the threshold; the success curve
  likewise over 101 thresholds ``0, 0.01, ..., 1``.
- The combined AO / SR pool all evaluated frames of all sequences (the toolkit
  concatenates the IoUs), so long sequences weigh more. ``AO_sequence_mean`` is the mean
  of the per-sequence AOs, for comparison.

A NaN prediction (the tracker reported "absent" on a present frame) has IoU 0; the
toolkit has no such case (it would yield NaN). Such frames are counted and logged.
"""
from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from eval.sot_data import SotGroundTruth, paired_sequences
from eval.sot_geometry import clip_boxes_got10k, iou

__all__ = ["GOT10K_SUCCESS_THRESHOLDS", "evaluate_got10k"]

logger = logging.getLogger(__name__)

GOT10K_SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 101)


def _overlaps(g: SotGroundTruth, boxes: np.ndarray, name: str) -> np.ndarray:
    """IoU on the evaluated frames: after the first, target present."""
    keep = ~g.absent
    keep[0] = False
    p, t = boxes[keep], g.boxes[keep]
    n_nan = int(np.isnan(p).any(axis=1).sum())
    if n_nan:
        logger.info("%s: %d present frame(s) predicted absent (NaN) score IoU 0", name, n_nan)
    if g.image_size is not None:
        p, t = clip_boxes_got10k(p, g.image_size), clip_boxes_got10k(t, g.image_size)
    return iou(p, t)


def _metrics(overlaps: np.ndarray) -> dict:
    if len(overlaps) == 0:
        return {"AO": float("nan"), "SR0.5": float("nan"), "SR0.75": float("nan"), "num_frames": 0}
    return {
        "AO": float(overlaps.mean()),
        "SR0.5": float((overlaps > 0.5).mean()),
        "SR0.75": float((overlaps > 0.75).mean()),
        "num_frames": len(overlaps),
    }


def evaluate_got10k(gt: Mapping[str, SotGroundTruth], pred: Mapping[str, np.ndarray]) -> dict:
    """GOT-10k AO / SR per sequence and combined (see the module docstring for the rules).

    Args:
        gt: sequence name -> :class:`SotGroundTruth` (``image_size`` enables clamping).
        pred: sequence name -> ``(N, 4)`` or ``(N, 5)`` predictions (the score is unused).

    Returns:
        ``{"per_sequence": {seq: m}, "combined": m + {"AO_sequence_mean"}, "curves":
        {"success": {"thresholds": [101 floats], "combined": [101 floats]}}}`` with ``m``
        = ``AO``, ``SR0.5``, ``SR0.75`` (floats, NaN for a sequence without evaluated
        frames) and ``num_frames`` (int).
    """
    per_sequence, pooled = {}, []
    for name, g, boxes, _ in paired_sequences(gt, pred):
        overlaps = _overlaps(g, boxes, name)
        per_sequence[name] = _metrics(overlaps)
        pooled.append(overlaps)
    pooled = np.concatenate(pooled)
    combined = _metrics(pooled)
    seq_ao = [m["AO"] for m in per_sequence.values() if m["num_frames"]]
    combined["AO_sequence_mean"] = float(np.mean(seq_ao)) if seq_ao else float("nan")
    success = [float(np.mean(pooled > t)) if len(pooled) else float("nan") for t in GOT10K_SUCCESS_THRESHOLDS]
    curves = {"success": {"thresholds": GOT10K_SUCCESS_THRESHOLDS.tolist(), "combined": success}}
    return {"per_sequence": per_sequence, "combined": combined, "curves": curves}
