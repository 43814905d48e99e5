"""The MOTChallenge directory layout: ground-truth sequences and prediction files.

Ground truth: ``GT/<seq>/gt/gt.txt`` with an optional ``GT/<seq>/seqinfo.ini`` whose
``[Sequence] seqLength`` is the number of frames; the MOTS evaluation also accepts a flat
``GT/<seq>.txt`` (KITTI-MOTS style, no ``seqinfo.ini``). Predictions: ``PRED/<seq>.txt``.

As in the MOTChallenge devkit, a sequence without a prediction file is evaluated as an empty
tracker output (logged as a warning and listed by :func:`prediction_files`); a prediction
file for a sequence that has no ground truth is an error.
"""
from __future__ import annotations

import configparser
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["GroundTruthFile", "data_line_numbers", "ground_truth_files", "prediction_files", "sequence_length"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroundTruthFile:
    """One sequence's ground-truth file, its ``num_frames`` from ``seqinfo.ini`` (or ``None``),
    and whether it sits in ``<seq>/gt/gt.txt`` (``nested``) or in ``<seq>.txt``."""

    path: Path
    num_frames: int | None
    nested: bool


def ground_truth_files(gt_dir: str | os.PathLike, allow_flat: bool = False) -> dict[str, GroundTruthFile]:
    """Sequence name -> :class:`GroundTruthFile`, sorted by name.

    Raises:
        ValueError: the folder holds no sequence, or a ``seqinfo.ini`` lacks a valid
            ``seqLength``.
    """
    gt_dir = Path(gt_dir)
    if not gt_dir.is_dir():
        raise ValueError(f"ground-truth folder {gt_dir} does not exist")
    found = {}
    for entry in sorted(gt_dir.iterdir()):
        nested = entry / "gt" / "gt.txt"
        if entry.is_dir() and nested.is_file():
            found[entry.name] = GroundTruthFile(nested, sequence_length(entry / "seqinfo.ini"), nested=True)
        elif allow_flat and entry.is_file() and entry.suffix == ".txt":
            found[entry.stem] = GroundTruthFile(entry, None, nested=False)
    if not found:
        layout = "<seq>/gt/gt.txt or <seq>.txt" if allow_flat else "<seq>/gt/gt.txt"
        raise ValueError(f"no ground-truth sequences ({layout}) in {gt_dir}")
    return found


def prediction_files(pred_dir: str | os.PathLike, sequences) -> tuple[dict[str, Path | None], list[str]]:
    """``(sequence -> PRED/<seq>.txt or None, sorted names of sequences without a file)``.

    Raises:
        ValueError: naming a ``.txt`` file in ``pred_dir`` whose sequence has no ground truth.
    """
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise ValueError(f"prediction folder {pred_dir} does not exist")
    sequences = list(sequences)
    unknown = sorted(p for p in pred_dir.glob("*.txt") if p.stem not in sequences)
    if unknown:
        raise ValueError(f"{unknown[0]}: prediction file for a sequence without ground truth")
    files = {seq: (pred_dir / f"{seq}.txt" if (pred_dir / f"{seq}.txt").is_file() else None) for seq in sequences}
    missing = sorted(seq for seq, path in files.items() if path is None)
    if missing:
        log.warning("%d of %d sequences have no prediction file in %s and count as empty tracker output: %s",
                    len(missing), len(files), pred_dir, ", ".join(missing))
    return files, missing


def data_line_numbers(path: str | os.PathLike) -> np.ndarray:
    """1-based numbers of the non-blank lines of a text file (the rows its readers return)."""
    with open(path) as f:
        return np.array([n for n, line in enumerate(f, start=1) if line.strip()], np.int64)


def sequence_length(ini: Path) -> int | None:
    """``[Sequence] seqLength`` of a MOTChallenge ``seqinfo.ini``; ``None`` without the file."""
    if not ini.is_file():
        return None
    parser = configparser.ConfigParser()
    parser.read(ini)
    try:
        length = int(parser["Sequence"]["seqLength"])
    except (KeyError, ValueError):
        raise ValueError(f"{ini}: no integer [Sequence] seqLength") from None
    if length < 0:
        raise ValueError(f"{ini}: negative seqLength {length}")
    return length
