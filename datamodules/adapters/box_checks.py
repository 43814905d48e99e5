"""The box rule shared by the Waymo and single-object-tracking adapters.

For ``(N, 4)`` ``x1, y1, x2, y2`` pixel boxes of one ``width x height`` image:

- a box with a non-finite coordinate or a non-positive width / height is an error;
- a box with no area inside the image is an error;
- a box reaching past the image border is clipped to the image; when it reaches more than
  ``tolerance`` pixels past it, the clip is counted as ``skipped["box_clipped"]`` (objects
  leaving the frame are annotated so in SOT benchmarks; within the tolerance it is
  rounding and not counted).

Errors are :class:`AnnotationError` naming ``where(i)`` (file and record of box ``i``).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from datamodules.schema import AnnotationError, SkipLog

__all__ = ["clip_boxes_to_image"]


def clip_boxes_to_image(
    boxes: np.ndarray, width: int, height: int, *, tolerance: float,
    where: Callable[[int], str], skipped: SkipLog,
) -> np.ndarray:
    """Check ``(N, 4)`` xyxy boxes against a ``width x height`` image (rules in the module
    docstring) and return them clipped to it, float32."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    x1, y1, x2, y2 = boxes.T
    size = f"{width}x{height}"
    for bad, problem in (
        (~np.isfinite(boxes).all(axis=1), "has a non-finite coordinate"),
        ((x2 <= x1) | (y2 <= y1), "has a non-positive width or height"),
        ((x1 >= width) | (y1 >= height) | (x2 <= 0) | (y2 <= 0), f"lies outside the {size} image"),
    ):
        if bad.any():
            i = int(np.argmax(bad))
            raise AnnotationError(f"{where(i)}: box (x1, y1, x2, y2) {boxes[i].tolist()} {problem}")
    overshoot = np.maximum.reduce([-x1, -y1, x2 - width, y2 - height])
    for i in np.flatnonzero(overshoot > tolerance):
        skipped.add("box_clipped", where(int(i)))
    clipped = np.clip(boxes, 0.0, [width, height, width, height])
    return clipped.astype(np.float32)
