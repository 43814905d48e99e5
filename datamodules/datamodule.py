"""The one LightningDataModule: composes dataset sources with a sampling mode."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Callable, Mapping, Sequence

import lightning as L
from torch.utils.data import ConcatDataset, DataLoader, Dataset

from datamodules.datasets import ClipDataset, FrameDataset, collate_clips
from datamodules.schema import VideoIndex
from datamodules.transforms import FrameTransform

log = logging.getLogger(__name__)

SourceFn = Callable[[], VideoIndex]


class TrackingDataModule(L.LightningDataModule):
    """Training and evaluation data for every model of the framework.

    Args:
        train_sources: named callables (Hydra ``_partial_`` adapters) returning a
            VideoIndex each (a mapping name -> source, or a sequence); they are parsed in
            ``setup`` so composing a config never touches the disk.
        val_source: callable returning the evaluation split.
        num_classes: classes the model is built for; checked against every source.
        sampling: ``image`` (single frames) or ``clip`` (frames ``clip_stride`` apart).
        clip_stride, frames_per_clip: clip geometry (RetinaTrack: 8 and 2).
        batch_size: clips (or images) per training batch and device.
        eval_batch_size: frames per evaluation batch.
        num_workers: DataLoader worker processes (images are decoded there).
        image_size: network input ``(height, width)``.
        augment: :class:`FrameTransform` options for training (flip_prob, crop_scale).
        root: the dataset root as distributed (data configs pass it to their sources as
            ``${data.root}``, so ``data=<name> data.root=<path>`` points a config at a copy).
    """

    def __init__(
        self, train_sources: Mapping[str, SourceFn] | Sequence[SourceFn], val_source: SourceFn, num_classes: int,
        sampling: str = "clip", clip_stride: int = 8, frames_per_clip: int = 2,
        batch_size: int = 4, eval_batch_size: int = 8, num_workers: int = 0,
        image_size: Sequence[int] = (128, 128), augment: dict | None = None, root: str | None = None,
    ) -> None:
        super().__init__()
        if sampling not in ("image", "clip"):
            raise ValueError(f"sampling must be 'image' or 'clip', got {sampling!r}")
        sources = train_sources.values() if isinstance(train_sources, Mapping) else train_sources
        self.train_sources, self.val_source = list(sources), val_source
        self.num_classes, self.sampling = num_classes, sampling
        self.clip_stride, self.frames_per_clip = clip_stride, frames_per_clip
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.num_workers = num_workers
        self.image_size = tuple(image_size)
        self.augment = dict(augment or {})
        self.root = root
        self.train_indices: list[VideoIndex] = []
        self.val_index: VideoIndex | None = None

    # --------------------------------------------------------------- parsing
    def _load(self, source: SourceFn) -> VideoIndex:
        index = source()
        if len(index.categories) != self.num_classes:
            raise ValueError(
                f"{index.source}: {len(index.categories)} categories but the model is built "
                f"for num_classes={self.num_classes}"
            )
        if index.skipped:
            log.warning("%s (%s): skipped %s", index.source, index.split, dict(index.skipped))
        log.info("%s (%s): %d videos, %d frames", index.source, index.split, len(index.videos), index.num_frames)
        return index

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit") and not self.train_indices:
            self.train_indices = [self._load(s) for s in self.train_sources]
        if self.val_index is None:
            self.val_index = self._load(self.val_source)

    @property
    def categories(self):
        return (self.val_index or self.train_indices[0]).categories

    @property
    def skipped(self) -> Counter:
        total = Counter()
        for index in [*self.train_indices, *([self.val_index] if self.val_index else [])]:
            total.update(index.skipped)
        return total

    # ----------------------------------------------------------- dataloaders
    def _train_dataset(self, index: VideoIndex) -> Dataset:
        transform = FrameTransform(self.image_size, train=True, **self.augment)
        if self.sampling == "clip":
            return ClipDataset(index, transform, self.clip_stride, self.frames_per_clip)
        return FrameDataset(index, transform)

    def eval_dataset(self) -> FrameDataset:
        return FrameDataset(self.val_index, FrameTransform(self.image_size, train=False))

    def _loader(self, dataset: Dataset, batch_size: int, shuffle: bool) -> DataLoader:
        return DataLoader(
            dataset, batch_size=batch_size, shuffle=shuffle, num_workers=self.num_workers,
            collate_fn=collate_clips, persistent_workers=self.num_workers > 0,
            drop_last=shuffle,
        )

    def train_dataloader(self) -> DataLoader:
        dataset = ConcatDataset([self._train_dataset(i) for i in self.train_indices])
        return self._loader(dataset, self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.eval_dataset(), self.eval_batch_size, shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self.val_dataloader()
