"""Joint image / box / mask transforms (torchvision.transforms.v2).

A sample is a list of frames (one for ``image`` sampling, several for a clip). The v2
transforms draw their random parameters once per call, so every frame of a clip gets
the same flip and crop, which keeps identities geometrically consistent.
"""
from __future__ import annotations

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

PER_BOX_KEYS = ("labels", "track_ids", "iscrowd")

class FrameTransform:
    """Random crop + horizontal flip (+ optional zoom-out, quarter turns, vertical flip,
    colour jitter and blur) for training, and resize to a fixed size.

    Args:
        size: output ``(height, width)``; every image of a batch gets this size.
        train: enable the random augmentations (RetinaTrack: flip + crop).
        flip_prob: probability of a horizontal flip.
        crop_scale: area range of the random crop, as a fraction of the image.
        min_box_size: boxes narrower or shorter than this (pixels, after the transform)
            are dropped; objects cropped away are not annotation loss.
        color_jitter: optional ``torchvision.transforms.v2.ColorJitter`` arguments
            (brightness, contrast, saturation, hue), drawn once per clip (training only).
        zoom_out: optional SSD-style zoom-out before the crop (training only):
            ``{"side_range": [1.0, s], "p": p}`` places the image, with probability ``p``,
            on a canvas ``U(1, s)`` times its size filled with ``fill`` (0..255, default
            mid-grey; masks 0), so objects shrink by up to ``s`` after the resize.
        vflip_prob: probability of a vertical flip (training only; 0 = none).
        rot90_prob: probability of a quarter turn (training only; needs a square
            ``size``). With both flips at 0.5 and this at 0.5 every one of the eight
            symmetries of the square is equally likely.
        blur: optional ``torchvision.transforms.v2.GaussianBlur`` arguments plus ``p``,
            the probability of blurring (training only), e.g. ``{"kernel_size": 5,
            "sigma": [0.1, 2.0], "p": 0.5}``: smooths away fine texture, keeps outlines.
    """

    def __init__(
        self, size: tuple[int, int] = (128, 128), train: bool = False, flip_prob: float = 0.5,
        crop_scale: tuple[float, float] = (0.6, 1.0), min_box_size: float = 2.0,
        color_jitter: dict | None = None, zoom_out: dict | None = None,
        vflip_prob: float = 0.0, rot90_prob: float = 0.0, blur: dict | None = None,
    ) -> None:
        self.size = tuple(size)
        self.min_box_size = min_box_size
        steps: list = [v2.ToImage()]
        if train:
            if zoom_out:
                steps.append(_zoom_out(**zoom_out))
            steps += [
                v2.RandomResizedCrop(self.size, scale=tuple(crop_scale), ratio=(0.75, 1.333), antialias=True),
                v2.RandomHorizontalFlip(flip_prob),
            ]
            if vflip_prob:
                steps.append(v2.RandomVerticalFlip(vflip_prob))
            if rot90_prob:
                if self.size[0] != self.size[1]:
                    raise ValueError(f"rot90_prob needs a square size, got {self.size}")
                steps.append(v2.RandomApply([v2.RandomRotation((90, 90))], p=rot90_prob))
            if color_jitter:
                steps.append(v2.ColorJitter(**color_jitter))
            if blur:
                steps.append(_blur(**blur))
        else:
            steps += [v2.Resize(self.size, antialias=True)]
        steps += [v2.ToDtype(torch.float32, scale=True)]
        self.transform = v2.Compose(steps)

    def __call__(self, frames: list[dict]) -> list[dict]:
        """Args: frames with ``image`` (PIL or HWC uint8), ``boxes (N, 4)`` xyxy tensor,
        optional ``masks (N, H, W)`` uint8, plus the per-box tensors of
        ``PER_BOX_KEYS``, which are filtered with the boxes; other keys pass through.

        Returns frames with ``image (3, h, w)`` float in [0, 1] and transformed boxes/masks.
        """
        structured = []
        for frame in frames:
            height, width = _image_size(frame["image"])
            item = {
                "image": frame["image"],
                "boxes": tv_tensors.BoundingBoxes(frame["boxes"], format="XYXY", canvas_size=(height, width)),
            }
            if frame.get("masks") is not None:
                item["masks"] = tv_tensors.Mask(frame["masks"])
            structured.append(item)
        transformed = self.transform(structured)
        out = []
        for frame, item in zip(frames, transformed):
            boxes = item["boxes"].as_subclass(torch.Tensor)
            wh = boxes[:, 2:] - boxes[:, :2]
            keep = (wh >= self.min_box_size).all(1)
            result = {key: value for key, value in frame.items() if key not in ("image", "boxes", "masks")}
            for key in PER_BOX_KEYS:
                if key in result:
                    result[key] = result[key][keep]
            result["image"] = item["image"].as_subclass(torch.Tensor)
            result["boxes"] = boxes[keep]
            if "masks" in item:
                result["masks"] = item["masks"].as_subclass(torch.Tensor)[keep]
            out.append(result)
        return out


def _zoom_out(side_range: tuple[float, float], p: float = 0.5, fill: int = 128) -> v2.RandomZoomOut:
    fill_by_type = {tv_tensors.Image: fill, tv_tensors.Mask: 0, "others": 0}
    return v2.RandomZoomOut(fill=fill_by_type, side_range=tuple(side_range), p=p)


def _blur(p: float = 0.5, **gaussian_blur) -> v2.RandomApply:
    return v2.RandomApply([v2.GaussianBlur(**gaussian_blur)], p=p)


def _image_size(image) -> tuple[int, int]:
    if hasattr(image, "size") and not isinstance(image, torch.Tensor):  # PIL
        width, height = image.size
        return height, width
    if isinstance(image, torch.Tensor):
        return tuple(image.shape[-2:])
    return image.shape[0], image.shape[1]
