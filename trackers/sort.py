"""SORT (Bewley et al., "Simple Online and Realtime Tracking", ICIP 2016), vectorised.

Per frame:

1. drop detections with ``score < min_score``;
2. predict every track one frame ahead with the constant-velocity Kalman filter;
3. Hungarian assignment on ``1 - IoU(predicted box, detection)``; a pair is only accepted
   with ``IoU >= iou_threshold`` (and, with ``class_aware``, equal labels);
4. matched tracks are corrected with their detection; unmatched detections start tracks
   (with ``birth_score`` set, only those scoring at least that: ByteTrack's rule, not in
   SORT); a track unmatched for more than ``max_age`` consecutive frames is deleted;
5. a matched track is output only once it has been matched ``min_hits`` frames in a row,
   except during the first ``min_hits`` frames of the sequence. ``min_hits`` only delays
   output: the track exists and keeps its id from its first detection on.

Defaults are the paper's (IoU_min 0.3; the reference code's ``max_age=1``, ``min_hits=3``).
The filter is :class:`~trackers.kalman.KalmanBoxFilter` (``[cx, cy, a, h]``, noise scaled
by box height) instead of SORT's ``[cx, cy, s, r]`` with fixed noise. Output boxes are
the filtered (posterior) states, as in SORT; ``det_indices`` name the matched detection.
"""
from __future__ import annotations

import numpy as np

from trackers.base import OnlineTracker, births
from trackers.kalman import KalmanBoxFilter
from trackers.kalman_tracks import KalmanTracks
from trackers.matching import box_iou, hungarian_assignment
from trackers.types import Detections, FrameTracks

__all__ = ["SortTracker"]


class SortTracker(OnlineTracker):
    """SORT: Kalman prediction + Hungarian matching on IoU.

    Args:
        iou_threshold: minimum IoU (inclusive) between a predicted box and a detection.
        max_age: consecutive unmatched frames a track survives (deleted at ``max_age + 1``).
        min_hits: consecutive matched frames before a track is output.
        min_score: detections with ``score < min_score`` are ignored.
        birth_score: detections with ``score < birth_score`` extend tracks but start none
            (``None``: every kept detection may start a track).
        class_aware: forbid matching a track to a detection with a different label.
    """

    def __init__(
        self,
        iou_threshold: float = 0.3,
        max_age: int = 1,
        min_hits: int = 3,
        min_score: float = 0.0,
        birth_score: float | None = None,
        class_aware: bool = True,
    ) -> None:
        super().__init__()
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        if min_hits < 1:
            raise ValueError(f"min_hits must be >= 1, got {min_hits}")
        self.iou_threshold = float(iou_threshold)
        self.max_age = int(max_age)
        self.min_hits = int(min_hits)
        self.min_score = float(min_score)
        self.birth_score = None if birth_score is None else float(birth_score)
        self.class_aware = bool(class_aware)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.tracks = KalmanTracks(KalmanBoxFilter())

    @property
    def num_tracks(self) -> int:
        """Number of live tracks (including those not output yet)."""
        return len(self.tracks)

    def update(self, dets: Detections) -> FrameTracks:
        tracks = self.tracks
        keep = np.flatnonzero(dets.scores >= self.min_score)
        boxes, labels = dets.boxes[keep], dets.labels[keep]

        tracks.predict()
        iou = box_iou(tracks.boxes, boxes)
        valid = iou >= self.iou_threshold
        if self.class_aware:
            valid &= tracks.labels[:, None] == labels[None, :]
        t_idx, d_idx = hungarian_assignment(1.0 - iou, valid)

        tracks.correct(t_idx, boxes[d_idx], labels[d_idx])
        tracks.count(t_idx)
        alive = tracks.misses <= self.max_age
        born = births(dets.scores[keep], d_idx, self.birth_score)
        n_old = len(tracks)
        tracks.append([self._next_track_id() for _ in born], boxes[born], labels[born])

        rows = np.concatenate([t_idx, np.arange(n_old, len(tracks))])
        det_rows = np.concatenate([d_idx, born])
        shown = (tracks.hits[rows] >= self.min_hits) | (self.frame_index < self.min_hits)
        out = tracks.frame_tracks(dets, rows[shown], keep[det_rows[shown]])
        tracks.keep(np.concatenate([alive, np.ones(len(born), bool)]))
        self.frame_index += 1
        return out
