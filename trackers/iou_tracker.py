"""IoU-only online tracker: the "IoU baseline" of RetinaTrack (Lu et al., CVPR 2020).

Each live track remembers the box of its last matched detection. Per frame the
similarity between tracks and detections is their IoU; pairs are matched greedily
(highest IoU first) if IoU >= ``iou_threshold`` (and, when ``class_aware``, the labels
agree). Unmatched detections start new tracks (with ``birth_score`` set, only those
scoring at least that). No motion model and no appearance, so an object that moves
further than its own size between frames gets a new id.
"""
from __future__ import annotations

import numpy as np

from trackers.base import OnlineTracker
from trackers.matching import box_iou, greedy_assignment
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
    """

    def __init__(
        self,
        iou_threshold: float = 0.3,
        max_age: int = 1,
        min_score: float = 0.0,
        birth_score: float | None = None,
        class_aware: bool = True,
    ) -> None:
        super().__init__()
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        self.iou_threshold = float(iou_threshold)
        self.max_age = int(max_age)
        self.min_score = float(min_score)
        self.birth_score = None if birth_score is None else float(birth_score)
        self.class_aware = bool(class_aware)
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

        # matched tracks take the detection's box (and label)
        self._boxes[t_idx] = boxes[d_idx]
        self._labels[t_idx] = labels[d_idx]
        out_ids = self._ids[t_idx]
        # unmatched detections start tracks; tracks unmatched too long die
        self._misses, alive, new_d, new_ids = self._after_assignment(
            self._misses, t_idx, dets.scores[keep], d_idx, self.max_age, self.birth_score
        )
        self._ids = np.concatenate([self._ids[alive], new_ids])
        self._boxes = np.concatenate([self._boxes[alive], boxes[new_d]]).astype(np.float32)
        self._labels = np.concatenate([self._labels[alive], labels[new_d]])
        self._misses = np.concatenate([self._misses[alive], np.zeros(len(new_d), np.int64)])
        self.frame_index += 1

        return self._output(
            dets,
            np.concatenate([keep[d_idx], keep[new_d]]),
            np.concatenate([out_ids, new_ids]),
        )
