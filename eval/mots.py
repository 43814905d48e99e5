"""MOTS mask metrics: sMOTSA, MOTSA, MOTSP, IDF1 and HOTA on RLE masks, equal to
TrackEval's ``MOTSChallenge`` / ``KittiMOTS`` evaluation.

Entry points: :func:`evaluate_mots` (:class:`~eval.mots_io.MotsRows` per sequence) and
:func:`evaluate_mots_dirs` (folders). The similarity is the mask IoU (``pycocotools.mask.iou``
on the RLEs), computed once per frame and shared by all metrics; the metrics, conventions
and the way sequences and classes combine are those of :mod:`eval.mot`, with the CLEAR names
of MOTS: MOTSA (= MOTA), MOTSP (mean mask IoU of the matches), MODSA and sMOTSA
(``(summed IoU of the matches - FP - IDSW) / GT``).

Rules (TrackEval's):

- Ground-truth rows of ``ignore_class`` (10) are ignore regions, merged per frame; a tracker
  mask that is not matched (IoU >= 0.5) to a gt mask and lies more than 50% inside the
  merged region is removed. Predictions of the ignore class are never evaluated.
- A pair matches at IoU >= 0.5 (to float eps; TrackEval's CLEAR threshold). The MOTS paper
  and mots_tools write IoU > 0.5; the two differ only at exactly 0.5.
- Masks of one frame must not overlap (gt masks and ignore regions; tracker masks), all
  masks of a sequence share one image size, and an id occurs at most once per frame:
  otherwise ``ValueError`` naming the file and line.
- Every class is evaluated on its own (:data:`MOTS_CHALLENGE`: pedestrians, class 2;
  :data:`KITTI_MOTS`: cars 1 and pedestrians 2; default: every class present).

Frames: MOTSChallenge numbers them from 1, KITTI-MOTS (and the synthetic world's
``mots/<split>/<seq>.txt``) from 0: ``first_frame`` says which. A sequence has
``seq_lengths[seq]`` frames (``seqinfo.ini``'s ``seqLength`` in folders), default up to its
last row; rows outside are an error.
"""
from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np
from pycocotools import mask as mask_utils

from eval.conventions import check_conventions
from eval.matching import EPS
from eval.mot_layout import ground_truth_files, prediction_files
from eval.mots_io import MotsRows, read_mots_txt
from eval.preprocess import FrameRows, evaluated_classes, rows_per_frame
from eval.results import METRIC_NAMES as BOX_METRIC_NAMES
from eval.results import assemble_result, class_counts
from eval.sequence import find_repeated_id

__all__ = ["KITTI_MOTS", "METRIC_NAMES", "MOTS_CHALLENGE", "evaluate_mots", "evaluate_mots_dirs"]

MOTS_CHALLENGE = {"classes": (2,), "class_names": {2: "pedestrian"}}
KITTI_MOTS = {"classes": (1, 2), "class_names": {1: "car", 2: "pedestrian"}}
IGNORE_CLASS = 10
IGNORE_REGION_IOA = 0.5
MOTS_NAMES = {"MOTA": "MOTSA", "MOTP": "MOTSP", "MODA": "MODSA", "sMOTA": "sMOTSA"}
METRIC_NAMES: tuple[str, ...] = tuple(MOTS_NAMES.get(name, name) for name in BOX_METRIC_NAMES)


def evaluate_mots(
    gt: Mapping[str, MotsRows],
    pred: Mapping[str, MotsRows],
    *,
    first_frame: int | Mapping[str, int] = 1,
    seq_lengths: Mapping[str, int] | None = None,
    classes: Sequence[int] | None = None,
    class_names: Mapping[int, str] | None = None,
    ignore_class: int = IGNORE_CLASS,
    iou_threshold: float = 0.5,
    conventions: str = "trackeval",
) -> dict:
    """MOTS metrics per sequence, combined, and per class (result shape of
    :func:`eval.mot.evaluate_mot`, rows keyed by :data:`METRIC_NAMES`).

    Args:
        gt, pred: sequence name -> rows. A sequence missing from ``pred`` is an empty
            tracker output; one missing from ``gt`` is an error.
        first_frame: number of the first frame (0 or 1), for all or per sequence.
        seq_lengths: frames per sequence (default: up to the last row).
        classes / class_names: the classes to evaluate and their names under ``per_class``.
        ignore_class: the gt class of ignore regions.
        iou_threshold, conventions: as in :func:`eval.mot.evaluate_mot`.
    """
    check_conventions(conventions)
    extra = sorted(set(pred) - set(gt))
    if extra:
        raise ValueError(f"predictions for sequences without ground truth: {extra}")
    if not gt:
        raise ValueError("evaluate_mots needs at least one ground-truth sequence")
    lengths = dict(seq_lengths or {})
    pred = {seq: pred[seq] if seq in pred else MotsRows.from_records([], f"pred[{seq!r}]") for seq in gt}
    first = {seq: first_frame if isinstance(first_frame, int) else first_frame[seq] for seq in gt}
    num_frames = {}
    for seq in gt:
        num_frames[seq] = lengths.get(seq, _frames_used(first[seq], gt[seq], pred[seq]))
        _check_rows(gt[seq], first[seq], num_frames[seq], unique_ids=gt[seq].classes != ignore_class)
        _check_rows(pred[seq], first[seq], num_frames[seq], unique_ids=np.ones(len(pred[seq].frame), bool))
        _check_image_size(gt[seq], pred[seq])

    if classes is None:
        classes = evaluated_classes([g.classes for g in gt.values()], [p.classes for p in pred.values()],
                                    excluded=[ignore_class])
    classes = sorted(set(classes)) or None
    counts = {
        seq: class_counts(_frame_rows(gt[seq], pred[seq], first[seq], num_frames[seq], ignore_class), classes,
                          iou_threshold, conventions, seq)
        for seq in gt
    }
    labels = None if classes is None else {c: (class_names or {}).get(c, str(c)) for c in classes}
    return assemble_result(counts, num_frames, labels, conventions, rename=MOTS_NAMES)


def evaluate_mots_dirs(
    gt_dir: str | os.PathLike, pred_dir: str | os.PathLike, *, first_frame: int | None = None, **options
) -> dict:
    """:func:`evaluate_mots` on folders: ground truth ``GT/<seq>/gt/gt.txt`` (MOTSChallenge,
    optional ``seqinfo.ini``; frames from 1) or ``GT/<seq>.txt`` (KITTI-MOTS; frames from
    0), predictions ``PRED/<seq>.txt``. ``first_frame`` overrides the layout's numbering.
    A sequence without a prediction file is empty tracker output (logged, and listed under
    ``"missing_predictions"``); errors name the file and line.
    """
    gt_files = ground_truth_files(gt_dir, allow_flat=True)
    pred_files, missing = prediction_files(pred_dir, gt_files)
    gt = {seq: read_mots_txt(f.path) for seq, f in gt_files.items()}
    pred = {seq: read_mots_txt(path) for seq, path in pred_files.items() if path is not None}
    lengths = {seq: f.num_frames for seq, f in gt_files.items() if f.num_frames is not None}
    first = {seq: first_frame if first_frame is not None else int(f.nested) for seq, f in gt_files.items()}
    result = evaluate_mots(gt, pred, first_frame=first, seq_lengths=lengths, **options)
    result["missing_predictions"] = missing
    return result


def _frames_used(first_frame: int, *rows: MotsRows) -> int:
    return int(max((r.frame.max() - first_frame + 1 for r in rows if len(r.frame)), default=0))


def _check_rows(rows: MotsRows, first_frame: int, num_frames: int, unique_ids: np.ndarray) -> None:
    """Frames in range; ids unique per frame among the rows marked in ``unique_ids``."""
    outside = np.flatnonzero((rows.frame < first_frame) | (rows.frame >= first_frame + num_frames))
    if len(outside):
        raise ValueError(f"{rows.where(outside[0])}: frame {rows.frame[outside[0]]} outside "
                         f"{first_frame} .. {first_frame + num_frames - 1}")
    checked = np.flatnonzero(unique_ids)
    repeated = find_repeated_id(rows.frame[checked], rows.ids[checked])
    if repeated is not None:
        first, second = checked[list(repeated)]
        raise ValueError(f"{rows.where(second)}: id {rows.ids[second]} occurs twice in frame {rows.frame[second]} "
                         f"(also at {rows.where(first)})")


def _check_image_size(gt: MotsRows, pred: MotsRows) -> None:
    if not len(gt.frame) and not len(pred.frame):
        return
    reference = gt if len(gt.frame) else pred
    size = (reference.height[0], reference.width[0])
    for rows in (gt, pred):
        bad = np.flatnonzero((rows.height != size[0]) | (rows.width != size[1]))
        if len(bad):
            raise ValueError(f"{rows.where(bad[0])}: image size {rows.height[bad[0]]}x{rows.width[bad[0]]} differs "
                             f"from {size[0]}x{size[1]} ({reference.where(0)})")


def _check_disjoint(rows: MotsRows, index: np.ndarray, rles: list[dict]) -> None:
    """Raise naming the first mask of ``rles`` (rows ``index``) that overlaps an earlier one."""
    if len(rles) < 2 or mask_utils.area(mask_utils.merge(rles)) == np.sum(mask_utils.area(rles)):
        return
    union = rles[0]
    for i, rle in zip(index[1:], rles[1:]):
        if mask_utils.area(mask_utils.merge([union, rle], intersect=True)) > 0:
            raise ValueError(f"{rows.where(i)}: mask overlaps another mask of frame {rows.frame[i]}")
        union = mask_utils.merge([union, rle])


def _frame_rows(gt: MotsRows, pred: MotsRows, first_frame: int, num_frames: int, ignore_class: int) -> list[FrameRows]:
    """One :class:`FrameRows` per frame, with mask IoUs and the ignore-region test."""
    is_region = gt.classes == ignore_class
    gt_frames = rows_per_frame(gt.frame, first_frame, num_frames, np.flatnonzero(~is_region))
    region_frames = rows_per_frame(gt.frame, first_frame, num_frames, np.flatnonzero(is_region))
    pred_frames = rows_per_frame(pred.frame, first_frame, num_frames)
    frames = []
    for g, r, p in zip(gt_frames, region_frames, pred_frames):
        gt_rles, region_rles, pred_rles = ([rows.rle(i) for i in idx] for rows, idx in ((gt, g), (gt, r), (pred, p)))
        _check_disjoint(gt, np.concatenate([g, r]), gt_rles + region_rles)
        _check_disjoint(pred, p, pred_rles)
        similarity = np.zeros((len(g), len(p)))
        if len(g) and len(p):
            similarity = np.asarray(mask_utils.iou(gt_rles, pred_rles, [False] * len(p)), np.float64)
        in_ignore = np.zeros(len(p), bool)
        if len(r) and len(p):
            region = mask_utils.merge(region_rles)
            in_ignore = np.asarray(mask_utils.iou(pred_rles, [region], [True]))[:, 0] > IGNORE_REGION_IOA + EPS
        frames.append(FrameRows(
            gt_ids=gt.ids[g], gt_classes=gt.classes[g], gt_considered=np.ones(len(g), bool),
            gt_distractor=np.zeros(len(g), bool), tracker_ids=pred.ids[p], tracker_classes=pred.classes[p],
            tracker_in_ignore=in_ignore, similarity=similarity,
        ))
    return frames
