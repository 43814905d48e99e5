"""HOTA (Luiten et al., IJCV 2021) of one sequence, as TrackEval computes it.

For each localisation threshold ``alpha`` in :data:`ALPHAS` (0.05, 0.10, ..., 0.95):
detections match per frame by a Hungarian assignment that maximises
``global_alignment(gt track, tracker track) * similarity``, and a pair counts as a true
positive when its similarity is ``>= alpha``. The global alignment of two tracks is their
soft track IoU: the per-frame similarity normalised like a Jaccard index
(``s / (row_sum + col_sum - s)``), summed over frames, over ``n_gt + n_tracker - that sum``.

The per-frame assignment does not depend on ``alpha``, so it runs once per frame; the
per-alpha counts then come from the number of thresholds each match passes. Everything but
the per-frame assignment is vectorised.

The counts (each a ``(19,)`` array over alpha) add up over sequences and over classes;
:func:`hota_metrics` turns them into the reported means over alpha.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

from eval.matching import EPS
from eval.sequence import TrackingSequence

__all__ = ["ALPHAS", "hota_counts", "hota_metrics"]

ALPHAS = np.arange(0.05, 0.99, 0.05)  # the 19 thresholds, bit for bit as TrackEval's


def hota_counts(seq: TrackingSequence) -> dict[str, np.ndarray]:
    """Per-alpha ``HOTA_TP / HOTA_FN / HOTA_FP`` and the TP-weighted sums of AssA, AssRe,
    AssPr and LocA (each ``(19,)``)."""
    gt_id, tracker_id, similarity = _matches(seq)
    passed = np.searchsorted(ALPHAS - EPS, similarity, side="right")  # thresholds passed, 0..19
    tp = _count_from_top(np.bincount(passed, minlength=len(ALPHAS) + 1))
    loc_sum = _count_from_top(np.bincount(passed, weights=similarity, minlength=len(ALPHAS) + 1))

    # matches per (gt track, tracker track) pair and alpha: (P, 19)
    n = max(seq.num_tracker_ids, 1)
    pair, pair_index = np.unique(gt_id * n + tracker_id, return_inverse=True)
    per_pair = np.bincount(pair_index * (len(ALPHAS) + 1) + passed, minlength=len(pair) * (len(ALPHAS) + 1))
    matches = _count_from_top(per_pair.reshape(len(pair), len(ALPHAS) + 1).astype(np.float64))
    gt_len = np.bincount(seq.gt_id, minlength=seq.num_gt_ids)[pair // n][:, None]
    tracker_len = np.bincount(seq.tracker_id, minlength=seq.num_tracker_ids)[pair % n][:, None]
    return {
        "HOTA_TP": tp,
        "HOTA_FN": seq.num_gt_dets - tp,
        "HOTA_FP": seq.num_tracker_dets - tp,
        "AssA_sum": np.sum(matches * (matches / np.maximum(1, gt_len + tracker_len - matches)), axis=0),
        "AssRe_sum": np.sum(matches * (matches / np.maximum(1, gt_len)), axis=0),
        "AssPr_sum": np.sum(matches * (matches / np.maximum(1, tracker_len)), axis=0),
        "LocA_sum": loc_sum,
    }


def hota_metrics(counts: Mapping[str, np.ndarray]) -> dict[str, float]:
    """HOTA, DetA, AssA, LocA, DetRe, DetPr, AssRe, AssPr (means over alpha) and HOTA(0),
    LocA(0), HOTALocA(0) (at alpha = 0.05) from (summed) :func:`hota_counts`."""
    tp, fn, fp = counts["HOTA_TP"], counts["HOTA_FN"], counts["HOTA_FP"]
    det_a = tp / np.maximum(1, tp + fn + fp)
    ass_a = counts["AssA_sum"] / np.maximum(1, tp)
    hota = np.sqrt(det_a * ass_a)
    loc_a = np.maximum(1e-10, counts["LocA_sum"]) / np.maximum(1e-10, tp)
    curves = {
        "HOTA": hota,
        "DetA": det_a,
        "AssA": ass_a,
        "LocA": loc_a,
        "DetRe": tp / np.maximum(1, tp + fn),
        "DetPr": tp / np.maximum(1, tp + fp),
        "AssRe": counts["AssRe_sum"] / np.maximum(1, tp),
        "AssPr": counts["AssPr_sum"] / np.maximum(1, tp),
    }
    out = {name: float(np.mean(curve)) for name, curve in curves.items()}
    out.update({"HOTA(0)": float(hota[0]), "LocA(0)": float(loc_a[0]), "HOTALocA(0)": float(hota[0] * loc_a[0])})
    return out


def _count_from_top(histogram: np.ndarray) -> np.ndarray:
    """``histogram[..., k]`` counts items that passed ``k`` thresholds -> per threshold ``a``
    the total of items that passed more than ``a`` (``(..., 19)``)."""
    return np.cumsum(histogram[..., ::-1], axis=-1)[..., ::-1][..., 1:]


def _matches(seq: TrackingSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HOTA's per-frame matches with similarity ``>= ALPHAS[0]``: ``(gt_id, tracker_id,
    similarity)`` arrays."""
    empty = np.zeros(0, np.int64)
    if seq.num_gt_dets == 0 or seq.num_tracker_dets == 0:
        return empty, empty, np.zeros(0)
    pairs = seq.pairs
    # Jaccard-normalised similarity of every pair, summed per (gt track, tracker track)
    row_sum = np.concatenate([s.sum(1) for s in seq.similarity])
    col_sum = np.concatenate([s.sum(0) for s in seq.similarity])
    denominator = col_sum[pairs.tracker_det] + row_sum[pairs.gt_det] - pairs.similarity
    normalised = np.zeros_like(denominator)
    ok = denominator > EPS
    normalised[ok] = pairs.similarity[ok] / denominator[ok]
    track_pair, pair_index = np.unique(
        pairs.gt_id * seq.num_tracker_ids + pairs.tracker_id, return_inverse=True)
    overlap = np.bincount(pair_index, weights=normalised, minlength=len(track_pair))
    gt_len = np.bincount(seq.gt_id, minlength=seq.num_gt_ids).astype(np.float64)
    tracker_len = np.bincount(seq.tracker_id, minlength=seq.num_tracker_ids).astype(np.float64)
    alignment = overlap / (gt_len[track_pair // seq.num_tracker_ids] + tracker_len[track_pair % seq.num_tracker_ids]
                           - overlap)
    score = alignment[pair_index] * pairs.similarity

    gt_start, tracker_start = seq.gt_offsets, seq.tracker_offsets
    matched_gt, matched_tracker, matched_similarity = [], [], []
    for t, s in enumerate(seq.similarity):
        lo, hi = pairs.offsets[t], pairs.offsets[t + 1]
        if lo == hi:
            continue
        frame_score = np.zeros_like(s)
        frame_score[pairs.gt_det[lo:hi] - gt_start[t], pairs.tracker_det[lo:hi] - tracker_start[t]] = score[lo:hi]
        rows, cols = linear_sum_assignment(-frame_score)
        similarity = s[rows, cols]
        keep = similarity >= ALPHAS[0] - EPS
        matched_gt.append(rows[keep] + gt_start[t])
        matched_tracker.append(cols[keep] + tracker_start[t])
        matched_similarity.append(similarity[keep])
    if not matched_gt:
        return empty, empty, np.zeros(0)
    gt_det, tracker_det = np.concatenate(matched_gt), np.concatenate(matched_tracker)
    return seq.gt_id[gt_det], seq.tracker_id[tracker_det], np.concatenate(matched_similarity)
