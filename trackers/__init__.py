"""Multi-object trackers (pure numpy/scipy, no torch).

An online tracker consumes one frame's :class:`~trackers.types.Detections` at a time
(``update``) and returns :class:`~trackers.types.FrameTracks`; ``reset`` starts a new
sequence. An offline tracker maps a whole sequence at once (``track``).
:func:`track_sequence` runs either over a sequence.
"""
from trackers.base import OfflineTracker, OnlineTracker, Tracker, frame_tracks_from_detections, track_sequence
from trackers.dmtrack import DMTrackLinker
from trackers.iou_tracker import IoUTracker
from trackers.kalman import KalmanBoxFilter, chi2_gate
from trackers.ltao_selector import LtaoSelector
from trackers.matching import (
    box_iou,
    cosine_similarity,
    greedy_assignment,
    hungarian_assignment,
    mask_iou,
    unmatched,
)
from trackers.retinatrack import RetinaTrackTracker
from trackers.sort import SortTracker
from trackers.types import Detections, FrameTracks

__all__ = [
    "DMTrackLinker",
    "Detections",
    "FrameTracks",
    "IoUTracker",
    "KalmanBoxFilter",
    "LtaoSelector",
    "OfflineTracker",
    "OnlineTracker",
    "RetinaTrackTracker",
    "SortTracker",
    "Tracker",
    "box_iou",
    "chi2_gate",
    "cosine_similarity",
    "frame_tracks_from_detections",
    "greedy_assignment",
    "hungarian_assignment",
    "mask_iou",
    "track_sequence",
    "unmatched",
]
