"""DAVIS-style indexed PNG label maps: reading, writing and the directory layout.

Layout::

    GT/<seq>/<frame>.png      palette (mode "P") or greyscale (mode "L") PNG whose pixel
                              value k is object k, 0 background, 255 void
    PRED/<seq>/<frame>.png    the same names; the first and last frame may be missing
                              (DAVIS does not evaluate them)

Frames are the ground truth's ``*.png`` files in sorted name order.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from eval.sequence_dirs import evaluated_sequences

__all__ = ["davis_palette", "load_davis_dirs", "read_label_png", "write_label_png"]

logger = logging.getLogger(__name__)


def davis_palette() -> list[int]:
    """The 256-colour palette DAVIS (and PASCAL VOC) annotations use, as a flat
    ``[r0, g0, b0, r1, ...]`` list: colour k spreads the bits of k over the high bits of
    the red, green and blue channels."""
    palette = []
    for k in range(256):
        rgb = [0, 0, 0]
        for shift in range(8):
            for channel in range(3):
                rgb[channel] |= ((k >> (3 * shift + channel)) & 1) << (7 - shift)
        palette.extend(rgb)
    return palette


def read_label_png(path: str | os.PathLike) -> np.ndarray:
    """Read an indexed (mode "P") or greyscale (mode "L") PNG into an ``(H, W)`` uint8 label map.

    Raises:
        ValueError: naming the file, for any other image mode (e.g. RGB colours).
    """
    with Image.open(path) as image:
        if image.mode not in ("P", "L"):
            raise ValueError(f"{path}: expected an indexed or greyscale label PNG, got mode {image.mode!r}")
        return np.array(image, np.uint8)


def write_label_png(path: str | os.PathLike, labels: np.ndarray) -> None:
    """Write an ``(H, W)`` label map (values 0..255) as an indexed PNG with the DAVIS
    palette; parent folders are created."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.min(initial=0) < 0 or labels.max(initial=0) > 255:
        raise ValueError(f"labels must be an (H, W) map of values 0..255, got shape {labels.shape}")
    image = Image.fromarray(labels.astype(np.uint8))  # mode "L"
    image.putpalette(davis_palette())  # turns it into mode "P", values unchanged
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _read_sequence(gt_seq: Path, pred_seq: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(T, H, W)`` ground truth and prediction of one sequence; missing first/last
    predicted frames are zeros (never read)."""
    frames = sorted(gt_seq.glob("*.png"))
    if not frames:
        raise ValueError(f"{gt_seq}: no PNG frames")
    gt = np.stack([read_label_png(p) for p in frames])
    pred = np.zeros_like(gt)
    for t, frame in enumerate(frames):
        pred_file = pred_seq / frame.name
        if not pred_file.is_file():
            if 0 < t < len(frames) - 1:
                raise ValueError(f"{pred_file}: missing predicted frame")
            continue
        pred[t] = _same_size(read_label_png(pred_file), gt[t], pred_file)
    return gt, pred


def _same_size(pred: np.ndarray, gt: np.ndarray, path: Path) -> np.ndarray:
    if pred.shape != gt.shape:
        raise ValueError(f"{path}: size {pred.shape[::-1]} differs from the ground truth's {gt.shape[::-1]}")
    return pred


def load_davis_dirs(
    gt_dir: str | os.PathLike, pred_dir: str | os.PathLike, sequences: Sequence[str] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Read ground-truth and predicted label maps of every sequence.

    Args:
        gt_dir: one folder of PNGs per sequence (e.g. DAVIS ``Annotations/480p``).
        pred_dir: one folder per sequence with the same frame names.
        sequences: only these sequences (e.g. ``ImageSets/2017/val.txt``); other folders
            are not read. Default: every folder of ``gt_dir``.

    Returns:
        ``(gt, pred)``: sequence name -> ``(T, H, W)`` uint8 label maps.

    Raises:
        ValueError: naming the folder or file, for no sequence, a prediction folder of an
            unknown sequence, a missing prediction folder or middle frame, a size
            mismatch, or a PNG that is not a label map.
    """
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    predicted = (p.name for p in pred_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    names = evaluated_sequences(gt_dir, pred_dir, sequences, predicted, "prediction folders")
    gt, pred = {}, {}
    for name in names:
        if not (gt_dir / name).is_dir():
            raise ValueError(f"{gt_dir / name}: no such ground-truth sequence")
        if not (pred_dir / name).is_dir():
            raise ValueError(f"{pred_dir / name}: missing prediction folder")
        gt[name], pred[name] = _read_sequence(gt_dir / name, pred_dir / name)
    logger.info("loaded %d DAVIS sequences from %s and %s", len(names), gt_dir, pred_dir)
    return gt, pred
