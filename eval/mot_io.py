"""MOTChallenge text files: reading, writing, and conversion from tracker output.

A MOTChallenge row is ``frame, id, x, y, w, h[, conf[, class[, visibility, ...]]]``,
comma separated, ``frame`` 1-based, ``(x, y)`` the top-left corner, ``(w, h)`` the box
size in pixels. Files hold one row per line; every row of a file has the same number of
columns (at least 6).

Pure numpy: this module imports neither torch nor ``trackers`` (it only duck-types the
``FrameTracks`` attributes ``track_ids``, ``boxes``, ``scores``, ``labels``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["MOT_MIN_COLUMNS", "frame_tracks_to_mot_rows", "read_mot_txt", "video_to_mot_rows", "write_mot_txt"]

MOT_MIN_COLUMNS = 6


def _fmt(col: int, value: float) -> str:
    if col < 2:  # frame, id
        return str(int(round(value)))
    if col < 6:  # x, y, w, h
        return f"{value:.2f}"
    return f"{value:.6g}"  # conf, class, visibility, ...: integers stay integers


def write_mot_txt(path: str | os.PathLike, rows: np.ndarray) -> None:
    """Write ``(N, C)`` rows (``C >= 6``) as a MOTChallenge text file.

    ``frame`` and ``id`` are written as integers, the box with 2 decimals, further
    columns (conf, class, visibility) with up to 6 significant digits. Parent folders are
    created. Zero rows write an empty file.
    """
    rows = np.asarray(rows, np.float64)
    if rows.size == 0:
        rows = rows.reshape(0, MOT_MIN_COLUMNS)
    if rows.ndim != 2 or rows.shape[1] < MOT_MIN_COLUMNS:
        raise ValueError(f"MOT rows must be (N, >={MOT_MIN_COLUMNS}), got shape {rows.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(_fmt(j, v) for j, v in enumerate(row.tolist())) for row in rows]
    path.write_text("".join(line + "\n" for line in lines))


def read_mot_txt(path: str | os.PathLike) -> np.ndarray:
    """Read a MOTChallenge text file into a float64 ``(N, C)`` array.

    Blank lines are skipped and surrounding whitespace is ignored. An empty file gives a
    ``(0, 6)`` array.

    Raises:
        ValueError: naming the file and 1-based line number, when a row has fewer than 6
            columns, a different column count than the first row, or a non-numeric field.
    """
    path = Path(path)
    rows: list[list[float]] = []
    ncols = None
    with path.open() as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            fields = [x.strip() for x in line.split(",")]
            if len(fields) < MOT_MIN_COLUMNS:
                raise ValueError(
                    f"{path}:{lineno}: expected at least {MOT_MIN_COLUMNS} comma-separated "
                    f"columns, got {len(fields)}: {line!r}"
                )
            if ncols is None:
                ncols = len(fields)
            elif len(fields) != ncols:
                raise ValueError(f"{path}:{lineno}: expected {ncols} columns like the first row, got {len(fields)}")
            try:
                values = [float(x) for x in fields]
            except ValueError:
                raise ValueError(f"{path}:{lineno}: non-numeric field in {line!r}") from None
            if not all(np.isfinite(values[:MOT_MIN_COLUMNS])):
                raise ValueError(f"{path}:{lineno}: non-finite frame/id/box in {line!r}")
            rows.append(values)
    if not rows:
        return np.zeros((0, MOT_MIN_COLUMNS), np.float64)
    return np.asarray(rows, np.float64)


def frame_tracks_to_mot_rows(
    frame_tracks: Sequence,
    frame_numbers: Sequence[int] | None = None,
    label_to_class: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Stack per-frame tracker output into MOTChallenge rows.

    Args:
        frame_tracks: one ``FrameTracks`` per frame (``x1, y1, x2, y2`` boxes).
        frame_numbers: the MOT frame number of each entry; default ``1 .. len``.
        label_to_class: optional lookup mapping contiguous labels to the class ids written
            in the ``class`` column (e.g. ``[c.id for c in index.categories]``); by default
            the label itself is written.

    Returns:
        ``(N, 8)`` float64 ``frame, id, x, y, w, h, conf, class``, sorted by frame (stable).
    """
    if frame_numbers is None:
        frame_numbers = range(1, len(frame_tracks) + 1)
    frame_numbers = list(frame_numbers)
    if len(frame_numbers) != len(frame_tracks):
        raise ValueError(f"{len(frame_tracks)} FrameTracks but {len(frame_numbers)} frame numbers")
    lut = None if label_to_class is None else np.asarray(label_to_class)
    out = [
        _mot_rows(frame, ft.track_ids, ft.boxes, ft.scores, ft.labels, lut)
        for frame, ft in zip(frame_numbers, frame_tracks) if len(ft.track_ids)
    ]
    if not out:
        return np.zeros((0, 8), np.float64)
    rows = np.concatenate(out)
    return rows[np.argsort(rows[:, 0], kind="stable")]


def video_to_mot_rows(video, label_to_class: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Ground truth of one schema ``Video`` as MOTChallenge rows.

    Frame numbers are ``frame_index + 1``; crowd/ignore boxes are left out (they are not
    objects to track). Returns ``(N, 8)`` ``frame, id, x, y, w, h, conf=1, class``.
    """
    lut = None if label_to_class is None else np.asarray(label_to_class)
    out = []
    for frame in video.frames:
        keep = ~np.asarray(frame.iscrowd, bool)
        if keep.any():
            out.append(_mot_rows(frame.frame_index + 1, frame.track_ids[keep], frame.boxes[keep],
                                 np.ones(int(keep.sum())), frame.labels[keep], lut))
    return np.concatenate(out) if out else np.zeros((0, 8), np.float64)


def _mot_rows(frame: int, ids, boxes_xyxy, conf, labels, lut: np.ndarray | None) -> np.ndarray:
    """``(n, 8)`` rows ``frame, id, x, y, w, h, conf, class`` of one frame's n objects."""
    boxes = np.asarray(boxes_xyxy, np.float64).reshape(-1, 4)
    labels = np.asarray(labels, np.int64).reshape(-1)
    return np.column_stack([
        np.full(len(boxes), frame, np.float64), np.asarray(ids, np.float64),
        boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1],
        np.asarray(conf, np.float64), (labels if lut is None else lut[labels]).astype(np.float64),
    ])
