"""CLEAR MOT counts (Bernardin & Stiefelhagen 2008, MOTChallenge definitions) of one sequence.

The per-frame matching is sequential (it favours continuing the previous frame's pairs), so
it runs frame by frame; everything after it (ID switches, fragmentations, mostly tracked /
lost) is computed from the list of matched pairs in one vectorised pass.

Two conventions (:mod:`eval.mot` lists all differences):

``"trackeval"``
    A pair matches when its similarity is ``>= threshold`` (to float eps). Per frame, the
    assignment maximises ``1000 * continues + similarity``, where ``continues`` marks the
    pairs matched in the previous frame that had both ground truth and tracker detections.
    A fragmentation is a track that becomes tracked again after such a frame in which it
    was not matched (absent counts as not matched); mostly tracked means matched in
    ``> 80%`` of its frames, mostly lost ``< 20%``.
``"motmetrics"``
    A pair matches when ``1 - similarity <= 1 - threshold``. Per frame, first every ground
    truth keeps its last match (from any earlier frame) if that pair is matchable, in input
    order; the rest get the most matches and then the smallest total ``1 - similarity``.
    A fragmentation is a gap of misses between two matched frames of a track (frames where
    the track is absent do not count); mostly tracked means ``>= 80%``.

In both, an ID switch is a match whose tracker id differs from the last tracker id matched
to the same ground-truth track.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

from eval.conventions import check_conventions, divide
from eval.matching import EPS, match_max_count_min_distance
from eval.sequence import TrackingSequence

__all__ = ["clear_counts", "clear_metrics"]


def clear_counts(seq: TrackingSequence, threshold: float = 0.5, conventions: str = "trackeval") -> dict:
    """The summable CLEAR counts of one sequence: ``GT`` / ``Dets`` (ground-truth /
    tracker detections), ``TP`` (matches), ``IDSW``, ``MT``, ``PT``, ``ML``, ``Frag`` (ints)
    and ``MOTP_sum`` (the summed similarity of the matches)."""
    if check_conventions(conventions) == "trackeval":
        gt_det, tracker_det, similarity, position = _match_trackeval(seq, threshold)
        mostly_tracked = np.greater
    else:
        gt_det, tracker_det, similarity = _match_motmetrics(seq, threshold)
        position = _presence_rank(seq.gt_id)[gt_det]
        mostly_tracked = np.greater_equal

    gt_id, tracker_id = seq.gt_id[gt_det], seq.tracker_id[tracker_det]
    order = np.argsort(gt_id, kind="stable")  # by track, then time
    gt_id, tracker_id, position = gt_id[order], tracker_id[order], position[order]
    same_track = gt_id[1:] == gt_id[:-1]
    id_switches = int(np.sum(same_track & (tracker_id[1:] != tracker_id[:-1])))
    run_starts = len(gt_id) - int(np.sum(same_track & (position[1:] == position[:-1] + 1)))
    fragmentations = run_starts - len(np.unique(gt_id))

    matched = np.bincount(gt_id, minlength=seq.num_gt_ids)
    present = np.bincount(seq.gt_id, minlength=seq.num_gt_ids)
    ratio = matched / np.maximum(present, 1)
    mt = int(np.sum(mostly_tracked(ratio, 0.8)))
    pt = int(np.sum(ratio >= 0.2)) - mt
    return {
        "GT": seq.num_gt_dets,
        "Dets": seq.num_tracker_dets,
        "TP": len(gt_det),
        "IDSW": id_switches,
        "MT": mt,
        "PT": pt,
        "ML": seq.num_gt_ids - mt - pt,
        "Frag": fragmentations,
        "MOTP_sum": float(similarity.sum()),
    }


def clear_metrics(counts: Mapping, conventions: str = "trackeval", single_sequence: bool = False) -> dict:
    """MOTA, MOTP (mean similarity of the matches), MODA, sMOTA, Recall, Precision, FP, FN and
    the counts, from (summed) :func:`clear_counts`.

    ``"trackeval"`` divides by ``max(1, denominator)``, and for a ``single_sequence`` without
    ground truth reports MOTA = MODA = sMOTA = 0 (TrackEval returns early there; combined
    rows compute them from the sums). ``"motmetrics"`` divides plainly: NaN for 0 / 0,
    ``-inf`` for MOTA of false positives without ground truth.
    """
    gt, tp, idsw, motp_sum = counts["GT"], counts["TP"], counts["IDSW"], counts["MOTP_sum"]
    fn, fp = gt - tp, counts["Dets"] - tp
    out = {
        "MOTA": divide(tp - fp - idsw, gt, conventions),
        "MOTP": divide(motp_sum, tp, conventions),
        "MODA": divide(tp - fp, gt, conventions),
        "sMOTA": divide(motp_sum - fp - idsw, gt, conventions),
        "Recall": divide(tp, gt, conventions),
        "Precision": divide(tp, tp + fp, conventions),
    }
    if conventions == "trackeval" and single_sequence and gt == 0:
        out.update(MOTA=0.0, MODA=0.0, sMOTA=0.0)
    out.update(
        TP=int(tp), FP=int(fp), FN=int(fn), IDSW=int(idsw),
        MT=int(counts["MT"]), PT=int(counts["PT"]), ML=int(counts["ML"]), Frag=int(counts["Frag"]),
    )
    return out


def _presence_rank(track_ids: np.ndarray) -> np.ndarray:
    """For detections in frame order: how many earlier detections the same track has."""
    order = np.argsort(track_ids, kind="stable")
    sorted_ids = track_ids[order]
    first = np.searchsorted(sorted_ids, sorted_ids, side="left")
    rank = np.empty(len(track_ids), np.int64)
    rank[order] = np.arange(len(track_ids)) - first
    return rank


def _match_trackeval(seq: TrackingSequence, threshold: float):
    """Matched pairs as ``(gt_det, tracker_det, similarity, step)`` arrays, where ``step``
    numbers the frames that have both ground truth and tracker detections."""
    last_tracker = np.full(seq.num_gt_ids, -1)
    last_step = np.full(seq.num_gt_ids, -2)
    gt_start, tracker_start = seq.gt_offsets, seq.tracker_offsets
    out_gt, out_tracker, out_sim, out_step = [], [], [], []
    step = 0
    for t, (g, d, s) in enumerate(zip(seq.gt_ids, seq.tracker_ids, seq.similarity)):
        if not len(g) or not len(d):
            continue
        continues = (last_step[g] == step - 1)[:, None] & (last_tracker[g][:, None] == d[None, :])
        score = 1000 * continues + s
        score[s < threshold - EPS] = 0
        rows, cols = linear_sum_assignment(-score)
        keep = score[rows, cols] > EPS
        rows, cols = rows[keep], cols[keep]
        last_tracker[g[rows]] = d[cols]
        last_step[g[rows]] = step
        out_gt.append(rows + gt_start[t])
        out_tracker.append(cols + tracker_start[t])
        out_sim.append(s[rows, cols])
        out_step.append(np.full(len(rows), step))
        step += 1
    return _cat(out_gt), _cat(out_tracker), _cat(out_sim, np.float64), _cat(out_step)


def _match_motmetrics(seq: TrackingSequence, threshold: float):
    """Matched pairs as ``(gt_det, tracker_det, similarity)`` arrays (motmetrics' rule)."""
    last_tracker = np.full(seq.num_gt_ids, -1)
    max_distance = 1.0 - threshold
    gt_start, tracker_start = seq.gt_offsets, seq.tracker_offsets
    out_gt, out_tracker, out_sim = [], [], []
    for t, (g, d, s) in enumerate(zip(seq.gt_ids, seq.tracker_ids, seq.similarity)):
        if not len(g) or not len(d):
            continue
        distance = 1.0 - s
        valid = distance <= max_distance
        keeps = valid & (last_tracker[g][:, None] == d[None, :])
        kept_rows = np.flatnonzero(keeps.any(axis=1))
        kept_cols = keeps[kept_rows].argmax(axis=1)
        _, first = np.unique(kept_cols, return_index=True)  # a column goes to its first row
        first.sort()
        kept_rows, kept_cols = kept_rows[first], kept_cols[first]
        valid[kept_rows, :] = False
        valid[:, kept_cols] = False
        new_rows, new_cols = match_max_count_min_distance(np.where(valid, distance, np.nan))
        rows, cols = np.concatenate([kept_rows, new_rows]), np.concatenate([kept_cols, new_cols])
        last_tracker[g[rows]] = d[cols]
        out_gt.append(rows + gt_start[t])
        out_tracker.append(cols + tracker_start[t])
        out_sim.append(s[rows, cols])
    return _cat(out_gt), _cat(out_tracker), _cat(out_sim, np.float64)


def _cat(arrays: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)
