"""Identity metrics IDF1 / IDP / IDR (Ristani et al. 2016) of one sequence.

Every ground-truth track is paired with at most one tracker track for the whole sequence so
that the number of frames in which paired tracks match (similarity ``>= threshold``) is
maximal: those frames are the IDTP. This maximum-weight bipartite matching on the
``(gt track, tracker track)`` co-occurrence counts has the same optimum as the
``(G + D) x (G + D)`` IDFN + IDFP assignment of the original formulation (pairing ``g`` with
``d`` costs ``n_g + n_d - 2 m_gd``), on a much smaller matrix: only tracks with at least one
matchable frame take part.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

from eval.conventions import divide
from eval.sequence import TrackingSequence

__all__ = ["identity_counts", "identity_metrics"]


def identity_counts(seq: TrackingSequence, threshold: float = 0.5, conventions: str = "trackeval") -> dict:
    """``IDTP``, ``IDFN``, ``IDFP`` of one sequence.

    A pair is matchable when ``similarity >= threshold`` (``"trackeval"``) or
    ``1 - similarity <= 1 - threshold`` (``"motmetrics"``).
    """
    pairs = seq.pairs
    if conventions == "motmetrics":
        ok = 1.0 - pairs.similarity <= 1.0 - threshold
    else:
        ok = pairs.similarity >= threshold
    key = np.sort(pairs.gt_id[ok] * seq.num_tracker_ids + pairs.tracker_id[ok])
    first = np.flatnonzero(np.diff(key, prepend=-1))  # starts of runs of one (gt, tracker) pair
    pair, count = key[first], np.diff(np.r_[first, len(key)])
    gt_ids, rows = np.unique(pair // max(seq.num_tracker_ids, 1), return_inverse=True)
    tracker_ids, cols = np.unique(pair % max(seq.num_tracker_ids, 1), return_inverse=True)
    co_occurrence = np.zeros((len(gt_ids), len(tracker_ids)))
    co_occurrence[rows, cols] = count
    rows, cols = linear_sum_assignment(co_occurrence, maximize=True)
    idtp = int(co_occurrence[rows, cols].sum())
    return {"IDTP": idtp, "IDFN": seq.num_gt_dets - idtp, "IDFP": seq.num_tracker_dets - idtp}


def identity_metrics(counts: Mapping, conventions: str = "trackeval") -> dict:
    """IDF1, IDP, IDR and the counts. ``"trackeval"`` divides by ``max(1, denominator)``,
    ``"motmetrics"`` plainly (NaN for 0 / 0)."""
    idtp, idfn, idfp = counts["IDTP"], counts["IDFN"], counts["IDFP"]
    return {
        "IDF1": divide(idtp, idtp + 0.5 * idfp + 0.5 * idfn, conventions),
        "IDP": divide(idtp, idtp + idfp, conventions),
        "IDR": divide(idtp, idtp + idfn, conventions),
        "IDTP": int(idtp), "IDFN": int(idfn), "IDFP": int(idfp),
    }
