"""Dense optical flow between adjacent frames and warping masks with it (ReMOTS §2.3).

Flow convention (*backward* flow, what warping by sampling needs): ``flow`` of shape
``(H, W, 2)`` float32 maps frame ``t`` to frame ``t - 1``: pixel ``(x, y)`` of frame ``t``
shows what was at ``(x + flow[y, x, 0], y + flow[y, x, 1])`` in frame ``t - 1``.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from pycocotools import mask as mask_utils

__all__ = ["FarnebackFlow", "warp_masks"]


def _gray(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image.astype(np.uint8)


class FarnebackFlow:
    """OpenCV's Farneback dense flow as a flow provider: ``flow = FarnebackFlow()(prev,
    curr)`` gives the backward flow ``(H, W, 2)`` from ``curr`` to ``prev``.

    Images are ``(H, W)`` gray or ``(H, W, 3)`` RGB uint8. The arguments are those of
    ``cv2.calcOpticalFlowFarneback`` (ReMOTS does not state them; defaults are OpenCV's
    documented example values).
    """

    def __init__(
        self,
        pyr_scale: float = 0.5,
        levels: int = 3,
        winsize: int = 15,
        iterations: int = 3,
        poly_n: int = 5,
        poly_sigma: float = 1.2,
    ) -> None:
        self.pyr_scale = float(pyr_scale)
        self.levels = int(levels)
        self.winsize = int(winsize)
        self.iterations = int(iterations)
        self.poly_n = int(poly_n)
        self.poly_sigma = float(poly_sigma)

    def __call__(self, prev_image: np.ndarray, curr_image: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(
            _gray(curr_image), _gray(prev_image), None, self.pyr_scale, self.levels,
            self.winsize, self.iterations, self.poly_n, self.poly_sigma, 0,
        )


def warp_masks(masks: Sequence[dict], flow: np.ndarray) -> list[dict]:
    """Move frame ``t - 1``'s RLE masks into frame ``t`` with the backward ``flow``
    ``(H, W, 2)`` (nearest-neighbour sampling; pixels sampled outside the image are 0)."""
    if len(masks) == 0:
        return []
    binary = mask_utils.decode(list(masks))  # (H, W, N)
    h, w = binary.shape[:2]
    if flow.shape != (h, w, 2):
        raise ValueError(f"flow shape {flow.shape} does not match masks of size {(h, w)}")
    ys, xs = np.mgrid[0:h, 0:w]
    src_x = np.rint(xs + flow[..., 0]).astype(np.int64)
    src_y = np.rint(ys + flow[..., 1]).astype(np.int64)
    inside = (src_x >= 0) & (src_x < w) & (src_y >= 0) & (src_y < h)
    warped = np.zeros_like(binary)
    warped[inside] = binary[src_y[inside], src_x[inside]]
    return mask_utils.encode(np.asfortranarray(warped))
