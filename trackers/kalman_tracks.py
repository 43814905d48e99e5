"""Live tracks of a Kalman-filtered tracker (SORT, DMTrack), stored as parallel arrays.

One row per track: id, label, Kalman ``mean (8,)`` / ``cov (8, 8)`` (see
:mod:`trackers.kalman`), ``misses`` (consecutive frames without a detection), ``hits``
(consecutive frames with one), plus any per-tracker columns (e.g. appearance features)
that are kept row-aligned through :meth:`KalmanTracks.append` and :meth:`KalmanTracks.keep`.
"""
from __future__ import annotations

import numpy as np

from trackers.kalman import KalmanBoxFilter, xyah_to_xyxy, xyxy_to_xyah
from trackers.types import Detections, FrameTracks

__all__ = ["KalmanTracks"]


class KalmanTracks:
    """``T`` tracks as arrays: ``ids (T,)``, ``labels (T,)``, ``mean (T, 8)``,
    ``cov (T, 8, 8)``, ``misses (T,)``, ``hits (T,)`` and ``columns[name] (T, ...)``.

    Args:
        kalman: the filter that predicts and corrects every track.
        columns: empty templates ``(0, ...)`` of the extra per-track arrays.
    """

    def __init__(self, kalman: KalmanBoxFilter, **columns: np.ndarray) -> None:
        self.kalman = kalman
        self.ids = np.zeros(0, np.int64)
        self.labels = np.zeros(0, np.int64)
        self.mean = np.zeros((0, 8))
        self.cov = np.zeros((0, 8, 8))
        self.misses = np.zeros(0, np.int64)
        self.hits = np.zeros(0, np.int64)
        self.columns = {name: np.asarray(template)[:0] for name, template in columns.items()}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def boxes(self) -> np.ndarray:
        """``(T, 4)`` ``x1, y1, x2, y2`` of the current state means."""
        return xyah_to_xyxy(self.mean)

    def predict(self) -> None:
        """Advance every track by one frame."""
        self.mean, self.cov = self.kalman.predict(self.mean, self.cov)

    def correct(self, rows: np.ndarray, boxes: np.ndarray, labels: np.ndarray) -> None:
        """Kalman-update tracks ``rows (K,)`` with ``(K, 4)`` xyxy boxes; they take ``labels``."""
        self.mean[rows], self.cov[rows] = self.kalman.update(self.mean[rows], self.cov[rows], xyxy_to_xyah(boxes))
        self.labels[rows] = labels

    def count(self, matched_rows: np.ndarray) -> None:
        """End-of-frame bookkeeping: matched tracks ``misses = 0, hits += 1``; the others
        ``misses += 1, hits = 0``."""
        matched = np.zeros(len(self), bool)
        matched[matched_rows] = True
        self.misses = np.where(matched, 0, self.misses + 1)
        self.hits = np.where(matched, self.hits + 1, 0)

    def append(self, ids: np.ndarray, boxes: np.ndarray, labels: np.ndarray, **columns: np.ndarray) -> None:
        """Start tracks from ``(K, 4)`` xyxy boxes (``hits = 1``, ``misses = 0``); every
        extra column must be given, ``(K, ...)``."""
        if set(columns) != set(self.columns):
            raise ValueError(f"append needs columns {sorted(self.columns)}, got {sorted(columns)}")
        mean, cov = self.kalman.initiate(xyxy_to_xyah(boxes))
        k = len(mean)
        self.ids = np.concatenate([self.ids, np.asarray(ids, np.int64)])
        self.labels = np.concatenate([self.labels, np.asarray(labels, np.int64)])
        self.mean = np.concatenate([self.mean, mean])
        self.cov = np.concatenate([self.cov, cov])
        self.misses = np.concatenate([self.misses, np.zeros(k, np.int64)])
        self.hits = np.concatenate([self.hits, np.ones(k, np.int64)])
        for name, values in columns.items():
            self.columns[name] = np.concatenate([self.columns[name], np.asarray(values, self.columns[name].dtype)])

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the tracks where the ``(T,)`` bool ``mask`` is True."""
        for name in ("ids", "labels", "mean", "cov", "misses", "hits"):
            setattr(self, name, getattr(self, name)[mask])
        self.columns = {name: values[mask] for name, values in self.columns.items()}

    def frame_tracks(
        self, dets: Detections, rows: np.ndarray, det_indices: np.ndarray, detection_boxes: bool = False
    ) -> FrameTracks:
        """Output of tracks ``rows`` matched to ``det_indices`` of ``dets``: the filtered
        (posterior) box, or the detection's box with ``detection_boxes``, and the
        detection's score and label; ordered by detection index."""
        rows, det_indices = np.asarray(rows, np.int64), np.asarray(det_indices, np.int64)
        order = np.argsort(det_indices, kind="stable")
        rows, det_indices = rows[order], det_indices[order]
        boxes = dets.boxes[det_indices] if detection_boxes else xyah_to_xyxy(self.mean[rows])
        return FrameTracks(
            track_ids=self.ids[rows],
            boxes=boxes.astype(np.float32),
            scores=dets.scores[det_indices].astype(np.float32),
            labels=dets.labels[det_indices].astype(np.int64),
            det_indices=det_indices,
        )
