"""MOTChallenge-style preprocessing: from all rows of each frame to the evaluated
detections of one class.

Per frame and evaluated class ``c`` (TrackEval's ``MotChallenge2DBox`` / ``MOTSChallenge``
steps, made generic):

1. Tracker detections of class ``c`` take part (all of them when class-agnostic).
2. Only when the frame has distractor rows or ignore regions: the detections are matched
   to *all* ground-truth rows of the frame (any class, any consider flag; ignore regions
   are not rows) at IoU >= 0.5 with the convention's rule (:mod:`eval.matching`).
   Detections matched to a distractor row are removed.
3. An unmatched detection lying more than 50% inside an ignore region (see
   :attr:`FrameRows.tracker_in_ignore`) is removed.
4. The evaluated ground truth is the rows of class ``c`` that are considered and not
   distractors (when class-agnostic: all considered non-distractor rows).

Ids are then relabelled per class and sequence (:class:`~eval.sequence.TrackingSequence`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from eval.matching import match_max_count_min_distance, match_max_similarity
from eval.sequence import TrackingSequence

__all__ = ["DISTRACTOR_IOU", "FrameRows", "class_sequence", "evaluated_classes", "rows_per_frame"]

DISTRACTOR_IOU = 0.5


@dataclass(frozen=True)
class FrameRows:
    """Everything the preprocessing needs about one frame.

    ``G`` ground-truth rows (ignore regions excluded) and ``D`` tracker rows:
    ``gt_ids``, ``gt_classes``, ``gt_considered``, ``gt_distractor``: ``(G,)``;
    ``tracker_ids``, ``tracker_classes``, ``tracker_in_ignore``: ``(D,)``;
    ``similarity``: ``(G, D)`` IoU.
    """

    gt_ids: np.ndarray
    gt_classes: np.ndarray
    gt_considered: np.ndarray
    gt_distractor: np.ndarray
    tracker_ids: np.ndarray
    tracker_classes: np.ndarray
    tracker_in_ignore: np.ndarray
    similarity: np.ndarray


def class_sequence(
    frames: Sequence[FrameRows], cls: int | None, conventions: str = "trackeval"
) -> tuple[TrackingSequence, int]:
    """The evaluated sequence of class ``cls`` (``None``: class-agnostic) and the number of
    tracker detections removed by steps 2 and 3."""
    gt_ids, tracker_ids, similarity = [], [], []
    removed = 0
    for f in frames:
        tracker = np.ones(len(f.tracker_ids), bool) if cls is None else f.tracker_classes == cls
        sim = f.similarity[:, tracker]
        if f.gt_distractor.any() or f.tracker_in_ignore.any():
            kept = _not_removed(sim, f.gt_distractor, f.tracker_in_ignore[tracker], conventions)
            removed += int(np.sum(~kept))
            tracker[tracker] = kept
            sim = sim[:, kept]
        gt = f.gt_considered & ~f.gt_distractor
        if cls is not None:
            gt &= f.gt_classes == cls
        gt_ids.append(f.gt_ids[gt])
        tracker_ids.append(f.tracker_ids[tracker])
        similarity.append(sim[gt])
    return TrackingSequence.from_frames(gt_ids, tracker_ids, similarity), removed


def evaluated_classes(
    gt_classes: Sequence[np.ndarray], pred_classes: Sequence[np.ndarray], excluded: Sequence[int] = ()
) -> list[int]:
    """Sorted classes present in the (evaluated) gt rows or the predictions, minus ``excluded``."""
    present = set()
    for classes in [*gt_classes, *pred_classes]:
        present.update(np.unique(classes).tolist())
    return sorted(present - set(excluded))


def rows_per_frame(frame: np.ndarray, first_frame: int, num_frames: int, rows: np.ndarray | None = None):
    """Indices of ``rows`` (default: all) grouped by frame ``first_frame .. first_frame +
    num_frames - 1``, each group in input order."""
    rows = np.arange(len(frame)) if rows is None else rows
    rows = rows[np.argsort(frame[rows], kind="stable")]
    bounds = np.searchsorted(frame[rows], np.arange(first_frame, first_frame + num_frames + 1))
    return [rows[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]


def _not_removed(similarity: np.ndarray, gt_distractor: np.ndarray, in_ignore: np.ndarray, conventions: str):
    """``(D,)`` bool: the detections that survive steps 2 and 3."""
    if conventions == "motmetrics":
        distance = 1.0 - similarity
        rows, cols = match_max_count_min_distance(np.where(distance <= 1.0 - DISTRACTOR_IOU, distance, np.nan))
    else:
        rows, cols = match_max_similarity(similarity, DISTRACTOR_IOU)
    kept = ~in_ignore
    kept[cols] = True
    kept[cols[gt_distractor[rows]]] = False
    return kept
