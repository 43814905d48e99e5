"""Checked MOTChallenge box rows of one sequence (ground truth or tracker output).

Rows are ``frame, id, x, y, w, h[, conf[, class[, visibility, ...]]]`` (see
:mod:`eval.mot_io`). :func:`box_rows` raises ``ValueError`` naming the row (``file:line``
for files, ``name row i`` for arrays) when

- a row has fewer than 6 columns, or a non-finite frame, id or box value;
- frame or id is not an integer, or the frame is outside ``1 .. num_frames``;
- a box has negative width or height;
- a class value (column 8) is not an integer (only read when classes are used);
- an id occurs twice in one frame (ignore-region rows are exempt).

Zero-size boxes are allowed (they overlap nothing, so they can never match); their number is
kept in :attr:`BoxRows.zero_size` for the caller to log.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Collection

import numpy as np

from eval.sequence import find_repeated_id

__all__ = ["BoxRows", "box_rows"]


@dataclass(frozen=True)
class BoxRows:
    """``N`` checked rows. ``frame`` / ``ids``: ``(N,)`` int64 (frame 1-based); ``boxes``:
    ``(N, 4)`` ``x, y, w, h``; ``conf``: ``(N,)`` column 7 (1 where absent); ``classes``:
    ``(N,)`` int64, or ``None`` without class information (no column 8, or only negative
    values: the MOTChallenge "unused" -1); ``visibility`` is not kept."""

    frame: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray
    conf: np.ndarray
    classes: np.ndarray | None
    zero_size: int


def box_rows(
    array,
    source: str,
    *,
    lines: np.ndarray | None = None,
    num_frames: int | None = None,
    read_classes: bool = True,
    exempt_classes: Collection[int] = (),
) -> BoxRows:
    """Check ``(N, >=6)`` rows (see the module docstring).

    Args:
        array: the rows.
        source: a file path (with ``lines``) or a name such as ``"gt['seq']"``.
        lines: ``(N,)`` 1-based line numbers of the rows in ``source``.
        num_frames: the sequence length, if known.
        read_classes: read column 8 as the class (else ``classes`` is ``None``).
        exempt_classes: classes whose rows may repeat an id within a frame (ignore regions).
    """
    rows = np.asarray(array, np.float64)
    if rows.size == 0:
        rows = rows.reshape(0, max(6, rows.shape[-1] if rows.ndim == 2 else 6))

    def where(i: int) -> str:
        return f"{source}:{lines[i]}" if lines is not None else f"{source} row {i}"

    def fail(mask: np.ndarray, message: str) -> None:
        bad = np.flatnonzero(mask)
        if len(bad):
            raise ValueError(f"{where(bad[0])}: {message} ({rows[bad[0]].tolist()})")

    if rows.ndim != 2 or rows.shape[1] < 6:
        raise ValueError(f"{source}: expected MOT rows of shape (N, >=6), got {rows.shape}")
    fail(~np.isfinite(rows[:, :6]).all(axis=1), "non-finite frame, id or box")
    fail(rows[:, 0] != np.round(rows[:, 0]), "frame is not an integer")
    fail(rows[:, 0] < 1, "frame numbers start at 1")
    if num_frames is not None:
        fail(rows[:, 0] > num_frames, f"frame beyond the sequence length {num_frames}")
    fail(rows[:, 1] != np.round(rows[:, 1]), "id is not an integer")
    fail((rows[:, 4] < 0) | (rows[:, 5] < 0), "negative box width or height")

    classes = None
    if read_classes and rows.shape[1] >= 8 and (rows[:, 7] >= 0).any():
        fail(rows[:, 7] != np.round(rows[:, 7]), "class (column 8) is not an integer")
        classes = rows[:, 7].astype(np.int64)
    frame, ids = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64)
    checked = np.flatnonzero(~np.isin(classes, list(exempt_classes))) if classes is not None else np.arange(len(rows))
    repeated = find_repeated_id(frame[checked], ids[checked])
    if repeated is not None:
        first, second = checked[list(repeated)]
        raise ValueError(f"{where(second)}: id {ids[second]} occurs twice in frame {frame[second]} "
                         f"(also at {where(first)})")
    return BoxRows(
        frame=frame,
        ids=ids,
        boxes=rows[:, 2:6].copy(),
        conf=rows[:, 6].copy() if rows.shape[1] >= 7 else np.ones(len(rows)),
        classes=classes,
        zero_size=int(np.sum((rows[:, 4] == 0) | (rows[:, 5] == 0))),
    )
