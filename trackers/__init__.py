"""Multi-object trackers (pure numpy/scipy, no torch).

An online tracker consumes one frame's :class:`~trackers.types.Detections` at a time
(``update``) and returns :class:`~trackers.types.FrameTracks`; ``reset`` starts a new
sequence. An offline tracker maps a whole sequence at once (``track``).
:func:`track_sequence` runs either over a sequence.
"""
from trackers.base import OfflineTracker, OnlineTracker, Tracker, frame_tracks_from_detections, track_sequence
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
    "OfflineTracker",
    "OnlineTracker",
    "RetinaTrackTracker",
    "Tracker",
    "box_iou",
    "cosine_similarity",
    "frame_tracks_from_detections",
    "greedy_assignment",
    "hungarian_assignment",
    "track_sequence",
]
