"""IoU-only online tracker: the "IoU baseline" of RetinaTrack (Lu et al., CVPR 2020).

Each live track remembers the box of its last matched detection. Per frame the
similarity between tracks and detections is their IoU; pairs are matched greedily
(highest IoU first) if IoU >= ``iou_threshold`` (and, when ``class_aware``, the labels
agree). Unmatched detections start new tracks (with ``birth_score`` set, only those
scoring at least that). With ``low_score`` set, detections scoring in
``[low_score, min_score)`` may extend the tracks left unmatched (ByteTrack's second
association, :func:`~trackers.matching.low_score_association`). No motion model and no
appearance, so an object that moves further than its own size between frames gets a new
id.
"""
from __future__ import annotations

import numpy as np

from trackers.base import OnlineTracker
from trackers.matching import box_iou, greedy_assignment, low_score_association
from trackers.types import Detections, FrameTracks

__all__ = ["IoUTracker"]


class IoUTracker(OnlineTracker):
    """Greedy IoU tracker.

    Args:
        iou_threshold: minimum IoU (inclusive) between a track's last box and a detection.
        max_age: number of consecutive frames a track may stay unmatched and still be
            matched afterwards; it is deleted at its ``max_age + 1``-th unmatched frame
            (``max_age=0``: a track lives only while matched every frame).
        min_score: detections with ``score < min_score`` are ignored.
        birth_score: detections with ``score < birth_score`` extend tracks but start none
            (``None``: every kept detection may start a track).
        class_aware: forbid matching a track to a detection with a different label.
        low_score: detections with ``low_score <= score < min_score`` are matched, by
            IoU alone, to the tracks left unmatched, and start none (``None``: off; ours,
            ByteTrack's second association).
        low_iou_threshold: minimum IoU of that second association (ByteTrack: 0.5).
    """

    def __init__(
        self,
        iou_threshold: float = 0.3,
        max_age: int = 1,
        min_score: float = 0.0,
        birth_score: float | None = None,
        class_aware: bool = True,
        low_score: float | None = None,
        low_iou_threshold: float = 0.5,
    ) -> None:
        super().__init__()
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        self.iou_threshold = float(iou_threshold)
        self.max_age = int(max_age)
        self.min_score = float(min_score)
        self.birth_score = None if birth_score is None else float(birth_score)
        self.class_aware = bool(class_aware)
        self.low_score = None if low_score is None else float(low_score)
        self.low_iou_threshold = float(low_iou_threshold)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._ids = np.zeros(0, np.int64)
        self._boxes = np.zeros((0, 4), np.float32)
        self._labels = np.zeros(0, np.int64)
        self._misses = np.zeros(0, np.int64)  # consecutive unmatched frames

    @property
    def num_tracks(self) -> int:
        """Number of live tracks (matched recently enough to be matched again)."""
        return len(self._ids)

    def update(self, dets: Detections) -> FrameTracks:
        keep = np.flatnonzero(dets.scores >= self.min_score)
        boxes, labels = dets.boxes[keep], dets.labels[keep]

        iou = box_iou(self._boxes, boxes)
        valid = self._labels[:, None] == labels[None, :] if self.class_aware else None
        t_idx, d_idx = greedy_assignment(iou, valid, min_score=self.iou_threshold)
        t_all, d_all = t_idx, keep[d_idx]  # every match: track rows, detection indices
        if self.low_score is not None:
            low = np.flatnonzero((dets.scores >= self.low_score) & (dets.scores < self.min_score))
            t_all, d_all = low_score_association(
                self._boxes, self._labels, (t_all, d_all), dets.boxes, dets.labels, low,
                self.low_iou_threshold, self.class_aware,
            )

        # matched tracks take the detection's box (and label)
        self._boxes[t_all] = dets.boxes[d_all]
        self._labels[t_all] = dets.labels[d_all]
        out_ids = self._ids[t_all]
        # unmatched detections start tracks; tracks unmatched too long die
        self._misses, alive, new_d, new_ids = self._after_assignment(
            self._misses, t_all, dets.scores[keep], d_idx, self.max_age, self.birth_score
        )
        self._ids = np.concatenate([self._ids[alive], new_ids])
        self._boxes = np.concatenate([self._boxes[alive], boxes[new_d]]).astype(np.float32)
        self._labels = np.concatenate([self._labels[alive], labels[new_d]])
        self._misses = np.concatenate([self._misses[alive], np.zeros(len(new_d), np.int64)])
        self.frame_index += 1

        return self._output(dets, np.concatenate([d_all, keep[new_d]]), np.concatenate([out_ids, new_ids]))
