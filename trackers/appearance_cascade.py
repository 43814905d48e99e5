"""DeepSORT's matching cascade with appearance only (the linker of AOA, the TAO 2020
challenge winner: "feature linking strategies come from DeepSORT by removing its
dependency on geometry cues").

Per frame:

1. detections with ``score < min_score`` are dropped;
2. the distance of track ``k`` to detection ``j`` is the smallest cosine distance
   ``1 - cos(r, f_j)`` over the track's gallery ``R_k`` (its last ``gallery_size``
   matched embeddings; DeepSORT's "nearest neighbour" metric); with ``class_aware`` a
   track never takes a detection of another label;
3. matching cascade by track age: tracks missed 0 frames are matched first, then those
   missed 1 frame, ... up to ``max_age``; each level solves DeepSORT's min-cost matching
   (:func:`gated_min_cost_matching`) against the detections left by earlier levels;
4. matched tracks append the detection's embedding to their gallery; unmatched detections
   start tracks (confirmed at birth: AOA runs DeepSORT with ``n_init = 1``, and its
   tentative state only existed for IoU matching, which AOA removes); a track missed more
   than ``max_age`` consecutive frames is deleted.

No box, motion or Kalman filter enters the association; boxes are only reported.
"""
from __future__ import annotations

import numpy as np

from trackers.base import OnlineTracker
from trackers.matching import cosine_similarity, hungarian_assignment
from trackers.types import Detections, FrameTracks

__all__ = ["AppearanceCascadeTracker", "gated_min_cost_matching"]


def gated_min_cost_matching(cost: np.ndarray, max_cost: float) -> tuple[np.ndarray, np.ndarray]:
    """DeepSORT's ``min_cost_matching``: entries above ``max_cost`` (or non-finite) cost
    ``max_cost + 1e-5`` in the assignment problem and are dropped from its solution.

    Equivalent to maximising ``sum(max_cost + 1e-5 - cost)`` over the accepted pairs, so
    one close pair may win over two pairs near the gate.

    Args:
        cost: ``(N, M)`` distances.
        max_cost: gate (inclusive).

    Returns:
        ``(rows, cols)`` int64 arrays of the accepted pairs.
    """
    cost = np.asarray(cost, np.float64)
    valid = np.isfinite(cost) & (cost <= max_cost)
    rows, cols = hungarian_assignment(np.where(valid, cost, max_cost + 1e-5))
    keep = valid[rows, cols]
    return rows[keep], cols[keep]


class AppearanceCascadeTracker(OnlineTracker):
    """Appearance-only DeepSORT matching cascade with per-track feature galleries.

    Args:
        max_cosine_distance: gate on the gallery cosine distance (inclusive).
        gallery_size: embeddings kept per track (the most recent ones).
        max_age: consecutive unmatched (processed) frames a track survives; it is deleted
            at its ``max_age + 1``-th. Also the cascade depth.
        min_score: detections with ``score < min_score`` are ignored.
        class_aware: forbid matching a track to a detection of another label.

    ``update`` needs ``Detections.embeddings`` on non-empty frames (``ValueError``).
    """

    requires_embeddings = True

    def __init__(
        self,
        max_cosine_distance: float = 0.4,
        gallery_size: int = 70,
        max_age: int = 11,
        min_score: float = 0.0,
        class_aware: bool = True,
    ) -> None:
        super().__init__()
        if gallery_size < 1:
            raise ValueError(f"gallery_size must be >= 1, got {gallery_size}")
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        self.max_cosine_distance = float(max_cosine_distance)
        self.gallery_size = int(gallery_size)
        self.max_age = int(max_age)
        self.min_score = float(min_score)
        self.class_aware = bool(class_aware)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._ids = np.zeros(0, np.int64)
        self._labels = np.zeros(0, np.int64)
        self._misses = np.zeros(0, np.int64)
        self._galleries: list[np.ndarray] = []  # per track (g, D), oldest first

    @property
    def num_tracks(self) -> int:
        """Number of live tracks."""
        return len(self._ids)

    def gallery_distance(self, tracks: np.ndarray, embs: np.ndarray) -> np.ndarray:
        """``(len(tracks), N)`` smallest cosine distance between each listed track's
        gallery and each embedding of ``embs`` ``(N, D)``."""
        galleries = [self._galleries[k] for k in tracks]
        sim = cosine_similarity(np.concatenate(galleries), embs)
        starts = np.cumsum([0] + [len(g) for g in galleries[:-1]])
        return 1.0 - np.maximum.reduceat(sim, starts, axis=0)

    def _cascade(self, embs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Match live tracks to detections level by level (misses 0, 1, ..., max_age)."""
        free = np.arange(len(embs))
        matched_t, matched_d = [], []
        for level in range(self.max_age + 1):
            tracks = np.flatnonzero(self._misses == level)
            if not len(free):
                break
            if not len(tracks):
                continue
            cost = self.gallery_distance(tracks, embs[free])
            if self.class_aware:
                cost[self._labels[tracks][:, None] != labels[free][None, :]] = np.inf
            rows, cols = gated_min_cost_matching(cost, self.max_cosine_distance)
            matched_t.append(tracks[rows])
            matched_d.append(free[cols])
            free = np.delete(free, cols)
        as_index = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return as_index(matched_t), as_index(matched_d)

    def update(self, dets: Detections) -> FrameTracks:
        if len(dets) and dets.embeddings is None:
            raise ValueError("AppearanceCascadeTracker needs Detections.embeddings")
        keep = np.flatnonzero(dets.scores >= self.min_score)
        labels = dets.labels[keep]
        embs = dets.embeddings[keep] if len(keep) else np.zeros((0, 0), np.float32)
        t_idx, d_idx = self._cascade(embs, labels)

        for t, d in zip(t_idx.tolist(), d_idx.tolist()):
            self._galleries[t] = np.concatenate([self._galleries[t], embs[d : d + 1]])[-self.gallery_size :]
        out_ids = self._ids[t_idx]
        self._misses, alive, new_d, new_ids = self._after_assignment(
            self._misses, t_idx, dets.scores[keep], d_idx, self.max_age
        )
        self._ids = np.concatenate([self._ids[alive], new_ids])
        self._labels = np.concatenate([self._labels[alive], labels[new_d]])
        self._misses = np.concatenate([self._misses[alive], np.zeros(len(new_d), np.int64)])
        self._galleries = [g for g, a in zip(self._galleries, alive) if a] + [embs[d : d + 1] for d in new_d]
        self.frame_index += 1

        return self._output(
            dets,
            np.concatenate([keep[d_idx], keep[new_d]]),
            np.concatenate([out_ids, new_ids]),
        )
