"""MOT box metrics: HOTA, CLEAR MOT and identity metrics, equal to TrackEval or motmetrics.

Entry points: :func:`evaluate_mot` (arrays per sequence) and :func:`evaluate_mot_dirs`
(MOTChallenge folders, see :mod:`eval.mot_layout`); :func:`format_table` prints a result.
Rows are MOTChallenge ``frame, id, x, y, w, h[, conf[, class[, visibility]]]`` (checked
by :mod:`eval.box_rows`). The per-frame IoU is computed once per sequence and shared by
the preprocessing and all metrics (:mod:`eval.clear`, :mod:`eval.identity`,
:mod:`eval.hota`); see :mod:`eval.results` for how sequences and classes combine.

Classes
    With ``class_aware`` and a class column (8) in the ground truth, every class is
    evaluated on its own (gt and predictions of that class) and reported under
    ``per_class``; ``per_sequence`` and ``combined`` sum the counts of all classes
    (TrackEval's detection average) and ``class_averaged`` is TrackEval's class average of
    the combined rows. The evaluated classes are ``classes`` or else every class of the
    considered, non-distractor gt rows and of the predictions. Predictions without class
    information (no column 8, or only -1 as in MOTChallenge result files) take the
    evaluated class when there is exactly one. Without ``class_aware`` (or without gt
    classes) all objects form one class and ``per_class`` is left out.

Preprocessing (:mod:`eval.preprocess`; options, TrackEval's ``MotChallenge2DBox`` rules)
    ``distractor_classes``: gt classes that are not evaluated and absorb the tracker
    boxes matched to them (IoU >= 0.5, one-to-one, matched against all gt rows of the
    frame). ``use_consider_flag``: gt rows whose column 7 is 0 are not evaluated (a
    tracker box on such a row stays, a false positive). ``ignore_classes``: gt classes that are crowd / ignore regions;
    a tracker box that was not matched (IoU >= 0.5) to a gt row and whose area lies more
    than 50% inside one ignore region is removed. :data:`MOT17` and :data:`MOT20` hold the
    MOTChallenge settings.

Conventions (``conventions="trackeval"``, the default, or ``"motmetrics"``)

==========================  ===========================================  ==========================================
topic                       trackeval (TrackEval 1.3)                    motmetrics (py-motmetrics 1.4)
==========================  ===========================================  ==========================================
matchable pair              ``IoU >= t`` (CLEAR: to float eps)           ``1 - IoU <= 1 - t``
per-frame CLEAR matching    max of ``1000 * continues + IoU``;           keep each track's last match (any earlier
                            ``continues`` = matched in the previous      frame) if matchable, first gt row first;
                            frame with both gt and tracker boxes         then most matches, then least ``1 - IoU``
mostly tracked              matched in ``> 80%`` of its frames           ``>= 80%``
fragmentation               tracked again after a frame (with gt and     a gap of misses between matched frames
                            tracker boxes) where it was not matched,     (frames where it is absent do not count)
                            absent included
ratio with denominator 0    ``x / max(1, d)``; a sequence without gt     NaN (0 / 0) or ``-inf``
                            has MOTA = MODA = sMOTA = 0
MOTP                        mean IoU of the matches                      ``1 - mean IoU``; reported here as mean
                                                                         IoU in both conventions
distractor matching         max total IoU over the pairs ``IoU >= 0.5``  most pairs with ``1 - IoU <= 0.5``, then
                                                                         least ``1 - IoU``
consider flag (column 7)    ``!= 0`` keeps the gt row                    ``>= 0.99`` keeps the gt row
==========================  ===========================================  ==========================================

ID switches are defined alike (a match whose tracker id differs from the one last matched to
that gt track) and IDF1 is the same optimum; they differ only through the matching. HOTA is
TrackEval's in both (motmetrics 1.4 has none). Not reproduced from motmetrics: its
``CLEAR_MOT_M`` also treats gt rows with negative visibility as distractors (MOTChallenge
ground truth has none), and its ``num_frames`` counts only frames with rows (here: the
sequence length).

This module never imports ``trackers`` or torch (evaluators are independent of the code
they evaluate).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from eval.box_rows import BoxRows, box_rows
from eval.conventions import check_conventions
from eval.matching import EPS, box_ioa, box_iou
from eval.mot_io import read_mot_txt
from eval.mot_layout import data_line_numbers, ground_truth_files, prediction_files
from eval.preprocess import FrameRows, evaluated_classes, rows_per_frame
from eval.results import METRIC_NAMES, assemble_result, class_counts, format_table

__all__ = ["METRIC_NAMES", "MOT17", "MOT20", "evaluate_mot", "evaluate_mot_dirs", "format_table"]

log = logging.getLogger(__name__)

MOT17 = {
    "classes": (1,),
    "class_names": {1: "pedestrian"},
    "distractor_classes": (2, 7, 8, 12),  # person on vehicle, static person, distractor, reflection
    "use_consider_flag": True,
}
MOT20 = {**MOT17, "distractor_classes": (2, 6, 7, 8, 12)}  # + non-MOT vehicle
IGNORE_REGION_IOA = 0.5


@dataclass(frozen=True)
class _Options:
    iou_threshold: float = 0.5
    conventions: str = "trackeval"
    class_aware: bool = True
    classes: Sequence[int] | None = None
    class_names: Mapping[int, str] | None = None
    distractor_classes: Sequence[int] = ()
    ignore_classes: Sequence[int] = ()
    use_consider_flag: bool = False

    def __post_init__(self):
        check_conventions(self.conventions)

    @property
    def reads_gt_classes(self) -> bool:
        return self.class_aware or bool(self.distractor_classes) or bool(self.ignore_classes)


def evaluate_mot(
    gt: Mapping[str, np.ndarray],
    pred: Mapping[str, np.ndarray],
    *,
    seq_lengths: Mapping[str, int] | None = None,
    **options,
) -> dict:
    """HOTA, CLEAR MOT and identity metrics per sequence, combined, and per class.

    Args:
        gt: sequence name -> ``(N, >=6)`` rows ``frame, id, x, y, w, h[, conf, class, ...]``.
        pred: sequence name -> rows of the same layout (``conf`` and ``class`` optional). A
            sequence missing from ``pred`` is an empty tracker output; a sequence in ``pred``
            but not in ``gt`` is an error.
        seq_lengths: frames per sequence; frames beyond are an error. Default: the last
            frame with a row.
        iou_threshold: CLEAR / Identity match threshold (0.5; HOTA uses its own alphas).
        conventions: ``"trackeval"`` (default) or ``"motmetrics"`` (module docstring).
        class_aware: evaluate each class on its own (module docstring, "Classes").
        classes: the classes to evaluate (default: all present).
        class_names: class id -> name used as key under ``per_class`` (default: the id).
        distractor_classes, ignore_classes, use_consider_flag: the preprocessing (module
            docstring); :data:`MOT17` / :data:`MOT20` hold MOTChallenge's.

    Returns:
        ``{"per_sequence": {seq: row}, "combined": row}``, plus ``"class_averaged": row``
        and ``"per_class": {name: {"per_sequence": {seq: row}, "combined": row}}`` when
        classes apply. A row maps :data:`METRIC_NAMES` to floats (ratios; MOTP is the mean
        IoU of the matches) or ints (counts; ``GT`` = evaluated gt boxes).

    Raises:
        ValueError: malformed rows (see :mod:`eval.box_rows`), unknown sequences in
            ``pred``, or predictions without class for several evaluated classes.
    """
    opts = _Options(**options)
    extra = sorted(set(pred) - set(gt))
    if extra:
        raise ValueError(f"predictions for sequences without ground truth: {extra}")
    if not gt:
        raise ValueError("evaluate_mot needs at least one ground-truth sequence")
    lengths = dict(seq_lengths or {})
    gt_rows = {
        seq: box_rows(rows, f"gt[{seq!r}]", num_frames=lengths.get(seq), read_classes=opts.reads_gt_classes,
                      exempt_classes=opts.ignore_classes)
        for seq, rows in gt.items()
    }
    pred_rows = {
        seq: box_rows(pred.get(seq, np.zeros((0, 6))), f"pred[{seq!r}]", num_frames=lengths.get(seq),
                      read_classes=opts.class_aware)
        for seq in gt
    }
    return _evaluate(gt_rows, pred_rows, lengths, opts, {seq: f"pred[{seq!r}]" for seq in gt})


def evaluate_mot_dirs(gt_dir: str | os.PathLike, pred_dir: str | os.PathLike, **options) -> dict:
    """:func:`evaluate_mot` on MOTChallenge folders: ``GT/<seq>/gt/gt.txt`` (+ optional
    ``GT/<seq>/seqinfo.ini`` giving ``seqLength``) and ``PRED/<seq>.txt``.

    A sequence without a prediction file counts as empty tracker output (logged); the
    result lists them under ``"missing_predictions"``. Errors name the file and line.
    """
    opts = _Options(**options)
    gt_files = ground_truth_files(gt_dir)
    pred_files, missing = prediction_files(pred_dir, gt_files)
    gt_rows, pred_rows, lengths, sources = {}, {}, {}, {}
    for seq, gt_file in gt_files.items():
        if gt_file.num_frames is not None:
            lengths[seq] = gt_file.num_frames
        gt_rows[seq] = _read(gt_file.path, gt_file.num_frames, opts.reads_gt_classes, opts.ignore_classes)
        path = pred_files[seq]
        pred_rows[seq] = (_read(path, gt_file.num_frames, opts.class_aware, ()) if path is not None
                          else box_rows(np.zeros((0, 6)), "empty"))
        sources[seq] = str(path or os.path.join(pred_dir, f"{seq}.txt"))
    result = _evaluate(gt_rows, pred_rows, lengths, opts, sources)
    result["missing_predictions"] = missing
    return result


def _read(path, num_frames: int | None, read_classes: bool, exempt_classes) -> BoxRows:
    return box_rows(read_mot_txt(path), str(path), lines=data_line_numbers(path), num_frames=num_frames,
                    read_classes=read_classes, exempt_classes=exempt_classes)


def _evaluate(gt: dict[str, BoxRows], pred: dict[str, BoxRows], lengths: dict[str, int], opts: _Options,
              pred_sources: dict[str, str]) -> dict:
    for seq in gt:
        if (opts.distractor_classes or opts.ignore_classes) and gt[seq].classes is None and len(gt[seq].frame):
            raise ValueError(f"{seq}: distractor or ignore classes need the class column (8) in the ground truth")
        for name, rows in (("gt", gt[seq]), ("pred", pred[seq])):
            if rows.zero_size:
                log.warning("%s %s: %d boxes of zero width or height (they match nothing)", seq, name, rows.zero_size)
    classes = _evaluated_classes(gt, pred, opts)
    num_frames = {seq: lengths.get(seq, _last_frame(gt[seq], pred[seq])) for seq in gt}
    counts = {}
    for seq in gt:
        tracker_classes = _tracker_classes(pred[seq], classes, pred_sources[seq])
        frames = _frame_rows(gt[seq], pred[seq], tracker_classes, num_frames[seq], opts)
        counts[seq] = class_counts(frames, classes, opts.iou_threshold, opts.conventions, seq)
    labels = None if classes is None else {c: (opts.class_names or {}).get(c, str(c)) for c in classes}
    return assemble_result(counts, num_frames, labels, opts.conventions)


def _evaluated_classes(gt: dict[str, BoxRows], pred: dict[str, BoxRows], opts: _Options) -> list[int] | None:
    """The classes to evaluate, or ``None`` for a class-agnostic evaluation."""
    if not opts.class_aware or any(g.classes is None and len(g.frame) for g in gt.values()):
        return None
    if opts.classes is not None:
        classes = sorted(set(opts.classes))
        outside = sum(int(np.sum(~np.isin(p.classes, classes))) for p in pred.values() if p.classes is not None)
        if outside:
            log.warning("%d predicted boxes of classes other than %s are not evaluated", outside, classes)
        return classes
    classes = evaluated_classes(
        [g.classes[_considered(g, opts)] for g in gt.values() if g.classes is not None],
        [p.classes for p in pred.values() if p.classes is not None],
        excluded=[*opts.distractor_classes, *opts.ignore_classes],
    )
    return classes or None


def _tracker_classes(pred: BoxRows, classes: list[int] | None, source: str) -> np.ndarray:
    """Every predicted box's class: its own, else the one evaluated class (0 when class-agnostic)."""
    if pred.classes is not None:
        return pred.classes
    if classes is None:
        return np.zeros(len(pred.frame), np.int64)
    if len(classes) > 1 and len(pred.frame):
        raise ValueError(f"{source}: predictions without a class column (8) but {len(classes)} classes are "
                         f"evaluated; pass classes=[...] with one class or class_aware=False")
    return np.full(len(pred.frame), classes[0], np.int64)


def _considered(g: BoxRows, opts: _Options) -> np.ndarray:
    if not opts.use_consider_flag:
        return np.ones(len(g.frame), bool)
    return g.conf >= 0.99 if opts.conventions == "motmetrics" else g.conf != 0


def _last_frame(*rows: BoxRows) -> int:
    return int(max((r.frame.max() for r in rows if len(r.frame)), default=0))


def _frame_rows(gt: BoxRows, pred: BoxRows, tracker_classes: np.ndarray, num_frames: int,
                opts: _Options) -> list[FrameRows]:
    """One :class:`FrameRows` per frame ``1 .. num_frames``."""
    gt_classes = gt.classes if gt.classes is not None else np.zeros(len(gt.frame), np.int64)
    is_region = np.isin(gt_classes, list(opts.ignore_classes))
    considered = _considered(gt, opts)
    distractor = np.isin(gt_classes, list(opts.distractor_classes))
    gt_frames = rows_per_frame(gt.frame, 1, num_frames, np.flatnonzero(~is_region))
    region_frames = rows_per_frame(gt.frame, 1, num_frames, np.flatnonzero(is_region))
    pred_frames = rows_per_frame(pred.frame, 1, num_frames)
    frames = []
    for g, r, p in zip(gt_frames, region_frames, pred_frames):
        if len(g) and len(p):
            similarity = box_iou(gt.boxes[g], pred.boxes[p])
        else:
            similarity = np.zeros((len(g), len(p)))
        if len(r) and len(p):
            in_ignore = np.any(box_ioa(pred.boxes[p], gt.boxes[r]) > IGNORE_REGION_IOA + EPS, axis=1)
        else:
            in_ignore = np.zeros(len(p), bool)
        frames.append(FrameRows(
            gt_ids=gt.ids[g], gt_classes=gt_classes[g], gt_considered=considered[g], gt_distractor=distractor[g],
            tracker_ids=pred.ids[p], tracker_classes=tracker_classes[p], tracker_in_ignore=in_ignore,
            similarity=similarity,
        ))
    return frames

