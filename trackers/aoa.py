"""AOA, the winner of the ECCV 2020 TAO challenge (code: github.com/feiaxyt/Winner_ECCV20_TAO),
as an offline tracker.

Pipeline of the paper (§2.2-2.3, Fig. 1), per video:

1. **Frame rate.** Tracking runs at ``tracking_fps`` (1 FPS): of a video recorded at
   ``video_fps`` only frames ``0, k, 2k, ...`` with ``k = frame_stride(video_fps,
   tracking_fps)`` are processed; the other frames get empty tracks.
2. **Appearance features.** Each detection's embedding is the concatenation of two ReID
   models' features (:func:`concatenate_features`); the tracker takes it from
   ``Detections.embeddings``.
3. **Linking** of every detection source separately with the appearance-only DeepSORT
   cascade (:class:`~trackers.appearance_cascade.AppearanceCascadeTracker`).
4. **Merging two detectors' results.** The paper "directly mix[es] the tracking results
   from two detection models": the tracks of every source are kept as they are (ids made
   unique, source 0 first); detections of the two sources are *not* paired or de-duplicated
   (an object found by both detectors yields two tracks, which raises track recall, the
   aim of the ensemble). ``det_indices`` of a frame index the concatenation of the
   sources' detections of that frame (:func:`~trackers.detection_sources.concatenate_detections`).
5. **PA** (:func:`~trackers.post_association.link_tracklets`) on the merged tracklets: a
   tracklet of one source may be re-linked to a non-overlapping tracklet of either source.

Output ids are renumbered 1, 2, ... by first appearance.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from trackers.appearance_cascade import AppearanceCascadeTracker
from trackers.base import OfflineTracker, frame_tracks_from_detections
from trackers.detection_sources import concatenate_detections
from trackers.post_association import link_tracklets
from trackers.tracklets import Tracklets, relabel_tracks
from trackers.types import Detections, FrameTracks

__all__ = ["AOATracker", "concatenate_features", "frame_stride"]


def frame_stride(video_fps: float, tracking_fps: float) -> int:
    """Process every ``k``-th frame: ``k = max(1, round(video_fps / tracking_fps))``."""
    if video_fps <= 0 or tracking_fps <= 0:
        raise ValueError(f"frame rates must be > 0, got video {video_fps}, tracking {tracking_fps}")
    return max(1, round(video_fps / tracking_fps))


def concatenate_features(*features: np.ndarray) -> np.ndarray:
    """Concatenate the embeddings of several appearance models, each ``(N, D_i)``.

    Each part is L2-normalised and scaled by ``1 / sqrt(len(features))`` (our choice, the
    paper only says "concatenated"), so the result is a unit vector ``(N, sum D_i)`` whose
    cosine similarity is the mean of the per-model cosine similarities.
    """
    scale = 1.0 / np.sqrt(len(features))
    parts = []
    for f in features:
        f = np.asarray(f, np.float64)
        norms = np.linalg.norm(f, axis=1, keepdims=True)
        parts.append(np.divide(f, norms, out=np.zeros_like(f), where=norms > 0) * scale)
    return np.concatenate(parts, axis=1).astype(np.float32)


class AOATracker(OfflineTracker):
    """AOA: appearance-only cascade at a low frame rate, source merging, then PA.

    Args:
        max_cosine_distance, gallery_size, max_age, min_score, class_aware: of the
            :class:`AppearanceCascadeTracker` run on each source (``self.cascade``;
            ``max_age`` counts processed frames, i.e. seconds at 1 FPS); ``class_aware``
            also applies to PA.
        video_fps: frame rate of the input sequences (overridable per call).
        tracking_fps: rate at which frames are processed.
        post_association: run PA after merging.
        pa_min_similarity: PA links pairs with mean-feature cosine similarity above it.
    """

    requires_embeddings = True

    def __init__(
        self,
        max_cosine_distance: float = 0.4,
        gallery_size: int = 70,
        max_age: int = 11,
        min_score: float = 0.0,
        class_aware: bool = True,
        video_fps: float = 30.0,
        tracking_fps: float = 1.0,
        post_association: bool = True,
        pa_min_similarity: float = 0.7,
    ) -> None:
        self.cascade = AppearanceCascadeTracker(
            max_cosine_distance=max_cosine_distance, gallery_size=gallery_size, max_age=max_age,
            min_score=min_score, class_aware=class_aware,
        )
        frame_stride(video_fps, tracking_fps)  # validates the rates
        self.class_aware = bool(class_aware)
        self.video_fps = float(video_fps)
        self.tracking_fps = float(tracking_fps)
        self.post_association = bool(post_association)
        self.pa_min_similarity = float(pa_min_similarity)

    def processed_frames(self, num_frames: int, video_fps: float | None = None) -> np.ndarray:
        """Indices of the frames the tracker links (``0, k, 2k, ... < num_frames``)."""
        return np.arange(0, num_frames, frame_stride(video_fps or self.video_fps, self.tracking_fps))

    def track(self, frames: Sequence[Detections], video_fps: float | None = None) -> list[FrameTracks]:
        """Tracks of one detection source; ``video_fps`` overrides the configured rate."""
        return self.track_sources([frames], video_fps)

    def track_sources(
        self, sources: Sequence[Sequence[Detections]], video_fps: float | None = None
    ) -> list[FrameTracks]:
        """Track each source, merge the results, run PA.

        Args:
            sources: ``S`` detection sources, each one ``Detections`` per frame of the same
                video (equal lengths); embeddings of one dimension across sources.
            video_fps: frame rate of this video (default: the configured ``video_fps``).

        Returns:
            One FrameTracks per frame; ``det_indices`` index the frame's sources
            concatenated in source order; frames not processed are empty.
        """
        if not sources:
            raise ValueError("track_sources needs at least one detection source")
        num_frames = len(sources[0])
        if any(len(s) != num_frames for s in sources):
            raise ValueError(f"sources differ in length: {[len(s) for s in sources]}")
        picked = self.processed_frames(num_frames, video_fps)
        merged = [concatenate_detections([s[t] for s in sources]) for t in picked]
        tracks = self._link_and_merge([[s[t] for t in picked] for s in sources], merged)
        if self.post_association:
            tracklets = Tracklets.from_tracks(merged, tracks)
            groups = link_tracklets(tracklets, self.pa_min_similarity, self.class_aware)
            tracks = relabel_tracks(tracks, tracklets.track_ids, groups)
        out = [FrameTracks.empty() for _ in range(num_frames)]
        for t, ft in zip(picked.tolist(), tracks):
            out[t] = ft
        return out

    def _link_and_merge(self, sources: list[list[Detections]], merged: list[Detections]) -> list[FrameTracks]:
        """Cascade per source; the union of their tracks per frame, ids made unique."""
        det_indices = [[] for _ in merged]
        track_ids = [[] for _ in merged]
        row_offset = np.zeros(len(merged), np.int64)  # rows of earlier sources per frame
        id_offset = 0
        for frames in sources:
            self.cascade.reset()
            last_id = id_offset
            for t, dets in enumerate(frames):
                ft = self.cascade.update(dets)
                ids = ft.track_ids + id_offset
                det_indices[t].append(ft.det_indices + row_offset[t])
                track_ids[t].append(ids)
                row_offset[t] += len(dets)
                last_id = max(last_id, int(ids.max(initial=0)))
            id_offset = last_id
        return [
            frame_tracks_from_detections(dets, np.concatenate(d), np.concatenate(i))
            for dets, d, i in zip(merged, det_indices, track_ids)
        ]
