"""Batch samplers: which dataset items make up each training batch of an epoch.

A source's *batch plan* turns a random generator into batches of item indices local to
that source:

- :class:`ShuffledBatches` (``image``, ``clip`` and ``pair`` sampling): ``batch_size``
  distinct items from a fresh permutation of the source; one pass is
  ``len(source) // batch_size`` batches.
- :class:`IdentityBatches` (``identity`` sampling): P distinct identities x K instances.

:class:`MixtureBatchSampler` draws, for every batch of an epoch, one source by weight and
takes that source's next planned batch, so every batch comes from one source (and one
sampling mode). The epoch's plan is a function of ``(seed, epoch)`` only, identical on
every rank; each rank keeps a disjoint slice of it (DistributedSampler semantics).
"""
from __future__ import annotations

from typing import Protocol, Sequence

import torch
from torch.utils.data import BatchSampler, DistributedSampler


class BatchPlan(Protocol):
    num_batches: int  # batches in one pass over the source (>= 1)

    def draw(self, count: int, generator: torch.Generator) -> list[list[int]]:
        """``count`` batches of item indices local to the source."""


class ShuffledBatches:
    """Batches of ``batch_size`` distinct items of a source with ``num_items`` items.

    Successive batches walk a random permutation (the remainder that does not fill a
    batch is dropped); a source asked for more than one pass continues with a new
    permutation, so an item repeats only after every item has been used.
    """

    def __init__(self, num_items: int, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if num_items < batch_size:
            raise ValueError(f"{num_items} items cannot fill one batch of {batch_size}")
        self.num_items, self.batch_size = num_items, batch_size
        self.num_batches = num_items // batch_size

    def draw(self, count: int, generator: torch.Generator) -> list[list[int]]:
        batches: list[list[int]] = []
        while len(batches) < count:
            order = torch.randperm(self.num_items, generator=generator).tolist()
            starts = range(0, self.num_batches * self.batch_size, self.batch_size)
            batches += [order[i:i + self.batch_size] for i in starts]
        return batches[:count]


class IdentityBatches:
    """P identities x K instances per batch (the PK sampler of ReID training).

    Args:
        items_per_identity: item indices of each identity (every list non-empty).
        identities_per_batch: P; the identities of a batch are distinct, and one pass
            (``len(items_per_identity) // P`` batches) uses every identity at most once.
        instances_per_identity: K; drawn without replacement when an identity has at
            least K items, otherwise *with* replacement (so a short trajectory still
            fills its K slots, with repeated crops that differ by augmentation).

    A batch lists its items identity by identity: ``[id0 x K, id1 x K, ...]``.
    """

    def __init__(self, items_per_identity: Sequence[Sequence[int]], identities_per_batch: int,
                 instances_per_identity: int) -> None:
        if identities_per_batch < 1 or instances_per_identity < 1:
            raise ValueError("identities_per_batch and instances_per_identity must be >= 1")
        if len(items_per_identity) < identities_per_batch:
            raise ValueError(f"{len(items_per_identity)} identities cannot fill one batch of "
                             f"{identities_per_batch} distinct identities")
        self.items_per_identity = [list(items) for items in items_per_identity]
        self.p, self.k = identities_per_batch, instances_per_identity
        self.num_batches = len(self.items_per_identity) // self.p

    def _instances(self, items: list[int], generator: torch.Generator) -> list[int]:
        if len(items) >= self.k:
            picks = torch.randperm(len(items), generator=generator)[:self.k]
        else:
            picks = torch.randint(len(items), (self.k,), generator=generator)
        return [items[i] for i in picks.tolist()]

    def draw(self, count: int, generator: torch.Generator) -> list[list[int]]:
        batches: list[list[int]] = []
        while len(batches) < count:
            identities = torch.randperm(len(self.items_per_identity), generator=generator).tolist()
            for start in range(0, self.num_batches * self.p, self.p):
                batches.append([i for identity in identities[start:start + self.p]
                                for i in self._instances(self.items_per_identity[identity], generator)])
        return batches[:count]


class MixtureBatchSampler(BatchSampler):
    """Weighted mixture of per-source batch plans, sharded by rank.

    Epoch plan: ``num_batches`` batches; for each, a source is drawn with probability
    ``weight / sum(weights)`` (independently, with replacement) and gives its next planned
    batch (indices shifted by the source's ``offset`` in the concatenated dataset). Rank
    ``r`` of ``R`` yields batches ``r, r + R, r + 2R, ...`` of the plan; the last
    ``num_batches % R`` are dropped so every rank runs ``num_batches // R`` steps.

    Args:
        sampler: a :class:`~torch.utils.data.DistributedSampler` over the concatenated
            dataset. Only its ``num_replicas``, ``rank``, ``seed``, ``shuffle`` and
            ``epoch`` are read: it is the handle Lightning uses to shard this sampler under
            DDP (``use_distributed_sampler`` re-creates it with one DistributedSampler per
            rank) and to call ``set_epoch`` every epoch. With ``shuffle=False`` (Lightning's
            ``overfit_batches``) every epoch repeats the epoch-0 plan.
        plans: one :class:`BatchPlan` per source.
        weights: relative sampling weight per source (> 0).
        offsets: index of each source's first item in the concatenated dataset.
        num_batches: batches per epoch over all ranks; ``None`` = one pass over every
            source, ``sum(plan.num_batches)``.
    """

    def __init__(self, sampler: DistributedSampler, plans: Sequence[BatchPlan], weights: Sequence[float],
                 offsets: Sequence[int], num_batches: int | None = None) -> None:
        if not isinstance(sampler, DistributedSampler):
            raise TypeError(f"sampler must be a DistributedSampler, got {type(sampler).__name__}")
        if not len(plans) == len(weights) == len(offsets) or not plans:
            raise ValueError("need one weight and one offset per plan, and at least one plan")
        if any(w <= 0 for w in weights):
            raise ValueError(f"source weights must be > 0, got {list(weights)}")
        self.sampler, self.plans, self.offsets = sampler, list(plans), list(offsets)
        self.weights = torch.tensor(weights, dtype=torch.float64)
        self.num_batches = sum(p.num_batches for p in plans) if num_batches is None else num_batches

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def epoch_plan(self) -> tuple[list[int], list[list[int]]]:
        """The whole epoch over all ranks: (source of each batch, batches of global indices)."""
        epoch = self.sampler.epoch if self.sampler.shuffle else 0
        generator = torch.Generator().manual_seed(self.sampler.seed + epoch)
        sources = torch.multinomial(self.weights, self.num_batches, replacement=True, generator=generator).tolist()
        drawn = [iter(plan.draw(sources.count(s), generator)) for s, plan in enumerate(self.plans)]
        batches = [[self.offsets[s] + i for i in next(drawn[s])] for s in sources]
        return sources, batches

    def __len__(self) -> int:
        return self.num_batches // self.sampler.num_replicas

    def __iter__(self):
        _, batches = self.epoch_plan()
        replicas = self.sampler.num_replicas
        yield from batches[self.sampler.rank:len(self) * replicas:replicas]
