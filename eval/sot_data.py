"""Single-object-tracking inputs: one ground truth per sequence and the checks that pair it
with a prediction.

Boxes are ``x, y, w, h`` in pixels, ``(x, y)`` the top-left corner. A frame whose target
is absent (fully occluded, out of view, not in the image) is marked in
``SotGroundTruth.absent``; a prediction reports "absent" with a NaN box row. Predictions
are ``(N, 4)`` boxes or ``(N, 5)`` boxes plus a confidence score, one row per ground-truth
frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping

import numpy as np

__all__ = ["SotGroundTruth", "paired_sequences", "split_prediction"]


@dataclass(frozen=True, eq=False)
class SotGroundTruth:
    """Ground truth of one sequence.

    Attributes:
        boxes: ``(N, 4)`` float64 ``x, y, w, h``; rows of absent frames may hold anything
            (NaN, zeros, a stale box).
        absent: ``(N,)`` bool, True where the target is not visible.
        image_size: ``(width, height)`` in pixels when known (GOT-10k clips boxes to it).
    """

    boxes: np.ndarray
    absent: np.ndarray
    image_size: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, np.float64)
        absent = np.asarray(self.absent, bool)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"ground-truth boxes must be (N, 4), got {boxes.shape}")
        if len(boxes) == 0:
            raise ValueError("ground truth has no frame")
        if absent.shape != (len(boxes),):
            raise ValueError(f"absent flags must be ({len(boxes)},), got {absent.shape}")
        bad = ~absent & (~np.isfinite(boxes).all(axis=1) | (boxes[:, 2:] <= 0).any(axis=1))
        if bad.any():
            raise ValueError(f"ground-truth frame {int(np.argmax(bad)) + 1}: a present box needs finite "
                             f"values and w, h > 0, got {boxes[bad][0].tolist()}")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "absent", absent)

    @classmethod
    def from_boxes(cls, boxes, absent=None, image_size=None) -> "SotGroundTruth":
        """Ground truth whose absent frames are the NaN rows, the rows with ``w == 0`` or
        ``h == 0`` (benchmarks write ``0,0,0,0`` for "no box") and, if given, the frames
        flagged in ``absent`` (``(N,)`` bool)."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        no_box = np.isnan(boxes).any(axis=1) | (boxes[:, 2] == 0) | (boxes[:, 3] == 0)
        flagged = np.zeros(len(boxes), bool) if absent is None else np.asarray(absent, bool)
        if flagged.shape != (len(boxes),):
            raise ValueError(f"absent flags must be ({len(boxes)},), got {flagged.shape}")
        return cls(boxes, no_box | flagged, None if image_size is None else tuple(image_size))

    def __len__(self) -> int:
        return len(self.boxes)


def split_prediction(pred, num_frames: int, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Check one prediction array and split it into boxes and scores.

    Args:
        pred: ``(N, 4)`` boxes or ``(N, 5)`` boxes + score; a NaN box row means "absent".
        num_frames: the ground truth's frame count ``N``.
        name: the sequence name, for error messages.

    Returns:
        ``(boxes (N, 4) float64, scores (N,) float64 or None)``.

    Raises:
        ValueError: wrong shape or frame count, a box row that is neither all finite nor
            all NaN, a negative width/height, or a present box without a finite score
            (naming the sequence and the 1-based frame).
    """
    pred = np.asarray(pred, np.float64)
    if pred.ndim != 2 or pred.shape[1] not in (4, 5):
        raise ValueError(f"{name}: prediction must be (N, 4) or (N, 5), got {pred.shape}")
    if len(pred) != num_frames:
        raise ValueError(f"{name}: prediction has {len(pred)} frames, ground truth {num_frames}")
    boxes = pred[:, :4]
    nan_rows = np.isnan(boxes).all(axis=1)
    present = ~nan_rows
    bad = present & ~np.isfinite(boxes).all(axis=1)
    if bad.any():
        raise ValueError(f"{name}: frame {int(np.argmax(bad)) + 1}: box must be all finite or all NaN")
    negative = present & (boxes[:, 2:] < 0).any(axis=1)
    if negative.any():
        raise ValueError(f"{name}: frame {int(np.argmax(negative)) + 1}: negative width or height")
    scores = pred[:, 4] if pred.shape[1] == 5 else None
    if scores is not None and not np.isfinite(scores[present]).all():
        frame = int(np.argmax(present & ~np.isfinite(scores))) + 1
        raise ValueError(f"{name}: frame {frame}: a present box needs a finite score")
    return boxes, scores


def paired_sequences(
    gt: Mapping[str, SotGroundTruth], pred: Mapping[str, np.ndarray]
) -> Iterator[tuple[str, SotGroundTruth, np.ndarray, np.ndarray | None]]:
    """Yield ``(name, ground truth, boxes, scores)`` for every ground-truth sequence, in
    ``gt`` order, after checking that both mappings name the same sequences.

    Raises:
        ValueError: no sequence, a prediction for an unknown sequence, a sequence without
            prediction, or a bad prediction array (see :func:`split_prediction`).
    """
    if not gt:
        raise ValueError("SOT evaluation needs at least one ground-truth sequence")
    unknown = sorted(set(pred) - set(gt))
    if unknown:
        raise ValueError(f"predictions for sequences without ground truth: {unknown}")
    missing = [name for name in gt if name not in pred]
    if missing:
        raise ValueError(f"no prediction for sequences: {missing}")
    for name, g in gt.items():
        boxes, scores = split_prediction(pred[name], len(g), name)
        yield name, g, boxes, scores
