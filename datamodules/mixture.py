"""Training sources: their config shape, and their concatenation into one dataset whose
batches say which source and sampling mode they come from."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from torch.utils.data import ConcatDataset, Dataset

from datamodules.datasets import collate_clips
from datamodules.identity_dataset import collate_identities
from datamodules.pair_dataset import collate_pairs
from datamodules.schema import VideoIndex

SourceFn = Callable[[], VideoIndex]
COLLATE = {"image": collate_clips, "clip": collate_clips, "pair": collate_pairs, "identity": collate_identities}
SAMPLING_MODES = tuple(COLLATE)


@dataclass(frozen=True)
class SourceSpec:
    """One training source: ``load()`` parses it, ``sampling`` is its mode, ``weight`` its
    relative share of the batches."""

    name: str
    load: SourceFn
    sampling: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.sampling not in SAMPLING_MODES:
            raise ValueError(f"source {self.name!r}: sampling must be one of {SAMPLING_MODES}, got {self.sampling!r}")
        if not self.weight > 0:
            raise ValueError(f"source {self.name!r}: weight must be > 0, got {self.weight!r}")


def source_specs(train_sources: Mapping | Sequence, default_sampling: str) -> list[SourceSpec]:
    """Normalise the ``train_sources`` config.

    Accepts a mapping ``name -> entry`` or a sequence of entries (named ``source<i>``);
    an entry is either a source callable (sampled with ``default_sampling``, weight 1) or
    a mapping ``{source: <callable>, sampling: <mode>?, weight: <float>?}``.
    """
    entries = train_sources.items() if isinstance(train_sources, Mapping) else (
        (f"source{i}", e) for i, e in enumerate(train_sources))
    specs = []
    for name, entry in entries:
        if callable(entry):
            specs.append(SourceSpec(str(name), entry, default_sampling))
        elif isinstance(entry, Mapping) and callable(entry.get("source")):
            unknown = set(entry) - {"source", "sampling", "weight"}
            if unknown:
                raise ValueError(f"train source {name!r}: unknown key(s) {sorted(unknown)}")
            specs.append(SourceSpec(str(name), entry["source"], entry.get("sampling", default_sampling),
                                    float(entry.get("weight", 1.0))))
        else:
            raise TypeError(f"train source {name!r} is neither a source callable nor "
                            f"{{source: <callable>, sampling?, weight?}}: {entry!r}")
    if not specs:
        raise ValueError("train_sources is empty")
    return specs


class SourceMixture(ConcatDataset):
    """The training sources' datasets, concatenated in the order of ``specs``.

    Item ``i`` is ``(source position, sample)``; :meth:`collate` batches samples of one
    source with its mode's collate function and adds ``source`` (name) and ``sampling``
    (mode) to the batch.
    """

    def __init__(self, datasets: Sequence[Dataset], specs: Sequence[SourceSpec]) -> None:
        super().__init__(datasets)
        self.specs = list(specs)

    def __getitem__(self, i: int) -> tuple[int, object]:
        return bisect_right(self.cumulative_sizes, i), super().__getitem__(i)

    @property
    def offsets(self) -> list[int]:
        """Index of each source's first item."""
        return [0, *self.cumulative_sizes[:-1]]

    def collate(self, items: list[tuple[int, object]]) -> dict:
        sources = {source for source, _ in items}
        if len(sources) != 1:
            raise ValueError(f"a batch must come from one source, got sources {sorted(sources)}")
        spec = self.specs[sources.pop()]
        batch = COLLATE[spec.sampling]([sample for _, sample in items])
        return {**batch, "source": spec.name, "sampling": spec.sampling}
