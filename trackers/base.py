"""The two tracker interfaces and running either over a sequence.

- :class:`OnlineTracker`: frame by frame (``reset`` then ``update`` per frame);
- :class:`OfflineTracker`: the whole sequence at once (``track``), e.g. trackers that
  link tracklets after seeing every frame.

Both return one :class:`~trackers.types.FrameTracks` per input frame, whose
``det_indices`` point back into that frame's :class:`~trackers.types.Detections`
(``-1`` for a row without a detection), so embeddings and masks can be joined back.
:func:`track_sequence` accepts either.
"""
from __future__ import annotations

import abc
from typing import Iterable, Sequence, Union

import numpy as np

from trackers.matching import unmatched
from trackers.types import Detections, FrameTracks

__all__ = ["OfflineTracker", "OnlineTracker", "Tracker", "births", "track_sequence"]


class OnlineTracker(abc.ABC):
    """Interface of a frame-by-frame (online) multi-object tracker.

    Subclasses implement :meth:`reset` (start a new sequence) and :meth:`update` (consume
    one frame's :class:`Detections`, return :class:`FrameTracks`). ``update`` reports only
    tracks that were matched to, or born from, a detection of this frame; ``det_indices``
    index the ``Detections`` passed in (before any internal score filtering). Track ids
    start at 1 and are never reused within a sequence.

    The base class owns the id counter and the frame counter; use :meth:`_next_track_id`
    for new tracks and :meth:`_output` to build the result. ``requires_embeddings`` tells
    callers whether the tracker needs ``Detections.embeddings``.
    """

    requires_embeddings: bool = False

    def __init__(self) -> None:
        self.frame_index = 0
        self._id_counter = 0

    def reset(self) -> None:
        """Forget all tracks; the next :meth:`update` is frame 0 of a new sequence."""
        self.frame_index = 0
        self._id_counter = 0

    @abc.abstractmethod
    def update(self, dets: Detections) -> FrameTracks:
        """Consume the detections of the next frame and return this frame's tracks."""

    def _next_track_id(self) -> int:
        self._id_counter += 1
        return self._id_counter

    def _after_assignment(
        self, misses: np.ndarray, matched_tracks: np.ndarray, det_scores: np.ndarray,
        matched_dets: np.ndarray, max_age: int, birth_score: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Bookkeeping shared by online trackers once detections are assigned.

        Args:
            misses: ``(T,)`` consecutive unmatched frames of each live track so far.
            matched_tracks, matched_dets: the assignment (track rows, detection rows).
            det_scores: ``(N,)`` scores of the detections considered this frame.
            max_age: unmatched frames a track survives (it dies at ``max_age + 1``).
            birth_score: see :func:`births`.

        Returns ``misses`` after this frame ``(T,)``, the ``alive`` mask ``(T,)`` of
        existing tracks, the unmatched detection rows that start tracks, and their new ids.
        """
        matched = np.zeros(len(misses), bool)
        matched[matched_tracks] = True
        misses = np.where(matched, 0, misses + 1)
        born = births(det_scores, matched_dets, birth_score)
        new_ids = np.asarray([self._next_track_id() for _ in born], np.int64)
        return misses, misses <= max_age, born, new_ids

    @staticmethod
    def _output(dets: Detections, det_indices, track_ids) -> FrameTracks:
        return frame_tracks_from_detections(dets, det_indices, track_ids)


def births(det_scores: np.ndarray, matched_dets: np.ndarray, birth_score: float | None = None) -> np.ndarray:
    """Rows ``(K,)`` int64 (ascending) of the detections that start tracks: those not in
    ``matched_dets`` whose score (``det_scores (N,)``) is ``>= birth_score``; with
    ``birth_score=None`` every unmatched detection. A detection below ``birth_score`` can
    only extend a track that exists."""
    born = unmatched(len(det_scores), matched_dets)
    return born if birth_score is None else born[det_scores[born] >= birth_score]


def frame_tracks_from_detections(dets: Detections, det_indices, track_ids) -> FrameTracks:
    """Build :class:`FrameTracks` from matched/born rows, ordered by detection index."""
    det_indices = np.asarray(det_indices, np.int64).reshape(-1)
    track_ids = np.asarray(track_ids, np.int64).reshape(-1)
    order = np.argsort(det_indices, kind="stable")
    det_indices, track_ids = det_indices[order], track_ids[order]
    return FrameTracks(
        track_ids=track_ids,
        boxes=dets.boxes[det_indices].astype(np.float32),
        scores=dets.scores[det_indices].astype(np.float32),
        labels=dets.labels[det_indices].astype(np.int64),
        det_indices=det_indices,
    )


class OfflineTracker(abc.ABC):
    """Interface of a tracker that needs the whole sequence (e.g. tracklet linking).

    :meth:`track` maps the sequence's per-frame detections to per-frame tracks; track ids
    start at 1 and are unique within the sequence. Holds no state between calls.
    """

    requires_embeddings: bool = False

    @abc.abstractmethod
    def track(self, frames: Sequence[Detections]) -> list[FrameTracks]:
        """Tracks of every frame of one sequence (one FrameTracks per input frame)."""


Tracker = Union[OnlineTracker, OfflineTracker]


def track_sequence(tracker: Tracker, frames: Iterable[Detections]) -> list[FrameTracks]:
    """Run an online (reset, then update per frame) or offline tracker over one sequence;
    returns one FrameTracks per frame."""
    if isinstance(tracker, OfflineTracker):
        return tracker.track(list(frames))
    tracker.reset()
    return [tracker.update(dets) for dets in frames]
