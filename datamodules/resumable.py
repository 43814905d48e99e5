"""A training DataLoader that a restarted job resumes exactly where it stopped.

Lightning saves the ``state_dict()`` of a stateful train loader with the fit loop in every
checkpoint and calls ``load_state_dict()`` before the first batch after a restart.
:class:`ResumableDataLoader`'s state is its position in the epoch, ``{"epoch", "batches"}``;
the next pass starts at that batch without loading the batches before it.

The resumed batches equal the uninterrupted run's when

- the batch sampler's pass is a function of its epoch alone (as
  :class:`~datamodules.samplers.MixtureBatchSampler`'s plan of ``(seed, epoch)``; Lightning
  sets the epoch through ``set_epoch`` on ``batch_sampler.sampler``), and
- a batch's random augmentation depends neither on the worker that loads it nor on the
  batches loaded before it: each batch is loaded under its own seed, derived from
  ``(PL_GLOBAL_SEED, epoch, rank, batch number)``, in workers and in the main process
  alike (where the previous random state is restored afterwards).
"""
from __future__ import annotations

import contextlib
import os
import random
from itertools import islice
from typing import Any, Iterator, NamedTuple

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, IterableDataset


def derived_seed(*parts: int) -> int:
    """A 32-bit seed mixing the integers ``parts`` (numpy ``SeedSequence``)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


@contextlib.contextmanager
def cpu_rngs_seeded(seed: int) -> Iterator[None]:
    """Run the block with torch (CPU), numpy and ``random`` seeded by ``seed``, then put
    their previous states back."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


class SeededBatch(NamedTuple):
    """The item indices of one batch and the seed they are loaded with."""

    seed: int
    indices: list[int]


class BatchSeededDataset(Dataset):
    """Loads each :class:`SeededBatch` under its seed; every other attribute is the
    wrapped dataset's (``loader.dataset.datasets`` still works)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[index]

    def __getitems__(self, batch: SeededBatch | list[int]) -> list:
        if not isinstance(batch, SeededBatch):
            return [self.dataset[i] for i in batch]
        with cpu_rngs_seeded(batch.seed):
            return [self.dataset[i] for i in batch.indices]

    def __getattr__(self, name: str) -> Any:
        if name == "dataset":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.dataset, name)


class _SeededPasses:
    """What the loader's iterators draw index batches from: the batch sampler's pass from
    the loader's start position, each batch with its seed."""

    def __init__(self, loader: ResumableDataLoader) -> None:
        self.loader = loader

    def __len__(self) -> int:
        return len(self.loader.batch_sampler)

    def __iter__(self) -> Iterator[SeededBatch]:
        loader = self.loader
        seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        batches = islice(loader.batch_sampler, loader.pass_start, None)
        for number, indices in enumerate(batches, loader.pass_start):
            yield SeededBatch(derived_seed(seed, loader.pass_epoch, rank, number), list(indices))


class ResumableDataLoader(DataLoader):
    """A DataLoader whose position in the epoch is saved in checkpoints (see the module
    docstring); same arguments as ``DataLoader``, with a map-style dataset and batches
    (``batch_size`` or ``batch_sampler``).

    The position counts the batches handed to the training loop (Lightning does not
    prefetch from a loader with a length, and worker prefetching happens behind it).
    """

    def __init__(self, dataset: Dataset, *args: Any, **kwargs: Any) -> None:
        if isinstance(dataset, IterableDataset):
            raise TypeError("ResumableDataLoader needs a map-style dataset, got an IterableDataset")
        self._passes = _SeededPasses(self)
        self.pass_epoch, self.pass_start, self._yielded = 0, 0, 0
        self._resume_at: tuple[int, int] | None = None  # (epoch, batch) of the next pass
        super().__init__(BatchSeededDataset(dataset), *args, **kwargs)
        if self.batch_sampler is None:
            raise ValueError("ResumableDataLoader needs batches: pass batch_size or batch_sampler")

    @property
    def _index_sampler(self) -> _SeededPasses:  # what DataLoader iterators take indices from
        return self._passes

    def __iter__(self) -> Iterator[Any]:
        """One pass; from the restored position if it is in this pass's epoch.

        A generator: the pass (and its worker prefetching) starts at the first ``next``,
        after Lightning has set the epoch (it creates a resumed run's first iterator
        before it calls ``set_epoch``).
        """
        self.pass_epoch = _sampler_epoch(self)
        resume, self._resume_at = self._resume_at, None
        self.pass_start = resume[1] if resume and resume[0] == self.pass_epoch else 0
        self._yielded = self.pass_start
        for batch in super().__iter__():
            self._yielded += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.pass_epoch, "batches": self._yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Start the next pass where the saved one stopped (the next epoch if it ended)."""
        ended = state["batches"] >= len(self)
        self._resume_at = None if ended else (state["epoch"], state["batches"])


def _sampler_epoch(loader: DataLoader) -> int:
    """The epoch Lightning set (``set_epoch``) on ``loader.sampler`` or
    ``loader.batch_sampler.sampler``; 0 if neither has one."""
    for sampler in (loader.sampler, getattr(loader.batch_sampler, "sampler", None)):
        if hasattr(sampler, "epoch"):
            return int(sampler.epoch)
    return 0
