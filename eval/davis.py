"""DAVIS 2017 semi-supervised video object segmentation metrics: region similarity J and
contour accuracy F, each summarised as mean, recall and decay.

Rules of the DAVIS 2017 toolkit (``davis2017-evaluation``):
- Label maps: pixel value k = object k, 0 = background, 255 = void. The objects of a
  sequence are ``1 .. K`` with K the largest label of its first ground-truth frame (void
  excluded); other labels in later frames are background.
- The first and the last frame are not evaluated (the first is given to the method).
- Void pixels: the semi-supervised evaluation treats them as background (the toolkit
  passes no void mask). ``ignore_void=True`` instead removes them, as the toolkit's
  measures do when given a void mask: they leave both J's intersection and union, and
  both masks are cut by them before their boundaries are extracted for F.
- A predicted label above K is an error (the toolkit stops); a missing object (fewer
  labels than K) is an empty mask.
- J = |pred & gt| / |pred | gt|, 1 when both are empty.
- F = boundary F-measure: boundaries are the pixels whose value differs from the right,
  lower or lower-right neighbour (:func:`boundary_map`); a boundary pixel matches when
  the other boundary, dilated by a disk of radius ``ceil(0.008 * image diagonal)`` px,
  covers it. Precision = matched predicted / predicted boundary pixels, recall = matched
  ground-truth / ground-truth pixels; with an empty boundary on one side precision or
  recall is 1 and the other 0 (both 1 when both are empty); F = 2PR / (P + R), 0 if
  P + R = 0.
- Per object over its evaluated frames (:func:`davis_statistics`): mean; recall = fraction
  of frames with value **> 0.5**; decay = mean of the first minus mean of the last of 4
  bins, with the toolkit's bin edges ``round(linspace(1, n, 5) + 1e-10) - 1`` where bin i
  is ``values[e_i : e_(i+1) + 1]`` (neighbouring bins share their edge frame; this is
  not ``np.array_split``). The toolkit stores the edges as uint8, which wraps past 255
  frames; here they are int64.
- Dataset: each statistic averaged over all objects of all sequences;
  ``J&F-Mean = (J-Mean + F-Mean) / 2``.
"""
from __future__ import annotations

import math
import os
from typing import Mapping, Sequence

import cv2
import numpy as np

from eval.davis_io import load_davis_dirs

__all__ = [
    "BOUND_TH",
    "DAVIS_METRICS",
    "boundary_map",
    "contour_accuracy",
    "davis_statistics",
    "disk",
    "evaluate_davis",
    "evaluate_davis_dirs",
    "region_similarity",
    "sequence_scores",
]

BOUND_TH = 0.008
VOID = 255
DAVIS_METRICS = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")


def region_similarity(gt: np.ndarray, pred: np.ndarray, void: np.ndarray | None = None) -> float:
    """J of two ``(H, W)`` boolean masks, void pixels (``(H, W)`` bool) left out; 1 when the
    union is empty."""
    keep = np.ones_like(gt, bool) if void is None else ~void
    union = np.count_nonzero((gt | pred) & keep)
    if union == 0:
        return 1.0
    return np.count_nonzero(gt & pred & keep) / union


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool boundary of a ``(H, W)`` mask, as DAVIS's ``seg2bmap``: a pixel is on
    the boundary when it differs from its right, lower or lower-right neighbour (outside
    the image counts as background); in the last row only the right neighbour and in the
    last column only the lower one are compared, and the bottom-right pixel is never on
    it."""
    seg = np.asarray(mask, bool)
    right, below, below_right = (np.zeros_like(seg) for _ in range(3))
    right[:, :-1] = seg[:, 1:]
    below[:-1, :] = seg[1:, :]
    below_right[:-1, :-1] = seg[1:, 1:]
    bmap = (seg ^ right) | (seg ^ below) | (seg ^ below_right)
    bmap[-1, :] = seg[-1, :] ^ right[-1, :]
    bmap[:, -1] = seg[:, -1] ^ below[:, -1]
    bmap[-1, -1] = False
    return bmap


def disk(radius: float) -> np.ndarray:
    """``(2r + 1, 2r + 1)`` uint8 disk: offsets ``(dy, dx)`` with ``dx^2 + dy^2 <= r^2``
    (scikit-image's ``disk`` with ``strict_radius=True``)."""
    r = int(radius)
    offsets = np.arange(-r, r + 1)
    return (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius**2).astype(np.uint8)


def contour_accuracy(gt: np.ndarray, pred: np.ndarray, void: np.ndarray | None = None,
                     bound_th: float = BOUND_TH) -> float:
    """F of two ``(H, W)`` boolean masks (module docstring); ``bound_th < 1`` is a fraction
    of the image diagonal, ``>= 1`` a radius in pixels."""
    radius = bound_th if bound_th >= 1 else math.ceil(bound_th * math.hypot(*gt.shape))
    if void is not None:
        gt, pred = gt & ~void, pred & ~void
    gt_b, pred_b = boundary_map(gt), boundary_map(pred)
    n_gt, n_pred = np.count_nonzero(gt_b), np.count_nonzero(pred_b)
    if n_gt == 0 or n_pred == 0:
        return 1.0 if n_gt == n_pred else 0.0  # P or R is 0 when exactly one side is empty
    kernel = disk(radius)
    gt_zone = cv2.dilate(gt_b.astype(np.uint8), kernel).astype(bool)
    pred_zone = cv2.dilate(pred_b.astype(np.uint8), kernel).astype(bool)
    precision = np.count_nonzero(pred_b & gt_zone) / n_pred
    recall = np.count_nonzero(gt_b & pred_zone) / n_gt
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def davis_statistics(per_frame: np.ndarray) -> dict[str, float]:
    """``{"Mean", "Recall", "Decay"}`` of one object's ``(n,)`` per-frame J or F values
    (module docstring); NaN values are skipped in the means."""
    values = np.asarray(per_frame, np.float64)
    edges = (np.round(np.linspace(1, len(values), 5) + 1e-10) - 1).astype(np.int64)
    bins = [values[edges[i]: edges[i + 1] + 1] for i in range(4)]
    return {
        "Mean": float(np.nanmean(values)),
        "Recall": float(np.mean(values > 0.5)),
        "Decay": float(np.nanmean(bins[0]) - np.nanmean(bins[3])),
    }


def sequence_scores(gt: np.ndarray, pred: np.ndarray, *, ignore_void: bool = False,
                    name: str = "sequence") -> tuple[np.ndarray, np.ndarray]:
    """Per-object, per-frame J and F of one sequence.

    Args:
        gt: ``(T, H, W)`` integer label maps, all frames (``T >= 3``).
        pred: ``(T, H, W)`` predicted label maps; frames 0 and T-1 are not read.
        ignore_void: leave void (255) pixels out instead of treating them as background.
        name: for error messages.

    Returns:
        ``(J, F)``, each ``(K, T - 2)`` float64 for objects ``1..K`` and frames ``1..T-2``.
    """
    gt, pred = np.asarray(gt), np.asarray(pred)
    if gt.ndim != 3 or gt.shape != pred.shape:
        raise ValueError(f"{name}: ground truth {gt.shape} and prediction {pred.shape} must be equal (T, H, W)")
    if len(gt) < 3:
        raise ValueError(f"{name}: needs at least 3 frames (the first and last are not evaluated), got {len(gt)}")
    first = gt[0]
    num_objects = int(first[first != VOID].max(initial=0))
    gt, pred = gt[1:-1], pred[1:-1]
    if pred.max(initial=0) > num_objects:
        frame = int(np.argmax((pred > num_objects).any(axis=(1, 2)))) + 1
        raise ValueError(f"{name}: frame {frame}: predicted label {int(pred[frame - 1].max())} "
                         f"but the first ground-truth frame has {num_objects} objects")
    void = gt == VOID
    j = np.empty((num_objects, len(gt)))
    f = np.empty((num_objects, len(gt)))
    for k in range(1, num_objects + 1):
        for t in range(len(gt)):
            gt_k, pred_k, frame_void = gt[t] == k, pred[t] == k, void[t] if ignore_void else None
            j[k - 1, t] = region_similarity(gt_k, pred_k, frame_void)
            f[k - 1, t] = contour_accuracy(gt_k, pred_k, frame_void)
    return j, f


def evaluate_davis(gt: Mapping[str, np.ndarray], pred: Mapping[str, np.ndarray], *,
                   ignore_void: bool = False) -> dict:
    """DAVIS 2017 semi-supervised J and F.

    Args:
        gt: sequence name -> ``(T, H, W)`` ground-truth label maps (all frames).
        pred: sequence name -> ``(T, H, W)`` predicted label maps (first and last frames
            are not read); the same sequences as ``gt``.
        ignore_void: see the module docstring (default: the toolkit's semi-supervised rule).

    Returns:
        ``{"per_object": {"<seq>_<k>": m}, "per_sequence": {seq: m + {"num_objects"}},
        "combined": {"J&F-Mean", "J-Mean", ...}}`` where ``m`` = ``J-Mean``,
        ``J-Recall``, ``J-Decay``, ``F-Mean``, ``F-Recall``, ``F-Decay`` (floats);
        ``per_sequence`` averages its objects, ``combined`` all objects.
    """
    unknown = sorted(set(pred) - set(gt))
    missing = sorted(set(gt) - set(pred))
    if unknown or missing:
        raise ValueError(f"predictions for unknown sequences {unknown}; missing predictions for {missing}")
    if not gt:
        raise ValueError("DAVIS evaluation needs at least one sequence")
    per_object, per_sequence = {}, {}
    for name in gt:
        j, f = sequence_scores(gt[name], pred[name], ignore_void=ignore_void, name=name)
        objects = [
            {**{f"J-{k}": v for k, v in davis_statistics(j_k).items()},
             **{f"F-{k}": v for k, v in davis_statistics(f_k).items()}}
            for j_k, f_k in zip(j, f, strict=True)
        ]
        per_object.update({f"{name}_{k + 1}": m for k, m in enumerate(objects)})
        per_sequence[name] = {**_average(objects), "num_objects": len(objects)}
    combined = _average(list(per_object.values()))
    combined = {"J&F-Mean": (combined["J-Mean"] + combined["F-Mean"]) / 2, **combined}
    return {"per_object": per_object, "per_sequence": per_sequence, "combined": combined}


def _average(objects: list[dict[str, float]]) -> dict[str, float]:
    keys = DAVIS_METRICS[1:]
    if not objects:
        return {k: float("nan") for k in keys}
    return {k: float(np.mean([m[k] for m in objects])) for k in keys}


def evaluate_davis_dirs(gt_dir: str | os.PathLike, pred_dir: str | os.PathLike, *,
                        sequences: Sequence[str] | None = None, ignore_void: bool = False) -> dict:
    """:func:`evaluate_davis` on ``GT/<seq>/<frame>.png`` and ``PRED/<seq>/<frame>.png``
    indexed PNGs (layout and checks: :func:`eval.davis_io.load_davis_dirs`)."""
    gt, pred = load_davis_dirs(gt_dir, pred_dir, sequences)
    return evaluate_davis(gt, pred, ignore_void=ignore_void)
