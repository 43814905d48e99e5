"""Whole videos per rank for distributed inference.

Tracking is sequential within a video, so distributed tracking splits the evaluation
split by video, never by frame: every rank detects the frames of its own videos, each
video's frames in order, with no frame padded or repeated (unlike ``DistributedSampler``).
"""
from __future__ import annotations

from typing import Iterator, Mapping, Sequence

import lightning as L
from torch.utils.data import DataLoader, Sampler


def assign_videos(frame_counts: Mapping[str, int], num_replicas: int) -> list[list[str]]:
    """Videos per rank: longest first, each to the rank with the fewest frames so far
    (ties: the lower rank). Deterministic, so every rank computes the same assignment."""
    shards: list[list[str]] = [[] for _ in range(num_replicas)]
    load = [0] * num_replicas
    for video in sorted(frame_counts, key=lambda v: -frame_counts[v]):  # stable: input order breaks ties
        rank = min(range(num_replicas), key=lambda r: (load[r], r))
        shards[rank].append(video)
        load[rank] += frame_counts[video]
    return shards


class VideoShardBatchSampler(Sampler[list[int]]):
    """Batches of dataset indices for rank ``rank`` of ``num_replicas``: the items of the
    videos :func:`assign_videos` gives that rank, in dataset order.

    A batch never spans two videos (a video's last batch may be smaller), so every batch,
    and so every network output, is the same whatever the number of ranks.

    Args:
        item_videos: the video of every dataset item (item ``i`` belongs to ``item_videos[i]``).
        batch_size: items per batch.
    """

    def __init__(self, item_videos: Sequence[str], batch_size: int, num_replicas: int = 1, rank: int = 0) -> None:
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} outside 0..{num_replicas - 1}")
        items: dict[str, list[int]] = {}
        for i, video in enumerate(item_videos):
            items.setdefault(video, []).append(i)
        own = set(assign_videos({video: len(indices) for video, indices in items.items()}, num_replicas)[rank])
        self.batches = [indices[start:start + batch_size]
                        for video, indices in items.items() if video in own
                        for start in range(0, len(indices), batch_size)]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class VideoShardedPrediction(L.LightningDataModule):
    """``datamodule``'s prediction split for ``trainer.predict``, whole videos per rank.

    The loader is built when the trainer asks for it, after the processes are launched,
    so rank and world size are the trainer's. Run the trainer with
    ``use_distributed_sampler=False`` (Lightning would replace this sampler).
    """

    def __init__(self, datamodule: L.LightningDataModule) -> None:
        super().__init__()
        self.datamodule = datamodule

    def setup(self, stage: str) -> None:
        self.datamodule.setup(stage)

    def predict_dataloader(self) -> DataLoader:
        loader = self.datamodule.predict_dataloader()
        videos = [video.name for video, _ in loader.dataset.items]
        sampler = VideoShardBatchSampler(videos, loader.batch_size, self.trainer.world_size, self.trainer.global_rank)
        return DataLoader(loader.dataset, batch_sampler=sampler, num_workers=loader.num_workers,
                          collate_fn=loader.collate_fn, persistent_workers=loader.persistent_workers)
