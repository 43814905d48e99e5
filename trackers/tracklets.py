"""Tracklets of one tracked sequence, for offline linking, and relabelling tracks.

A *tracklet* is every observation (tracked detection) of one track id. Linkers compare
tracklets (mean appearance, time spans) and map each tracklet to a group;
:func:`relabel_tracks` then gives every group one track id.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from trackers.types import Detections, FrameTracks

__all__ = ["Tracklets", "relabel_tracks"]


@dataclass(frozen=True)
class Tracklets:
    """The observations of a sequence grouped by track id.

    Attributes:
        track_ids: ``(T,)`` int64 ascending track ids, one per tracklet.
        frames: ``(K,)`` int64 frame index (position in the sequence) of each observation.
        members: ``(K,)`` int64 tracklet index (``0..T-1``) of each observation.
        embeddings: ``(K, D)`` float64 appearance vector of each observation.
        labels: ``(T,)`` int64 label of each tracklet's first observation.
    """

    track_ids: np.ndarray
    frames: np.ndarray
    members: np.ndarray
    embeddings: np.ndarray
    labels: np.ndarray

    @staticmethod
    def from_tracks(frames: Sequence[Detections], tracks: Sequence[FrameTracks]) -> "Tracklets":
        """Collect the observations of ``tracks`` (one FrameTracks per frame) with the
        embeddings of the detections they point at (``frames[t].embeddings``)."""
        if len(frames) != len(tracks):
            raise ValueError(f"{len(frames)} frames of detections but {len(tracks)} of tracks")
        frame_idx, ids, labels, embs = [], [], [], []
        for t, (dets, ft) in enumerate(zip(frames, tracks)):
            rows = ft.det_indices >= 0
            if not rows.any():
                continue
            if dets.embeddings is None:
                raise ValueError(f"frame {t}: tracklet linking needs Detections.embeddings")
            frame_idx.append(np.full(int(rows.sum()), t, np.int64))
            ids.append(ft.track_ids[rows])
            labels.append(ft.labels[rows])
            embs.append(dets.embeddings[ft.det_indices[rows]])
        if not ids:
            return Tracklets(*(np.zeros(0, np.int64),) * 3, np.zeros((0, 0)), np.zeros(0, np.int64))
        frame_idx, ids, labels = map(np.concatenate, (frame_idx, ids, labels))
        track_ids, first, members = np.unique(ids, return_index=True, return_inverse=True)
        return Tracklets(track_ids, frame_idx, members.astype(np.int64),
                         np.concatenate(embs).astype(np.float64), labels[first])

    def __len__(self) -> int:
        return len(self.track_ids)

    def starts_ends(self) -> tuple[np.ndarray, np.ndarray]:
        """First and last frame index of each tracklet, both ``(T,)``."""
        start = np.full(len(self), np.iinfo(np.int64).max)
        end = np.full(len(self), -1)
        np.minimum.at(start, self.members, self.frames)
        np.maximum.at(end, self.members, self.frames)
        return start, end

    def frame_gaps(self) -> np.ndarray:
        """``(T, T)`` int64: frames from the end of the earlier tracklet to the start of the
        later one (1 = consecutive frames); ``<= 0`` where the time spans overlap (always on
        the diagonal)."""
        start, end = self.starts_ends()
        return np.maximum(start[None, :] - end[:, None], start[:, None] - end[None, :])

    def embedding_sums(self, normalize: bool) -> np.ndarray:
        """``(T, D)`` sum of each tracklet's embeddings (L2-normalised first if
        ``normalize``); divide by :meth:`sizes` for the mean."""
        embs = self.embeddings
        if normalize:
            norms = np.linalg.norm(embs, axis=1, keepdims=True)
            embs = np.divide(embs, norms, out=np.zeros_like(embs), where=norms > 0)
        sums = np.zeros((len(self), embs.shape[1]))
        np.add.at(sums, self.members, embs)
        return sums

    def sizes(self) -> np.ndarray:
        """``(T,)`` number of observations of each tracklet."""
        return np.bincount(self.members, minlength=len(self))

    def same_label(self) -> np.ndarray:
        """``(T, T)`` bool: the two tracklets have the same label."""
        return self.labels[:, None] == self.labels[None, :]


def relabel_tracks(tracks: Sequence[FrameTracks], track_ids: np.ndarray, groups: np.ndarray) -> list[FrameTracks]:
    """Give every track of one group one id: ``track_ids[k]`` joins group ``groups[k]``.

    Groups are numbered 1, 2, ... in order of their first appearance in ``tracks``; ids not
    in ``track_ids`` raise ``KeyError``. Returns new FrameTracks (same rows and order).
    """
    group_of = dict(zip(np.asarray(track_ids).tolist(), np.asarray(groups).tolist()))
    new_id: dict[int, int] = {}
    out = []
    for ft in tracks:
        ids = [new_id.setdefault(group_of[i], len(new_id) + 1) for i in ft.track_ids.tolist()]
        out.append(FrameTracks(np.asarray(ids, np.int64), ft.boxes, ft.scores, ft.labels, ft.det_indices))
    return out
