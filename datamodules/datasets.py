"""Map-style datasets over a :class:`VideoIndex` for each sampling mode, plus collate.

- :class:`FrameDataset` (``image`` sampling, and evaluation): one frame per item.
- :class:`ClipDataset` (``clip`` sampling): ``frames_per_clip`` frames of one video,
  ``stride`` frames apart, with all their identities (RetinaTrack: 2 frames, stride 8).
- ``pair`` and ``identity`` sampling: :mod:`datamodules.pair_dataset`,
  :mod:`datamodules.identity_dataset`; both group boxes by :func:`track_observations`.

Images are decoded in ``__getitem__`` (so in DataLoader workers); no pixels are held.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict

import numpy as np
import torch
from torch.utils.data import Dataset

from datamodules.image_io import open_frame_image
from datamodules.schema import AnnotationError, Frame, Video, VideoIndex
from datamodules.transforms import FrameTransform

log = logging.getLogger(__name__)


def load_frame(video: Video, frame: Frame) -> dict:
    """Decode one frame and its annotations into tensors (boxes in original pixels)."""
    try:
        image = open_frame_image(frame)
    except FileNotFoundError as err:
        raise AnnotationError(
            f"{frame.image_path}: image file missing (video {video.name!r}, image id {frame.image_id})"
        ) from err
    except OSError as err:
        raise AnnotationError(
            f"{frame.image_path}: cannot decode image (video {video.name!r}, image id {frame.image_id}): {err}"
        ) from err
    if image.size != (frame.width, frame.height):
        raise AnnotationError(
            f"{frame.image_path}: image is {image.size[0]}x{image.size[1]} but the annotation "
            f"says {frame.width}x{frame.height} (image id {frame.image_id})"
        )
    return {
        "image": image,
        "boxes": torch.from_numpy(frame.boxes.copy()),
        "labels": torch.from_numpy(frame.labels.copy()),
        "track_ids": torch.from_numpy(frame.track_ids.copy()),
        "iscrowd": torch.from_numpy(frame.iscrowd.copy()),
        "image_id": frame.image_id,
        "video": video.name,
        "frame_index": frame.frame_index,
        "orig_size": (frame.height, frame.width),
    }


class FrameDataset(Dataset):
    """One frame per item, in video order (``image`` sampling and evaluation)."""

    def __init__(self, index: VideoIndex, transform: FrameTransform) -> None:
        self.index, self.transform = index, transform
        self.items = [(v, f) for v, f in index.frames()]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> list[dict]:
        return self.transform([load_frame(*self.items[i])])


class ClipDataset(Dataset):
    """Clips of ``frames_per_clip`` frames ``stride`` apart, one per valid start frame.

    Videos shorter than one clip cannot give a clip; they are counted in ``skipped`` and
    logged, never dropped silently.
    """

    def __init__(self, index: VideoIndex, transform: FrameTransform, stride: int = 8, frames_per_clip: int = 2) -> None:
        if stride < 1 or frames_per_clip < 1:
            raise ValueError("stride and frames_per_clip must be >= 1")
        self.index, self.transform = index, transform
        self.stride, self.frames_per_clip = stride, frames_per_clip
        span = stride * (frames_per_clip - 1)
        self.items: list[tuple[Video, int]] = []
        self.skipped = Counter()
        for video in index.videos:
            starts = len(video) - span
            if starts <= 0:
                self.skipped["video shorter than one clip"] += 1
                continue
            self.items += [(video, s) for s in range(starts)]
        if self.skipped:
            log.warning("ClipDataset(%s): skipped %s", index.source, dict(self.skipped))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> list[dict]:
        video, start = self.items[i]
        frames = [video.frames[start + j * self.stride] for j in range(self.frames_per_clip)]
        return self.transform([load_frame(video, f) for f in frames])


def collate_clips(samples: list[list[dict]]) -> dict:
    """Flatten a batch of clips (or single frames) into one image tensor.

    Returns ``images (B*T, 3, H, W)``, ``targets`` (list of per-frame dicts with
    ``boxes``, ``labels``, ``track_ids``, ``iscrowd``), ``clip_ids (B*T,)`` and ``meta``
    (``image_id``, ``video``, ``frame_index``, ``orig_size``, ``size`` per frame).
    """
    images, targets, clip_ids, meta = [], [], [], []
    for clip_id, clip in enumerate(samples):
        for frame in clip:
            images.append(frame["image"])
            targets.append({k: frame[k] for k in ("boxes", "labels", "track_ids", "iscrowd")})
            clip_ids.append(clip_id)
            meta.append({
                "image_id": frame["image_id"], "video": frame["video"],
                "frame_index": frame["frame_index"], "orig_size": frame["orig_size"],
                "size": tuple(frame["image"].shape[-2:]),
            })
    return {
        "images": torch.stack(images),
        "targets": targets,
        "clip_ids": torch.tensor(clip_ids, dtype=torch.long),
        "meta": meta,
    }


def scale_boxes_to_original(boxes: np.ndarray, size: tuple[int, int], orig_size: tuple[int, int]) -> np.ndarray:
    """Map xyxy boxes from the network input ``size (h, w)`` back to ``orig_size (h, w)``."""
    sy, sx = orig_size[0] / size[0], orig_size[1] / size[1]
    return boxes * np.array([sx, sy, sx, sy], dtype=np.float32)


def track_observations(video: Video) -> dict[int, list[tuple[int, int]]]:
    """``track id -> [(frame position in video.frames, box index), ...]`` in frame order,
    for every non-crowd box with an identity (``track_id >= 0``)."""
    tracks: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for position, frame in enumerate(video.frames):
        for box in range(len(frame)):
            track_id = int(frame.track_ids[box])
            if track_id >= 0 and not frame.iscrowd[box]:
                tracks[track_id].append((position, box))
    return dict(tracks)
