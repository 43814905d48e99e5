"""PA, AOA's tracklet-level post association: re-link tracklets that have no temporal
overlap by the cosine similarity of their mean appearance features.

Rule (AOA §2.3): two tracklets may be linked only when their time spans
``[first frame, last frame]`` are disjoint, and are linked when the cosine similarity of
their mean (raw) embeddings exceeds ``min_similarity``. We link greedily, the most similar
allowed pair first; a linked group then behaves as one tracklet: its mean is the mean of
all its observations, and it may not be linked to any tracklet overlapping one of its
members. (The authors' release scans pairs in id order; most-similar-first makes the
result independent of id order.)
"""
from __future__ import annotations

import numpy as np

from trackers.matching import cosine_similarity
from trackers.tracklets import Tracklets

__all__ = ["link_tracklets"]


def link_tracklets(tracklets: Tracklets, min_similarity: float, class_aware: bool = True) -> np.ndarray:
    """Group tracklets by mean-appearance similarity without temporal overlap.

    Args:
        tracklets: the sequence's tracklets (``T`` of them).
        min_similarity: pairs link when their mean-embedding cosine similarity is strictly
            above this.
        class_aware: never link tracklets with different labels.

    Returns:
        ``(T,)`` int64 group index of each tracklet (the index of one of its members).
    """
    sums = tracklets.embedding_sums(normalize=False)
    blocked = tracklets.frame_gaps() <= 0  # overlapping spans, and the diagonal
    if class_aware:
        blocked |= ~tracklets.same_label()
    sim = cosine_similarity(sums, sums)
    groups = np.arange(len(tracklets))
    while len(groups):
        candidates = np.where(blocked, -np.inf, sim)
        i, j = np.unravel_index(np.argmax(candidates), candidates.shape)
        if not candidates[i, j] > min_similarity:
            break
        groups[groups == j] = i
        sums[i] += sums[j]
        blocked[i] |= blocked[j]
        blocked[:, i] = blocked[i]
        blocked[j, :] = blocked[:, j] = True
        sim[i] = sim[:, i] = cosine_similarity(sums[i : i + 1], sums)[0]
    return groups
