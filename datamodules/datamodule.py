"""The one LightningDataModule: composes dataset sources, each with a sampling mode."""
from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Mapping, Sequence

import lightning as L
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from datamodules.datasets import ClipDataset, FrameDataset, collate_clips
from datamodules.identity_dataset import CropTransform, IdentityDataset
from datamodules.mixture import SAMPLING_MODES, SourceFn, SourceMixture, source_specs
from datamodules.pair_dataset import PairDataset
from datamodules.resumable import ResumableDataLoader
from datamodules.samplers import BatchPlan, IdentityBatches, MixtureBatchSampler, ShuffledBatches
from datamodules.schema import VideoIndex
from datamodules.transforms import FrameTransform

log = logging.getLogger(__name__)

LABELLED_MODES = ("image", "clip")  # modes whose batches train class labels


class TrackingDataModule(L.LightningDataModule):
    """Training and evaluation data for every model of the framework.

    Training sources and their mixture (``train_sources``), e.g. COCO detection batches
    with ImageNet VID and YouTube-VOS pairs::

        train_sources:
          coco:   {source: {_target_: ..., _partial_: true, ...}, sampling: image, weight: 1}
          vid:    {source: {...}, sampling: pair, weight: 2}
          ytvos:  {source: {...}}             # the module's ``sampling``, weight 1
          synthetic: {_target_: ..., _partial_: true}   # plain source: same as above

    Every batch comes from one source, drawn with probability ``weight / sum(weights)``,
    and holds what its mode's collate returns plus ``source`` (name) and ``sampling``:

    - ``image`` / ``clip``: :func:`~datamodules.datasets.collate_clips`;
    - ``pair``: :func:`~datamodules.pair_dataset.collate_pairs`;
    - ``identity``: :func:`~datamodules.identity_dataset.collate_identities`.

    An epoch is ``batches_per_epoch`` batches over all ranks, by default one pass over
    every source (``len // batch_size`` batches of an image / clip / pair source,
    ``identities // identities_per_batch`` of an identity source, summed). Under DDP each
    rank runs a disjoint ``1 / world_size`` of them (:class:`MixtureBatchSampler`).

    Args:
        train_sources: the training sources (see above); a mapping name -> entry or a
            sequence of entries. Sources are Hydra ``_partial_`` adapters returning a
            VideoIndex, parsed in ``setup`` so composing a config never touches the disk.
        val_source: callable returning the evaluation split (frames, in video order).
        num_classes: classes the model is built for; checked against the evaluation split
            and every ``image`` / ``clip`` source (``pair`` / ``identity`` sources may have
            their own categories: class-agnostic tracking and ReID do not train labels).
        sampling: mode of every source that does not name one: ``image`` (single
            frames), ``clip`` (frames ``clip_stride`` apart), ``pair`` (template + search
            frame of one target), ``identity`` (P identities x K crops).
        clip_stride, frames_per_clip: clip geometry (RetinaTrack: 8 and 2).
        pair_max_gap: most frames between template and search; ``None`` = anywhere in the
            video (Learning to Track Any Object samples both at random from the video).
        identities_per_batch, instances_per_identity: P and K of ``identity`` batches
            (bag-of-tricks ReID: 16 x 4).
        crop_size: ``(height, width)`` of ``identity`` crops (ReID convention 256x128).
        batch_size: clips, images or pairs per training batch and device.
        batches_per_epoch: batches per epoch over all ranks (``None``: one pass, above).
        eval_batch_size: frames per evaluation batch.
        num_workers: DataLoader worker processes (images are decoded there).
        image_size: network input ``(height, width)``.
        augment: :class:`FrameTransform` keyword options for training (flip_prob,
            crop_scale, ...; the class documents them all).
        crop_augment: :class:`CropTransform` options for identity crops (flip_prob, pad,
            erase_prob).
        root: the dataset root as distributed (data configs pass it to their sources as
            ``${data.root}``, so ``data=<name> data.root=<path>`` points a config at a copy).
    """

    def __init__(
        self, train_sources: Mapping | Sequence, val_source: SourceFn, num_classes: int,
        sampling: str = "clip", clip_stride: int = 8, frames_per_clip: int = 2,
        pair_max_gap: int | None = None, identities_per_batch: int = 16, instances_per_identity: int = 4,
        crop_size: Sequence[int] = (256, 128), batch_size: int = 4, batches_per_epoch: int | None = None,
        eval_batch_size: int = 8, num_workers: int = 0, image_size: Sequence[int] = (128, 128),
        augment: dict | None = None, crop_augment: dict | None = None, root: str | None = None,
    ) -> None:
        super().__init__()
        if sampling not in SAMPLING_MODES:
            raise ValueError(f"sampling must be one of {SAMPLING_MODES}, got {sampling!r}")
        self.sources = source_specs(train_sources, sampling)
        self.val_source = val_source
        self.num_classes, self.sampling = num_classes, sampling
        self.clip_stride, self.frames_per_clip = clip_stride, frames_per_clip
        self.pair_max_gap = pair_max_gap
        self.identities_per_batch, self.instances_per_identity = identities_per_batch, instances_per_identity
        self.crop_size = tuple(crop_size)
        self.batch_size, self.batches_per_epoch = batch_size, batches_per_epoch
        self.eval_batch_size, self.num_workers = eval_batch_size, num_workers
        self.image_size = tuple(image_size)
        self.augment, self.crop_augment = dict(augment or {}), dict(crop_augment or {})
        self.root = root
        self.train_indices: list[VideoIndex] = []
        self.val_index: VideoIndex | None = None

    # --------------------------------------------------------------- parsing
    def _load(self, source: SourceFn, check_classes: bool = True) -> VideoIndex:
        index = source()
        if check_classes and len(index.categories) != self.num_classes:
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
            self.train_indices = [self._load(s.load, s.sampling in LABELLED_MODES) for s in self.sources]
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

    # -------------------------------------------------------------- training
    def sampling_dataset(self, index: VideoIndex, sampling: str) -> Dataset:
        """The training dataset of one source in one sampling mode."""
        if sampling == "identity":
            return IdentityDataset(index, CropTransform(self.crop_size, train=True, **self.crop_augment))
        transform = FrameTransform(self.image_size, train=True, **self.augment)
        if sampling == "clip":
            return ClipDataset(index, transform, self.clip_stride, self.frames_per_clip)
        if sampling == "pair":
            return PairDataset(index, transform, self.pair_max_gap)
        return FrameDataset(index, transform)

    def _batch_plan(self, dataset: Dataset, sampling: str) -> BatchPlan:
        if sampling == "identity":
            return IdentityBatches(dataset.items_per_identity, self.identities_per_batch, self.instances_per_identity)
        return ShuffledBatches(len(dataset), self.batch_size)

    def train_dataset(self) -> SourceMixture:
        return SourceMixture(
            [self.sampling_dataset(i, s.sampling) for i, s in zip(self.train_indices, self.sources)], self.sources)

    def train_batch_sampler(self, mixture: SourceMixture, num_replicas: int = 1, rank: int = 0,
                            shuffle: bool = True) -> MixtureBatchSampler:
        """Weighted batches of ``mixture`` for rank ``rank`` of ``num_replicas``, seeded by
        ``PL_GLOBAL_SEED`` (as Lightning seeds its DistributedSampler)."""
        plans = []
        for dataset, spec in zip(mixture.datasets, self.sources):
            try:
                plans.append(self._batch_plan(dataset, spec.sampling))
            except ValueError as err:
                skipped = dict(getattr(dataset, "skipped", {}))
                raise ValueError(f"train source {spec.name!r} ({spec.sampling} sampling): {err}"
                                 + (f" (skipped: {skipped})" if skipped else "")) from err
        seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
        shard = DistributedSampler(mixture, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed)
        return MixtureBatchSampler(shard, plans, [s.weight for s in self.sources], mixture.offsets,
                                   self.batches_per_epoch)

    def train_dataloader(self) -> DataLoader:
        """Under a trainer, sharded by its world size and global rank (Lightning's
        ``use_distributed_sampler`` re-creates the sampler with the same shard); resumable
        mid-epoch (:class:`~datamodules.resumable.ResumableDataLoader`)."""
        mixture = self.train_dataset()
        trainer = self.trainer
        shard = dict(num_replicas=trainer.world_size, rank=trainer.global_rank,
                     shuffle=not trainer.overfit_batches) if trainer is not None else {}
        return ResumableDataLoader(
            mixture, batch_sampler=self.train_batch_sampler(mixture, **shard), num_workers=self.num_workers,
            collate_fn=mixture.collate, persistent_workers=self.num_workers > 0,
        )

    # ------------------------------------------------------------ evaluation
    def eval_dataset(self) -> FrameDataset:
        return FrameDataset(self.val_index, FrameTransform(self.image_size, train=False))

    def val_dataloader(self) -> DataLoader:
        return DataLoader(
            self.eval_dataset(), batch_size=self.eval_batch_size, num_workers=self.num_workers,
            collate_fn=collate_clips, persistent_workers=self.num_workers > 0,
        )

    def predict_dataloader(self) -> DataLoader:
        return self.val_dataloader()
