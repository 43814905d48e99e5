"""Single-object-tracking files: per-sequence box text files, absence flags, GOT-10k meta
data, and the benchmark directory layout.

Box files (``groundtruth.txt``, tracker output): one line per frame, ``x,y,w,h[,score]``,
fields separated by commas, tabs or spaces (OTB mixes them). A frame without a box is a
NaN row (``nan,nan,nan,nan``); ground truth may also write ``0,0,0,0`` for it. Every line
of a file has the same number of fields; trailing blank lines are ignored.

Directory layout (:func:`load_sot_dirs`)::

    GT/<seq>/groundtruth.txt          one box per frame
    GT/<seq>/absence.label            optional, GOT-10k: 1 = target absent
    GT/<seq>/cover.label              optional, GOT-10k: 0 = target fully covered (absent)
    GT/<seq>/full_occlusion.txt       optional, LaSOT: 1 = fully occluded (absent)
    GT/<seq>/out_of_view.txt          optional, LaSOT: 1 = out of view (absent)
    GT/<seq>/meta_info.ini            optional, GOT-10k: ``resolution: (W, H)``
    PRED/<seq>.txt                    one box (+ score) per ground-truth frame

A frame is absent when any of these says so or its ground-truth row is NaN / zero-size;
the same rule holds for every protocol.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from eval.sequence_dirs import evaluated_sequences
from eval.sot_data import SotGroundTruth

__all__ = [
    "load_sot_dirs",
    "read_flags",
    "read_image_size",
    "read_sot_ground_truth",
    "read_sot_txt",
    "write_sot_txt",
]

logger = logging.getLogger(__name__)

_SEPARATORS = re.compile(r"[,\s]+")
# file name -> value that marks a frame absent
_ABSENCE_FILES = {"absence.label": 1, "cover.label": 0, "full_occlusion.txt": 1, "out_of_view.txt": 1}


def _fields(path: Path) -> list[tuple[int, list[str]]]:
    """``(1-based line number, fields)`` of every non-blank line; a blank line followed by
    data is an error (it would shift every later frame)."""
    rows, blank_at = [], None
    with path.open() as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                blank_at = blank_at or lineno
                continue
            if blank_at is not None:
                raise ValueError(f"{path}:{blank_at}: blank line before the last frame")
            rows.append((lineno, _SEPARATORS.split(line)))
    return rows


def read_sot_txt(path: str | os.PathLike, columns: Sequence[int] = (4, 5)) -> np.ndarray:
    """Read a box file into a float64 ``(N, C)`` array, ``C`` one of ``columns``.

    Raises:
        ValueError: naming the file and 1-based line, for a column count not in
            ``columns`` or different from the first line's, a non-numeric field, a box
            that is neither all finite nor all NaN, a negative width/height, a present
            box with a non-finite score, or a blank line before the last frame.
    """
    path = Path(path)
    rows, ncols = [], None
    for lineno, fields in _fields(path):
        if len(fields) not in columns:
            raise ValueError(f"{path}:{lineno}: expected {' or '.join(map(str, columns))} fields, got {len(fields)}")
        if ncols is not None and len(fields) != ncols:
            raise ValueError(f"{path}:{lineno}: expected {ncols} fields like the first line, got {len(fields)}")
        ncols = len(fields)
        try:
            values = np.array([float(x) for x in fields])
        except ValueError:
            raise ValueError(f"{path}:{lineno}: non-numeric field in {fields}") from None
        box = values[:4]
        if np.isnan(box).all():
            rows.append(values)
            continue
        if not np.isfinite(values).all():
            raise ValueError(f"{path}:{lineno}: box must be all finite or all NaN (with a finite score): {fields}")
        if (box[2:] < 0).any():
            raise ValueError(f"{path}:{lineno}: negative width or height: {fields}")
        rows.append(values)
    if not rows:
        return np.zeros((0, min(columns)), np.float64)
    return np.stack(rows)


def write_sot_txt(path: str | os.PathLike, boxes: np.ndarray, scores: np.ndarray | None = None) -> None:
    """Write ``(N, 4)`` boxes (NaN rows = absent) and optional ``(N,)`` scores as a box file:
    ``x,y,w,h`` with 4 decimals, the score with 6 significant digits, ``nan`` for NaN.
    Parent folders are created."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if scores is not None:
        scores = np.asarray(scores, np.float64).reshape(-1)
        if len(scores) != len(boxes):
            raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    lines = []
    for i, box in enumerate(boxes.tolist()):
        fields = ["nan" if np.isnan(v) else f"{v:.4f}" for v in box]
        if scores is not None:
            fields.append("nan" if np.isnan(scores[i]) else f"{scores[i]:.6g}")
        lines.append(",".join(fields) + "\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))


def read_flags(path: str | os.PathLike) -> np.ndarray:
    """Read a per-frame integer label file (one value per line, or one comma-separated
    line as LaSOT writes) into an ``(N,)`` int64 array.

    Raises:
        ValueError: naming the file and line, for a field that is not an integer.
    """
    path = Path(path)
    values = []
    for lineno, fields in _fields(path):
        try:
            values.extend(int(x) for x in fields)
        except ValueError:
            raise ValueError(f"{path}:{lineno}: expected integer flags, got {fields}") from None
    return np.asarray(values, np.int64)


def read_image_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """``(width, height)`` from the ``resolution: (W, H)`` line of a GOT-10k
    ``meta_info.ini``; None if there is no such line.

    Raises:
        ValueError: naming the file and line, for a malformed resolution.
    """
    path = Path(path)
    with path.open() as f:
        for lineno, line in enumerate(f, start=1):
            key, _, value = line.partition(":")
            if key.strip() != "resolution":
                continue
            numbers = re.findall(r"\d+", value)
            if len(numbers) != 2:
                raise ValueError(f"{path}:{lineno}: expected 'resolution: (W, H)', got {line.strip()!r}")
            return int(numbers[0]), int(numbers[1])
    return None


def read_sot_ground_truth(seq_dir: str | os.PathLike) -> SotGroundTruth:
    """Ground truth of one sequence folder: ``groundtruth.txt`` (4 fields) plus whichever
    absence files and ``meta_info.ini`` exist (see the module docstring).

    Raises:
        ValueError: naming the file, for an empty ground truth, a flag file whose length
            differs from the ground truth's, or any malformed file.
    """
    seq_dir = Path(seq_dir)
    gt_file = seq_dir / "groundtruth.txt"
    boxes = read_sot_txt(gt_file, columns=(4,))
    if len(boxes) == 0:
        raise ValueError(f"{gt_file}: no frames")
    absent = np.zeros(len(boxes), bool)
    for name, absent_value in _ABSENCE_FILES.items():
        flag_file = seq_dir / name
        if flag_file.is_file():
            flags = read_flags(flag_file)
            if len(flags) != len(boxes):
                raise ValueError(f"{flag_file}: {len(flags)} flags but {len(boxes)} ground-truth frames")
            absent |= flags == absent_value
    meta = seq_dir / "meta_info.ini"
    image_size = read_image_size(meta) if meta.is_file() else None
    return SotGroundTruth.from_boxes(boxes, absent, image_size)


def load_sot_dirs(
    gt_dir: str | os.PathLike, pred_dir: str | os.PathLike, sequences: Sequence[str] | None = None
) -> tuple[dict[str, SotGroundTruth], dict[str, np.ndarray]]:
    """Read a ground-truth and a prediction directory (layout in the module docstring).

    Args:
        gt_dir: one sub-folder per sequence (hidden folders and plain files are ignored).
        pred_dir: one ``<seq>.txt`` per sequence (other files are ignored).
        sequences: evaluate only these sequences (e.g. a split list); other ground-truth
            folders and prediction files are then not read. Default: every sequence.

    Returns:
        ``(gt, pred)``: sequence name -> :class:`SotGroundTruth` and -> ``(N, 4|5)`` array,
        in sorted name order (or ``sequences`` order).

    Raises:
        ValueError: no sequence, a sequence folder without ``groundtruth.txt``, a
            prediction file for an unknown sequence, a missing prediction file, a
            prediction whose frame count differs from the ground truth's, or a malformed
            file (naming it).
    """
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    names = evaluated_sequences(gt_dir, pred_dir, sequences, (p.stem for p in pred_dir.glob("*.txt")),
                                "prediction files")
    gt, pred = {}, {}
    for name in names:
        if not (gt_dir / name / "groundtruth.txt").is_file():
            raise ValueError(f"{gt_dir / name}: no groundtruth.txt")
        pred_file = pred_dir / f"{name}.txt"
        if not pred_file.is_file():
            raise ValueError(f"{pred_file}: missing prediction for sequence {name!r}")
        gt[name] = read_sot_ground_truth(gt_dir / name)
        pred[name] = read_sot_txt(pred_file)
        if len(pred[name]) != len(gt[name]):
            raise ValueError(f"{pred_file}: {len(pred[name])} frames, ground truth has {len(gt[name])}")
    logger.info("loaded %d SOT sequences from %s and %s", len(names), gt_dir, pred_dir)
    return gt, pred
