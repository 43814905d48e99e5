"""``identity`` sampling: object crops labelled by identity, for ReID encoders.

AOA trains its ReID models "with trajectories as identities" (every trajectory of a
SOT / VID dataset is one id); ReMOTS trains the "bag of tricks" ReID baseline on crops of
gt tracklets. Batches are P identities x K crops
(:class:`~datamodules.samplers.IdentityBatches`).
"""
from __future__ import annotations

import logging
import math
from collections import Counter
from typing import Sequence

import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from datamodules.datasets import load_frame, track_observations
from datamodules.schema import VideoIndex

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)


class CropTransform:
    """Resize a crop to ``size (height, width)``; in training, the augmentations of the ReID
    "bag of tricks" baseline (Luo et al. 2019, which ReMOTS uses): horizontal flip, pad +
    random crop back to ``size``, random erasing filled with the ImageNet mean.

    Returns a ``(3, height, width)`` float tensor in [0, 1].
    """

    def __init__(self, size: Sequence[int] = (256, 128), train: bool = False, flip_prob: float = 0.5,
                 pad: int = 10, erase_prob: float = 0.5) -> None:
        self.size = tuple(size)
        steps: list = [v2.ToImage(), v2.Resize(self.size, antialias=True)]
        if train:
            steps += [v2.RandomHorizontalFlip(flip_prob), v2.Pad(pad), v2.RandomCrop(self.size)]
        steps += [v2.ToDtype(torch.float32, scale=True)]
        if train:
            steps += [v2.RandomErasing(erase_prob, value=list(IMAGENET_MEAN))]
        self.transform = v2.Compose(steps)

    def __call__(self, crop) -> torch.Tensor:
        return self.transform(crop)


class IdentityDataset(Dataset):
    """One item per non-crowd box with an identity; identities are the index's track ids.

    ``identities`` lists the track ids in ascending order; an item's ``label`` is its
    track id's position there (contiguous within this dataset, ``0..num_identities-1``).
    ``items_per_identity[label]`` lists the item indices of one identity, for the
    P x K batch plan. Boxes without a track id (``-1``) and crowd boxes have no identity:
    they are not items, and are counted in ``skipped``.

    An item is a dict: ``crop (3, h, w)`` (the box, pixels rounded outwards),
    ``label``, ``track_id``, and ``video``, ``frame_index``, ``image_id``, ``box`` (xyxy in
    original pixels) naming where the crop comes from.
    """

    def __init__(self, index: VideoIndex, transform: CropTransform) -> None:
        self.index, self.transform = index, transform
        per_track = {}
        for video in index.videos:
            for track_id, observations in track_observations(video).items():
                per_track[track_id] = [(video, position, box) for position, box in observations]
        self.identities = sorted(per_track)
        self.items = [(label, *obs) for label, tid in enumerate(self.identities) for obs in per_track[tid]]
        self.items_per_identity: list[list[int]] = [[] for _ in self.identities]
        for i, (label, *_) in enumerate(self.items):
            self.items_per_identity[label].append(i)
        self.skipped = Counter()
        without_identity = sum(len(frame) for _, frame in index.frames()) - len(self.items)
        if without_identity:
            self.skipped["box without an identity (track id -1, or crowd)"] = without_identity
            log.info("IdentityDataset(%s): skipped %s", index.source, dict(self.skipped))

    @property
    def num_identities(self) -> int:
        return len(self.identities)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        label, video, position, box_index = self.items[i]
        frame = load_frame(video, video.frames[position])
        box = frame["boxes"][box_index]
        x1, y1, x2, y2 = box.tolist()
        image = v2.functional.to_image(frame["image"])  # (3, H, W) uint8, from PIL or HWC array
        crop = image[:, math.floor(y1):math.ceil(y2), math.floor(x1):math.ceil(x2)]
        return {
            "crop": self.transform(crop), "label": label, "track_id": self.identities[label],
            "video": frame["video"], "frame_index": frame["frame_index"], "image_id": frame["image_id"],
            "box": box,
        }


def collate_identities(samples: list[dict]) -> dict:
    """Batch of N = P x K crops: ``crops (N, 3, h, w)``, ``labels (N,)`` identity indices,
    ``track_ids (N,)``, ``meta`` (``video``, ``frame_index``, ``image_id``, ``box`` per crop)."""
    return {
        "crops": torch.stack([s["crop"] for s in samples]),
        "labels": torch.tensor([s["label"] for s in samples], dtype=torch.long),
        "track_ids": torch.tensor([s["track_id"] for s in samples], dtype=torch.long),
        "meta": [{k: s[k] for k in ("video", "frame_index", "image_id", "box")} for s in samples],
    }
