"""ReMOTS §2.5: merging short-term tracklets by hierarchical clustering.

Distance between tracklets ``k1 != k2`` (``W^long``): the mean pairwise cosine distance of
their observations, ``mean_{i in k1, j in k2} (1 - cos(f_i, f_j))``; it is infinite when
their time spans overlap or the gap between them exceeds ``max_gap`` frames (and, with
``class_aware``, when their labels differ). Clusters are built with **centroid linkage**
(``scipy.cluster.hierarchy``): its Lance-Williams update keeps a cluster infinitely far
from every tracklet that is infinitely far from one of its members, so the constraints
hold for whole clusters. SciPy needs finite input, so "infinite" is a large finite
distance that no merge within the cut can reach. The dendrogram is cut at ``cut`` (flat
clusters whose every internal merge is at most ``cut``).
"""
from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from trackers.tracklets import Tracklets

__all__ = ["merge_tracklets", "tracklet_distances"]

FORBIDDEN = 1e6  # stands for an infinite distance; cosine distances are at most 2


def tracklet_distances(tracklets: Tracklets, max_gap: int, class_aware: bool = True) -> np.ndarray:
    """``W^long`` as a ``(T, T)`` matrix with ``FORBIDDEN`` for forbidden pairs (diagonal 0)."""
    means = tracklets.embedding_sums(normalize=True) / tracklets.sizes()[:, None]
    dist = np.clip(1.0 - means @ means.T, 0.0, 2.0)
    gaps = tracklets.frame_gaps()
    forbidden = (gaps <= 0) | (gaps > max_gap)
    if class_aware:
        forbidden |= ~tracklets.same_label()
    dist[forbidden] = FORBIDDEN
    np.fill_diagonal(dist, 0.0)
    return dist


def merge_tracklets(tracklets: Tracklets, cut: float, max_gap: int, class_aware: bool = True) -> np.ndarray:
    """Cluster tracklets (centroid linkage) and cut at distance ``cut``.

    Returns:
        ``(T,)`` int64 cluster index of each tracklet.
    """
    if len(tracklets) < 2:
        return np.arange(len(tracklets))
    condensed = squareform(tracklet_distances(tracklets, max_gap, class_aware), checks=False)
    tree = linkage(condensed, method="centroid")
    return fcluster(tree, t=cut, criterion="distance").astype(np.int64) - 1
