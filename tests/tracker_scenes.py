"""Building blocks of the constructed tracker test scenes."""
from __future__ import annotations

import numpy as np

from trackers.types import Detections


def dets(boxes, embs=None, *, labels=None, scores=None) -> Detections:
    """One frame's detections: xyxy ``boxes``, optional ``(N, D)`` embeddings, labels
    (default 0) and scores (default 0.9)."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    n = len(boxes)
    return Detections(
        boxes=boxes,
        scores=np.full(n, 0.9) if scores is None else scores,
        labels=np.zeros(n) if labels is None else labels,
        embeddings=None if embs is None else np.asarray(embs, np.float32).reshape(n, -1),
    )


def ids_by_det(frame_tracks) -> dict[int, int]:
    """The track id of each detection index of one frame's ``FrameTracks``."""
    return dict(zip(frame_tracks.det_indices.tolist(), frame_tracks.track_ids.tolist()))
