"""Data passed between a detector and a tracker, and out of a tracker.

Pure numpy: trackers never import torch, so any detector (or a det.txt file) can feed them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Detections:
    """Detections of one frame.

    Attributes:
        boxes: ``(N, 4)`` float32 ``x1, y1, x2, y2`` in pixels.
        scores: ``(N,)`` float32 confidences in ``[0, 1]``.
        labels: ``(N,)`` int64 contiguous category indices.
        embeddings: ``(N, D)`` float32 appearance vectors, or ``None``.
        masks: ``None`` or N COCO RLE dicts.
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    embeddings: np.ndarray | None = None
    masks: list[dict] | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        n = len(self.boxes)
        self.scores = np.asarray(self.scores, np.float32).reshape(n)
        self.labels = np.asarray(self.labels, np.int64).reshape(n)
        if self.embeddings is not None:
            self.embeddings = np.asarray(self.embeddings, np.float32)
            if self.embeddings.ndim != 2 or len(self.embeddings) != n:
                raise ValueError(f"embeddings must be ({n}, D), got {self.embeddings.shape}")

    def __len__(self) -> int:
        return len(self.boxes)

    def select(self, keep: np.ndarray) -> "Detections":
        """Subset by a boolean mask or an index array (like tensor indexing)."""
        keep = np.asarray(keep)
        idx = np.flatnonzero(keep) if keep.dtype == bool else keep
        return Detections(
            boxes=self.boxes[idx],
            scores=self.scores[idx],
            labels=self.labels[idx],
            embeddings=None if self.embeddings is None else self.embeddings[idx],
            masks=None if self.masks is None else [self.masks[i] for i in idx],
        )

    @staticmethod
    def empty(embedding_dim: int | None = None) -> "Detections":
        return Detections(
            boxes=np.zeros((0, 4), np.float32),
            scores=np.zeros(0, np.float32),
            labels=np.zeros(0, np.int64),
            embeddings=None if embedding_dim is None else np.zeros((0, embedding_dim), np.float32),
        )


@dataclass
class FrameTracks:
    """Tracker output for one frame.

    Attributes:
        track_ids: ``(M,)`` int64, stable across frames, starting at 1.
        boxes: ``(M, 4)`` float32 ``x1, y1, x2, y2``.
        scores: ``(M,)`` float32.
        labels: ``(M,)`` int64.
        det_indices: ``(M,)`` int64 index into the frame's Detections; ``-1`` when the row
            is a prediction without a detection.
    """

    track_ids: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    det_indices: np.ndarray

    def __len__(self) -> int:
        return len(self.track_ids)

    @staticmethod
    def empty() -> "FrameTracks":
        return FrameTracks(
            track_ids=np.zeros(0, np.int64),
            boxes=np.zeros((0, 4), np.float32),
            scores=np.zeros(0, np.float32),
            labels=np.zeros(0, np.int64),
            det_indices=np.zeros(0, np.int64),
        )
