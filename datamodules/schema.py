"""The one in-memory annotation schema that every dataset adapter parses into.

A dataset is a :class:`VideoIndex`: a list of :class:`Video`, each a list of
:class:`Frame`. Still-image datasets (COCO, LVIS) are videos of one frame. Nothing
downstream of an adapter knows which file format a frame came from.

Conventions
- boxes: ``(N, 4)`` float32, ``x1, y1, x2, y2`` in pixels of the original image.
- labels: ``(N,)`` int64, *contiguous* index into ``VideoIndex.categories``
  (the dataset's own category id is ``VideoIndex.categories[label].id``).
- track_ids: ``(N,)`` int64, unique across the whole dataset; ``-1`` = no identity.
- masks: ``None`` or a list of N COCO RLE dicts ``{"size": [h, w], "counts": str}``.
- iscrowd: ``(N,)`` bool; crowd / ignore regions (never positives, never penalised).

Federated annotation (LVIS, TAO); all optional, ``None`` for exhaustively labelled data:
- ``Frame.neg_category_ids``: ``(K,)`` int64 dataset category ids verified *absent* from
  the frame (detections of them are false positives).
- ``Frame.not_exhaustive_category_ids``: ``(K,)`` int64 dataset category ids present but
  not exhaustively annotated (unmatched detections of them are not penalised). TAO lists
  both per video; every frame of the video carries the video's lists.
- ``Category.frequency``: LVIS ``"r"`` / ``"c"`` / ``"f"`` (rare: 1-10 training images,
  common: 11-100, frequent: >100); ``Category.synset``: WordNet synset (``"person.n.01"``),
  the key that maps categories across LVIS versions and to TAO.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np


MAX_SKIP_EXAMPLES = 5


class AnnotationError(ValueError):
    """Malformed dataset input; the message names the file and the record."""


def _record(counts: Counter, examples: dict[str, list[str]], reason: str, where: str) -> None:
    counts[reason] += 1
    shown = examples.setdefault(reason, [])
    if len(shown) < MAX_SKIP_EXAMPLES:
        shown.append(where)


@dataclass
class SkipLog:
    """What an adapter drops while parsing, before its :class:`VideoIndex` exists; pass
    ``skipped=log.counts, skip_examples=log.examples`` to the index."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, where: str) -> None:
        """Count one record dropped for ``reason`` at ``where`` (file and record)."""
        _record(self.counts, self.examples, reason, where)


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    frequency: str | None = None
    synset: str | None = None


@dataclass
class Frame:
    image_path: Path
    width: int
    height: int
    frame_index: int
    image_id: int
    boxes: np.ndarray | None = None
    labels: np.ndarray | None = None
    track_ids: np.ndarray | None = None  # default: -1 (no identity) for every box
    iscrowd: np.ndarray | None = None  # default: False for every box
    masks: list[dict] | None = None
    neg_category_ids: np.ndarray | None = None  # None: not federated
    not_exhaustive_category_ids: np.ndarray | None = None  # None: not federated
    # Row of the frame's encoded image inside ``image_path`` when that file is a table of
    # images (Waymo v2 camera_image parquet); None: ``image_path`` is the image file.
    # :func:`datamodules.image_io.open_frame_image` resolves both.
    image_key: int | None = None

    def __post_init__(self) -> None:
        self.image_path = Path(self.image_path)
        self.boxes = np.asarray(self.boxes if self.boxes is not None else [], np.float32).reshape(-1, 4)
        n = len(self.boxes)
        if self.labels is None:
            if n:
                raise AnnotationError(f"{self.image_path}: {n} boxes without labels")
            self.labels = []
        self.labels = np.asarray(self.labels, np.int64).reshape(n)
        self.track_ids = np.asarray(self.track_ids if self.track_ids is not None else [-1] * n, np.int64).reshape(n)
        self.iscrowd = np.asarray(self.iscrowd if self.iscrowd is not None else [False] * n, bool).reshape(n)
        if self.masks is not None and len(self.masks) != n:
            raise AnnotationError(
                f"{self.image_path}: {len(self.masks)} masks for {n} boxes"
            )
        if self.neg_category_ids is not None:
            self.neg_category_ids = np.asarray(self.neg_category_ids, np.int64).reshape(-1)
        if self.not_exhaustive_category_ids is not None:
            self.not_exhaustive_category_ids = np.asarray(self.not_exhaustive_category_ids, np.int64).reshape(-1)

    def __len__(self) -> int:
        return len(self.boxes)


@dataclass
class Video:
    video_id: int
    name: str
    frames: list[Frame]

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class VideoIndex:
    """A parsed dataset split.

    ``skipped`` counts records an adapter dropped (or altered) by a documented rule, keyed
    by reason; ``skip_examples`` names where, as ``"<file>: <record>"``, for the first
    :data:`MAX_SKIP_EXAMPLES` of each reason. Both are logged at training start and
    reported by ``python -m datamodules inspect``, so nothing is lost silently.
    """

    videos: list[Video]
    categories: list[Category]
    source: str = ""
    split: str = ""
    skipped: Counter = field(default_factory=Counter)
    skip_examples: dict[str, list[str]] = field(default_factory=dict)

    def record_skip(self, reason: str, where: str) -> None:
        """Count one record dropped for ``reason`` at ``where`` (file and record)."""
        _record(self.skipped, self.skip_examples, reason, where)

    @property
    def num_frames(self) -> int:
        return sum(len(v) for v in self.videos)

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]

    def frames(self) -> Iterator[tuple[Video, Frame]]:
        for video in self.videos:
            for frame in video.frames:
                yield video, frame
