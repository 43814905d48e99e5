"""ReMOTS (Yang et al., "ReMOTS: Self-Supervised Refining Multi-Object Tracking and
Segmentation", 1st place MOTSChallenge 2020 Track 1), the association part, offline.

Stages (the two encoder re-trainings of the paper happen outside the tracker, between
the stages; a caller passes the re-computed embeddings to each stage):

0. :meth:`ReMOTSTracker.fuse` (§2.1): per frame, IoM NMS over the detectors' masks, then
   every pixel to the highest-scoring mask (:mod:`trackers.mask_fusion`).
1. :meth:`ReMOTSTracker.short_term` (§2.3): adjacent frames only. Masks of frame ``t-1``
   are warped into frame ``t`` with dense optical flow; the distance of a pair is
   ``W = 1 - cos(f_prev, f_curr)``, infinite when the warped-mask IoU is 0 or when
   ``W > 1 - θ_app`` (:func:`~trackers.remots_thresholds.appearance_gate` of the video's
   intra-frame similarities); linear assignment (Hungarian) on ``W``. Matched detections
   continue the previous frame's tracklet, the others start one.
2. :meth:`ReMOTSTracker.merge` (§2.5): hierarchical centroid-linkage clustering of the
   short tracklets (:mod:`trackers.tracklet_merging`; temporal gap ``<= θ_t`` and no
   overlap), cut at ``1 - θ_merge`` where ``θ_merge`` separates the intra-frame and
   same-tracklet similarity histograms. Without one of the two histograms (one object
   per frame, or only one-frame tracklets) there is no data-driven cut and nothing merges.

Inputs: per frame :class:`Detections` with ``masks`` (COCO RLE, one image size) and
``embeddings``; motion from ``images`` (``(H, W)`` / ``(H, W, 3)`` uint8 per frame, flow
by the ``flow`` provider) or precomputed ``flows`` (``flows[t]`` ``(H, W, 2)``: backward
flow from frame ``t + 1`` to frame ``t``, see :mod:`trackers.optical_flow`); with neither,
masks are compared unwarped.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from trackers.base import OfflineTracker, frame_tracks_from_detections
from trackers.mask_fusion import fuse_mask_detections
from trackers.matching import cosine_similarity, hungarian_assignment, mask_iou
from trackers.optical_flow import FarnebackFlow, warp_masks
from trackers.remots_thresholds import (
    appearance_gate,
    histogram_boundary,
    intra_frame_similarities,
    same_tracklet_similarities,
)
from trackers.tracklet_merging import merge_tracklets
from trackers.tracklets import Tracklets, relabel_tracks
from trackers.types import Detections, FrameTracks

__all__ = ["ReMOTSTracker"]

FlowProvider = Callable[[np.ndarray, np.ndarray], np.ndarray]


class ReMOTSTracker(OfflineTracker):
    """ReMOTS association: mask fusion, short-term flow + appearance tracker, tracklet merging.

    Args:
        iom_threshold: IoM above which :meth:`fuse` suppresses the lower-scoring mask.
        sigmas: ``θ_app = mean + sigmas * std`` of the intra-frame similarities.
        max_gap: ``θ_t``, largest frame gap between merged tracklets.
        histogram_bins: bins on ``[-1, 1]`` of the histograms giving ``θ_merge``.
        class_aware: never associate or merge across labels.
        flow: flow provider ``(prev_image, curr_image) -> backward flow (H, W, 2)``
            (default :class:`FarnebackFlow`).
    """

    requires_embeddings = True

    def __init__(
        self,
        iom_threshold: float = 0.5,
        sigmas: float = -3.0,
        max_gap: int = 15,
        histogram_bins: int = 200,
        class_aware: bool = True,
        flow: FlowProvider | None = None,
    ) -> None:
        if histogram_bins < 1:
            raise ValueError(f"histogram_bins must be >= 1, got {histogram_bins}")
        self.iom_threshold = float(iom_threshold)
        self.sigmas = float(sigmas)
        self.max_gap = int(max_gap)
        self.histogram_bins = int(histogram_bins)
        self.class_aware = bool(class_aware)
        self.flow = flow if flow is not None else FarnebackFlow()

    def fuse(self, sources: Sequence[Detections]) -> Detections:
        """One frame's detections of several detectors fused into one set (stage 0)."""
        return fuse_mask_detections(sources, self.iom_threshold)

    def track(
        self,
        frames: Sequence[Detections],
        images: Sequence[np.ndarray] | None = None,
        flows: Sequence[np.ndarray] | None = None,
    ) -> list[FrameTracks]:
        """Short-term tracking then merging, both with ``frames``' embeddings."""
        return self.merge(frames, self.short_term(frames, images, flows))

    def short_term(
        self,
        frames: Sequence[Detections],
        images: Sequence[np.ndarray] | None = None,
        flows: Sequence[np.ndarray] | None = None,
    ) -> list[FrameTracks]:
        """Short-term tracklets (stage 1); one FrameTracks per frame, every detection in one."""
        for t, dets in enumerate(frames):
            if len(dets) and (dets.masks is None or dets.embeddings is None):
                raise ValueError(f"frame {t}: ReMOTS needs Detections.masks and .embeddings")
        if flows is not None and len(flows) != len(frames) - 1:
            raise ValueError(f"need {len(frames) - 1} flows (one per adjacent pair), got {len(flows)}")
        if images is not None and len(images) != len(frames):
            raise ValueError(f"need one image per frame ({len(frames)}), got {len(images)}")
        gate = appearance_gate(intra_frame_similarities(frames), self.sigmas)
        next_id = 1
        ids = np.zeros(0, np.int64)
        out = []
        for t, dets in enumerate(frames):
            new_ids = np.zeros(len(dets), np.int64)
            if t > 0:
                rows, cols = self._associate(frames[t - 1], dets, self._flow(t, images, flows), gate)
                new_ids[cols] = ids[rows]
            born = np.flatnonzero(new_ids == 0)
            new_ids[born] = np.arange(next_id, next_id + len(born))
            next_id += len(born)
            ids = new_ids
            out.append(frame_tracks_from_detections(dets, np.arange(len(dets)), ids))
        return out

    def merge(self, frames: Sequence[Detections], tracks: Sequence[FrameTracks]) -> list[FrameTracks]:
        """Long-term tracks from short-term ``tracks`` (stage 2); ``frames`` give the
        (re-computed) embeddings the ``tracks`` point at."""
        tracklets = Tracklets.from_tracks(frames, tracks)
        theta = histogram_boundary(
            intra_frame_similarities(frames), same_tracklet_similarities(tracklets), self.histogram_bins
        )
        if theta is None:
            groups = np.arange(len(tracklets))
        else:
            groups = merge_tracklets(tracklets, 1.0 - theta, self.max_gap, self.class_aware)
        return relabel_tracks(tracks, tracklets.track_ids, groups)

    def _flow(self, t: int, images, flows) -> np.ndarray | None:
        """Backward flow from frame ``t`` to ``t - 1``, or ``None`` (no motion input)."""
        if flows is not None:
            return np.asarray(flows[t - 1], np.float32)
        if images is not None:
            return self.flow(images[t - 1], images[t])
        return None

    def _associate(self, prev: Detections, curr: Detections, flow, gate: float) -> tuple[np.ndarray, np.ndarray]:
        """Hungarian matching of ``prev`` rows to ``curr`` rows on ``W`` (eqs. 1-2)."""
        if not len(prev) or not len(curr):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        warped = prev.masks if flow is None else warp_masks(prev.masks, flow)
        distance = 1.0 - cosine_similarity(prev.embeddings, curr.embeddings)
        valid = (mask_iou(warped, curr.masks) > 0) & (distance <= 1.0 - gate)
        if self.class_aware:
            valid &= prev.labels[:, None] == curr.labels[None, :]
        return hungarian_assignment(distance, valid)
