"""Online multi-object trackers (pure numpy/scipy, no torch).

A tracker consumes one frame's :class:`~trackers.types.Detections` at a time
(``update``) and returns :class:`~trackers.types.FrameTracks`; ``reset`` starts a new
sequence. :func:`track_sequence` runs a tracker over a whole sequence.
"""
from trackers.base import OnlineTracker, track_sequence
from trackers.iou_tracker import IoUTracker
from trackers.matching import (
    box_iou,
    cosine_similarity,
    greedy_assignment,
    hungarian_assignment,
)
from trackers.retinatrack import RetinaTrackTracker
from trackers.types import Detections, FrameTracks

__all__ = [
    "Detections",
    "FrameTracks",
    "IoUTracker",
    "OnlineTracker",
    "RetinaTrackTracker",
    "box_iou",
    "cosine_similarity",
    "greedy_assignment",
    "hungarian_assignment",
    "track_sequence",
]
