"""Multi-object trackers (pure numpy/scipy, no torch).

An online tracker consumes one frame's :class:`~trackers.types.Detections` at a time
(``update``) and returns :class:`~trackers.types.FrameTracks`; ``reset`` starts a new
sequence. An offline tracker maps a whole sequence at once (``track``).
:func:`track_sequence` runs either over a sequence.
"""
from trackers.aoa import AOATracker, concatenate_features, frame_stride
from trackers.appearance_cascade import AppearanceCascadeTracker
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
    paired_box_iou,
    unmatched,
)
from trackers.optical_flow import FarnebackFlow
from trackers.post_association import link_tracklets
from trackers.remots import ReMOTSTracker
from trackers.retinatrack import RetinaTrackTracker
from trackers.sort import SortTracker
from trackers.types import Detections, FrameTracks

__all__ = [
    "AOATracker",
    "AppearanceCascadeTracker",
    "DMTrackLinker",
    "Detections",
    "FarnebackFlow",
    "FrameTracks",
    "IoUTracker",
    "KalmanBoxFilter",
    "LtaoSelector",
    "OfflineTracker",
    "OnlineTracker",
    "ReMOTSTracker",
    "RetinaTrackTracker",
    "SortTracker",
    "Tracker",
    "box_iou",
    "chi2_gate",
    "concatenate_features",
    "cosine_similarity",
    "frame_stride",
    "frame_tracks_from_detections",
    "greedy_assignment",
    "hungarian_assignment",
    "link_tracklets",
    "mask_iou",
    "paired_box_iou",
    "track_sequence",
    "unmatched",
]
