"""Per-frame detections on disk: MOTChallenge ``det.txt`` (+ embeddings) and the sequence
files of the detection cache.

``det.txt`` rows are ``frame (1-based), id (-1), x, y, w, h, conf[, class, ...]`` in pixels;
the optional embeddings file is a ``(num_rows, D)`` ``.npy`` array aligned row by row with
``det.txt``. A sequence file (``.npz``) stores one sequence's :class:`Detections` flat:
``frame_indices (F,)``, ``offsets (F + 1,)`` and per-detection ``boxes (N, 4)``,
``scores``, ``labels``, ``embeddings (N, D)`` (optional) and ``masks`` (optional, RLEs as
JSON text).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from eval.mot_io import read_mot_txt
from eval.mot_layout import sequence_length
from trackers.types import Detections

__all__ = ["detection_files", "load_sequence_detections", "read_mot_detections", "save_sequence_detections"]


def detection_files(det_dir: str | os.PathLike) -> dict[str, tuple[Path, int | None]]:
    """``{sequence: (det.txt path, number of frames or None)}`` of a folder laid out as
    MOTChallenge (``<seq>/det/det.txt`` + optional ``<seq>/seqinfo.ini``) or flat
    (``<seq>.txt``), sorted by name.

    Raises:
        ValueError: the folder is missing or holds no detection file.
    """
    det_dir = Path(det_dir)
    if not det_dir.is_dir():
        raise ValueError(f"detection folder {det_dir} does not exist")
    found = {}
    for entry in sorted(det_dir.iterdir()):
        if entry.is_dir() and (entry / "det" / "det.txt").is_file():
            found[entry.name] = (entry / "det" / "det.txt", sequence_length(entry / "seqinfo.ini"))
        elif entry.is_file() and entry.suffix == ".txt":
            found[entry.stem] = (entry, None)
    if not found:
        raise ValueError(f"no detection files (<seq>/det/det.txt or <seq>.txt) in {det_dir}")
    return found


def read_mot_detections(
    det_path: str | os.PathLike, embeddings_path: str | os.PathLike | None = None, num_frames: int | None = None
) -> list[Detections]:
    """One :class:`Detections` per frame ``1..num_frames`` (default: the last frame with a
    row) from a MOTChallenge ``det.txt``; labels from the class column (index 7) when
    present and positive, minus 1 (contiguous), else 0.

    Raises:
        ValueError: naming the file (and 1-based line) for malformed rows, non-positive
            box sizes, frames < 1 or beyond ``num_frames``, or an embeddings file whose
            row count differs from ``det.txt``.
    """
    det_path = Path(det_path)
    rows = read_mot_txt(det_path)
    frames = rows[:, 0].astype(np.int64)
    for line, (frame, w, h) in enumerate(zip(frames, rows[:, 4], rows[:, 5]), start=1):
        if frame < 1 or (num_frames is not None and frame > num_frames):
            raise ValueError(f"{det_path}:{line}: frame {frame} outside 1..{num_frames or 'inf'}")
        if w <= 0 or h <= 0:
            raise ValueError(f"{det_path}:{line}: box width and height must be > 0, got {w} x {h}")
    embeddings = None
    if embeddings_path is not None:
        embeddings = np.load(embeddings_path)
        if embeddings.ndim != 2 or len(embeddings) != len(rows):
            raise ValueError(
                f"{embeddings_path}: expected ({len(rows)}, D) rows aligned with {det_path}, got {embeddings.shape}"
            )
    boxes = np.column_stack([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]]) if len(rows) else np.zeros((0, 4))
    scores = rows[:, 6] if rows.shape[1] > 6 else np.ones(len(rows))
    labels = np.maximum(rows[:, 7].astype(np.int64) - 1, 0) if rows.shape[1] > 7 else np.zeros(len(rows), np.int64)
    total = num_frames if num_frames is not None else int(frames.max(initial=0))
    out = []
    for frame in range(1, total + 1):
        keep = np.flatnonzero(frames == frame)
        out.append(Detections(boxes[keep], scores[keep], labels[keep],
                              None if embeddings is None else embeddings[keep]))
    return out


def save_sequence_detections(path: str | os.PathLike, frame_indices: Sequence[int], detections: Sequence[Detections]) -> None:
    """Write one sequence's per-frame detections as a ``.npz`` (layout: module docstring)."""
    if len(frame_indices) != len(detections):
        raise ValueError(f"{len(frame_indices)} frame indices for {len(detections)} frames")
    counts = [len(d) for d in detections]
    arrays = {
        "frame_indices": np.asarray(frame_indices, np.int64),
        "offsets": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        "boxes": np.concatenate([d.boxes for d in detections]) if detections else np.zeros((0, 4), np.float32),
        "scores": np.concatenate([d.scores for d in detections]) if detections else np.zeros(0, np.float32),
        "labels": np.concatenate([d.labels for d in detections]) if detections else np.zeros(0, np.int64),
    }
    if detections and all(d.embeddings is not None for d in detections):
        arrays["embeddings"] = np.concatenate([d.embeddings for d in detections])
    if detections and all(d.masks is not None for d in detections):
        arrays["masks"] = np.asarray(json.dumps([_json_rle(m) for d in detections for m in d.masks]))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)


def load_sequence_detections(path: str | os.PathLike) -> tuple[list[int], list[Detections]]:
    """Inverse of :func:`save_sequence_detections`: ``(frame_indices, detections)``."""
    with np.load(path) as data:
        offsets = data["offsets"]
        embeddings = data["embeddings"] if "embeddings" in data else None
        masks = json.loads(str(data["masks"])) if "masks" in data else None
        detections = [
            Detections(
                data["boxes"][lo:hi], data["scores"][lo:hi], data["labels"][lo:hi],
                None if embeddings is None else embeddings[lo:hi],
                None if masks is None else masks[lo:hi],
            )
            for lo, hi in zip(offsets[:-1], offsets[1:])
        ]
        return data["frame_indices"].tolist(), detections


def _json_rle(rle: dict) -> dict:
    counts = rle["counts"]
    return {"size": list(rle["size"]), "counts": counts.decode() if isinstance(counts, bytes) else counts}
