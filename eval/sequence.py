"""The input of every tracking metric: one sequence, one class, similarities per frame.

:class:`TrackingSequence` holds, for each of ``T`` frames, the ground-truth ids ``(G_t,)``,
the tracker ids ``(D_t,)`` and the similarity matrix ``(G_t, D_t)`` in ``[0, 1]`` (box or
mask IoU). Ids are relabelled to ``0 .. num_gt_ids - 1`` and ``0 .. num_tracker_ids - 1``
in sorted order of the original ids. The per-frame similarity is computed once and shared by
CLEAR, Identity and HOTA; :meth:`TrackingSequence.pairs` is its sparse, flat view (all
pairs with similarity > 0, frame by frame) for the vectorised parts of the metrics.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np

__all__ = ["SimilarityPairs", "TrackingSequence", "find_repeated_id"]


@dataclass(frozen=True)
class SimilarityPairs:
    """All ``(gt, tracker)`` pairs of a sequence with similarity > 0, in frame order.

    ``gt_det`` / ``tracker_det`` index the sequence's detections in frame order (as
    :attr:`TrackingSequence.gt_id` lists them); ``gt_id`` / ``tracker_id`` are their track
    ids; ``similarity`` the pair's similarity. Pairs of frame ``t`` are ``offsets[t]:offsets[t + 1]``.
    """

    offsets: np.ndarray
    gt_det: np.ndarray
    tracker_det: np.ndarray
    gt_id: np.ndarray
    tracker_id: np.ndarray
    similarity: np.ndarray


@dataclass(frozen=True)
class TrackingSequence:
    """Ground truth and tracker output of one sequence and class (see the module docstring)."""

    gt_ids: list[np.ndarray]
    tracker_ids: list[np.ndarray]
    similarity: list[np.ndarray]
    num_gt_ids: int
    num_tracker_ids: int

    @classmethod
    def from_frames(
        cls, gt_ids: Sequence[np.ndarray], tracker_ids: Sequence[np.ndarray], similarity: Sequence[np.ndarray]
    ) -> "TrackingSequence":
        """Build from per-frame original ids (any integers) and ``(G_t, D_t)`` similarities."""
        if not len(gt_ids) == len(tracker_ids) == len(similarity):
            raise ValueError("gt_ids, tracker_ids and similarity need one entry per frame")
        gt, num_gt = _relabel(gt_ids)
        tracker, num_tracker = _relabel(tracker_ids)
        sims = [np.ascontiguousarray(s, np.float64).reshape(len(g), len(d))
                for s, g, d in zip(similarity, gt, tracker)]
        return cls(gt, tracker, sims, num_gt, num_tracker)

    @property
    def num_frames(self) -> int:
        return len(self.gt_ids)

    @cached_property
    def gt_counts(self) -> np.ndarray:
        """``(T,)`` ground-truth detections per frame."""
        return np.array([len(g) for g in self.gt_ids], np.int64)

    @cached_property
    def tracker_counts(self) -> np.ndarray:
        """``(T,)`` tracker detections per frame."""
        return np.array([len(d) for d in self.tracker_ids], np.int64)

    @cached_property
    def gt_offsets(self) -> np.ndarray:
        """``(T + 1,)``: frame ``t``'s ground-truth detections are ``gt_offsets[t]:gt_offsets[t + 1]``
        of the flat, frame-ordered detections (:attr:`gt_id`)."""
        return np.concatenate([[0], np.cumsum(self.gt_counts)]).astype(np.int64)

    @cached_property
    def tracker_offsets(self) -> np.ndarray:
        """``(T + 1,)``: like :attr:`gt_offsets` for the tracker detections."""
        return np.concatenate([[0], np.cumsum(self.tracker_counts)]).astype(np.int64)

    @property
    def num_gt_dets(self) -> int:
        return int(self.gt_counts.sum())

    @property
    def num_tracker_dets(self) -> int:
        return int(self.tracker_counts.sum())

    @cached_property
    def gt_id(self) -> np.ndarray:
        """``(num_gt_dets,)`` track id of every ground-truth detection, in frame order."""
        return _concat(self.gt_ids)

    @cached_property
    def tracker_id(self) -> np.ndarray:
        """``(num_tracker_dets,)`` track id of every tracker detection, in frame order."""
        return _concat(self.tracker_ids)

    @cached_property
    def pairs(self) -> SimilarityPairs:
        """The sparse view of the similarities (see :class:`SimilarityPairs`)."""
        rows, cols, values, counts = [], [], [], np.zeros(self.num_frames, np.int64)
        for t, s in enumerate(self.similarity):
            r, c = np.nonzero(s)
            rows.append(r + self.gt_offsets[t])
            cols.append(c + self.tracker_offsets[t])
            values.append(s[r, c])
            counts[t] = len(r)
        gt_det, tracker_det = _concat(rows), _concat(cols)
        return SimilarityPairs(
            offsets=np.concatenate([[0], np.cumsum(counts)]),
            gt_det=gt_det,
            tracker_det=tracker_det,
            gt_id=self.gt_id[gt_det],
            tracker_id=self.tracker_id[tracker_det],
            similarity=_concat(values, np.float64),
        )


def _concat(arrays: Sequence[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if len(arrays) else np.zeros(0, dtype)


def find_repeated_id(frame: np.ndarray, ids: np.ndarray) -> tuple[int, int] | None:
    """Indices ``(first, second)`` of two rows with the same frame and id (the earliest such
    second row), or ``None`` when ids are unique per frame. ``frame``, ``ids``: ``(N,)`` ints."""
    order = np.lexsort((np.arange(len(ids)), ids, frame))
    repeat = np.flatnonzero((frame[order][1:] == frame[order][:-1]) & (ids[order][1:] == ids[order][:-1]))
    if not len(repeat):
        return None
    second = order[repeat + 1].min()
    same = np.flatnonzero((frame == frame[second]) & (ids == ids[second]))
    return int(same[0]), int(second)


def _relabel(ids_per_frame: Sequence[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """Map original ids to ``0 .. n - 1`` in sorted order, checking they are unique per frame."""
    ids = [np.asarray(i).astype(np.int64).reshape(-1) for i in ids_per_frame]
    counts = np.array([len(i) for i in ids], np.int64)
    unique, inverse = np.unique(_concat(ids), return_inverse=True)
    repeated = find_repeated_id(np.repeat(np.arange(len(ids)), counts), inverse)
    if repeated is not None:
        raise ValueError(f"id {unique[inverse[repeated[1]]]} occurs more than once in one frame")
    return np.split(inverse.astype(np.int64), np.cumsum(counts)[:-1]) if ids else [], len(unique)
