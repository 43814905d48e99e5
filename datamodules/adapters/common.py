"""Small helpers shared by the ImageNet VID, YouTube-VOS, MOTS and MOTChallenge adapters.

- :class:`IdAllocator`: dataset-wide integer ids (videos, images, tracks) in first-seen order.
- :class:`Instance`, :func:`frame_from_instances`: a schema :class:`Frame` from per-object
  records.
- :func:`encode_mask`, :func:`mask_box`, :func:`rle_counts`: binary mask -> COCO RLE, the box
  around an RLE, the run lengths of a compressed RLE string (to reject truncated ones).
- :func:`listed_files`: the file names in a folder (one listing instead of a stat per frame).
- :func:`map_with_progress`: ``[fn(x) for x in items]`` behind a tqdm bar, optionally over
  worker processes (parsing a million XML files or decoding 100k PNG masks).
- :func:`reraise_as_annotation_error`: turns the ``ValueError`` of the ``eval`` text readers
  (which already name the file and line) into :class:`AnnotationError`.
- :func:`merge_skips`: adds one worker's :class:`SkipLog` to the adapter's.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable, Iterator, Sequence, TypeVar

import numpy as np
from pycocotools import mask as mask_utils
from tqdm import tqdm

from datamodules.schema import MAX_SKIP_EXAMPLES, AnnotationError, Frame, SkipLog

T = TypeVar("T")
R = TypeVar("R")


class IdAllocator:
    """Contiguous integer ids, from ``start``, for hashable keys in the order first asked for
    (e.g. ``(video name, per-video track id) -> dataset-wide track id``)."""

    def __init__(self, start: int = 1) -> None:
        self._ids: dict[Hashable, int] = {}
        self._start = start

    def __call__(self, key: Hashable) -> int:
        return self._ids.setdefault(key, self._start + len(self._ids))


@dataclass(frozen=True)
class Instance:
    """One annotated object of a frame: ``box`` ``x1, y1, x2, y2`` in pixels, ``label`` the
    contiguous category index, ``track_id`` dataset-wide (-1: none), ``mask`` a COCO RLE
    dict with ``str`` counts (or None)."""

    box: tuple[float, float, float, float]
    label: int
    track_id: int = -1
    iscrowd: bool = False
    mask: dict | None = None


def frame_from_instances(
    image_path: Path, width: int, height: int, frame_index: int, image_id: int,
    instances: Sequence[Instance], with_masks: bool,
) -> Frame:
    """A :class:`Frame` holding ``instances`` (``masks`` is a list when ``with_masks``)."""
    return Frame(
        image_path=image_path, width=width, height=height, frame_index=frame_index, image_id=image_id,
        boxes=np.array([i.box for i in instances], np.float32).reshape(-1, 4),
        labels=np.array([i.label for i in instances], np.int64),
        track_ids=np.array([i.track_id for i in instances], np.int64),
        iscrowd=np.array([i.iscrowd for i in instances], bool),
        masks=[i.mask for i in instances] if with_masks else None,
    )


def mask_box(rle: dict) -> tuple[float, float, float, float] | None:
    """``x1, y1, x2, y2`` (pixels, exclusive right / bottom edge) around the pixels of a COCO
    RLE mask; ``None`` for an empty mask."""
    x, y, w, h = mask_utils.toBbox(rle).tolist()
    return None if w <= 0 or h <= 0 else (x, y, x + w, y + h)


def encode_mask(mask: np.ndarray) -> dict:
    """``(H, W)`` binary mask -> COCO RLE dict with ``str`` counts."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def rle_counts(counts: str) -> np.ndarray | None:
    """The run lengths encoded in a pycocotools compressed RLE string (the inverse of
    ``rleToString`` in pycocotools' maskApi.c, vectorised), or ``None`` when the string is
    not well formed. A valid mask's runs are non-negative and sum to ``height * width``."""
    chars = np.frombuffer(counts.encode("ascii", "replace"), np.uint8).astype(np.int64) - 48
    if len(chars) == 0 or chars.min() < 0 or chars.max() > 63 or chars[-1] & 0x20:
        return None
    last = (chars & 0x20) == 0  # the last 5-bit group of each value
    starts = np.flatnonzero(np.concatenate([[True], last[:-1]]))
    shift = 5 * (np.arange(len(chars)) - np.repeat(starts, np.diff(np.append(starts, len(chars)))))
    values = np.add.reduceat((chars & 0x1F) << shift, starts)
    negative = (chars[last] & 0x10) != 0
    values[negative] -= np.int64(1) << (shift[last][negative] + 5)
    runs = values.copy()  # values from the 4th on are deltas to the run two before
    runs[2::2] = np.cumsum(values[2::2])
    runs[3::2] = values[1:2].sum() + np.cumsum(values[3::2])
    return runs


def listed_files(folder: Path) -> set[str]:
    """Names of the entries of ``folder`` (empty when it does not exist)."""
    try:
        return set(os.listdir(folder))
    except FileNotFoundError:
        return set()


def map_with_progress(
    fn: Callable[[T], R], items: Sequence[T], *, desc: str, unit: str, workers: int = 0,
) -> list[R]:
    """``[fn(x) for x in items]`` with a tqdm progress bar. ``workers > 1`` runs the calls in
    that many processes (``fn`` must be a picklable top-level function; results keep the
    order of ``items``, and an exception in a worker is raised here)."""
    bar = dict(total=len(items), desc=desc, unit=unit, dynamic_ncols=True)
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in tqdm(items, **bar)]
    chunk = max(1, min(64, len(items) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(tqdm(pool.map(fn, items, chunksize=chunk), **bar))


@contextmanager
def reraise_as_annotation_error() -> Iterator[None]:
    """Re-raise a ``ValueError`` (whose message names the file and line) or a missing file
    as :class:`AnnotationError`."""
    try:
        yield
    except AnnotationError:
        raise
    except FileNotFoundError as err:
        raise AnnotationError(f"{err.filename}: file missing") from err
    except ValueError as err:
        raise AnnotationError(str(err)) from err


def merge_skips(into: SkipLog, part: SkipLog) -> None:
    """Add the counts and examples of ``part`` (e.g. one worker's) to ``into``."""
    into.counts.update(part.counts)
    for reason, shown in part.examples.items():
        kept = into.examples.setdefault(reason, [])
        kept += shown[:max(0, MAX_SKIP_EXAMPLES - len(kept))]
