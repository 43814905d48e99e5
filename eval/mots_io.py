"""MOTS text files (KITTI-MOTS / MOTSChallenge): one instance mask per line.

A line is ``time_frame object_id class_id img_height img_width rle``, separated by spaces,
where ``rle`` is a pycocotools compressed RLE string (column-major, as
``pycocotools.mask.encode`` writes it). Class 10 marks ignore regions. KITTI-MOTS numbers
frames from 0, MOTSChallenge from 1: the file does not say, so frames are kept as written.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

__all__ = ["MotsRows", "read_mots_txt", "write_mots_txt"]


@dataclass(frozen=True)
class MotsRows:
    """``N`` masks. ``frame``, ``ids``, ``classes``, ``height``, ``width``: ``(N,)`` int64;
    ``rles``: ``N`` RLE strings as bytes; ``lines``: ``(N,)`` 1-based line numbers in the
    file ``source``, or ``None`` when the rows do not come from a file."""

    frame: np.ndarray
    ids: np.ndarray
    classes: np.ndarray
    height: np.ndarray
    width: np.ndarray
    rles: list[bytes]
    source: str
    lines: np.ndarray | None = None

    @classmethod
    def from_records(cls, records: Iterable, source: str = "records") -> "MotsRows":
        """From ``(frame, id, class, height, width, rle)`` tuples (``rle``: str or bytes)."""
        records = list(records)
        ints = np.array([r[:5] for r in records], np.int64).reshape(-1, 5)
        rles = [r[5].encode() if isinstance(r[5], str) else bytes(r[5]) for r in records]
        return cls(*ints.T, rles=rles, source=source)

    def where(self, i: int) -> str:
        """``file:line`` (or ``source row i``) of row ``i``, for error messages."""
        return f"{self.source}:{self.lines[i]}" if self.lines is not None else f"{self.source} row {i}"

    def rle(self, i: int) -> dict:
        """Row ``i`` as a pycocotools RLE dict."""
        return {"size": [int(self.height[i]), int(self.width[i])], "counts": self.rles[i]}


def read_mots_txt(path: str | os.PathLike) -> MotsRows:
    """Read a MOTS text file; blank lines are skipped.

    Raises:
        ValueError: naming the file and line, for a line without exactly 6 fields, a
            non-integer or negative frame / id / class, or a non-positive image size.
    """
    path = Path(path)
    numbers, rles, lines = [], [], []
    with path.open() as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 6:
                raise ValueError(f"{path}:{lineno}: expected 6 space-separated fields "
                                 f"(frame id class height width rle), got {len(fields)}")
            try:
                values = [int(x) for x in fields[:5]]
            except ValueError:
                raise ValueError(f"{path}:{lineno}: frame, id, class, height and width must be integers") from None
            if min(values[:3]) < 0 or min(values[3:]) <= 0:
                raise ValueError(f"{path}:{lineno}: negative frame / id / class or non-positive image size")
            numbers.append(values)
            rles.append(fields[5].encode())
            lines.append(lineno)
    ints = np.array(numbers, np.int64).reshape(-1, 5)
    return MotsRows(*ints.T, rles=rles, source=str(path), lines=np.array(lines, np.int64))


def write_mots_txt(path: str | os.PathLike, rows: MotsRows) -> None:
    """Write rows as a MOTS text file (parent folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(
        f"{f} {i} {c} {h} {w} {rle.decode()}\n"
        for f, i, c, h, w, rle in zip(rows.frame.tolist(), rows.ids.tolist(), rows.classes.tolist(),
                                      rows.height.tolist(), rows.width.tolist(), rows.rles)
    )
    path.write_text(text)
