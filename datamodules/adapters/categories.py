"""Category lists read from COCO-family JSON, and relabelling a parsed index to another list
(LVIS v1 -> v0.5 by synset, the TAO category filter)."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from datamodules.adapters.coco_video import _is_int, _read_json
from datamodules.schema import AnnotationError, Category, SkipLog, VideoIndex


def read_categories(path: str | os.PathLike) -> list[Category]:
    """The ``categories`` of a COCO / LVIS / TAO annotation file (or of a JSON file holding
    just that list), with ``frequency`` and ``synset`` where given."""
    return parse_categories(_read_json(Path(path)), Path(path))


def parse_categories(data, path: Path) -> list[Category]:
    """:func:`read_categories` of the parsed JSON ``data`` of ``path``."""
    records = data.get("categories") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise AnnotationError(f"{path}: expected a 'categories' list (or a JSON list of categories)")
    categories = []
    for i, c in enumerate(records):
        if not isinstance(c, dict) or not _is_int(c.get("id")):
            raise AnnotationError(f"{path}: category #{i} has no integer 'id'")
        categories.append(Category(c["id"], str(c.get("name", c["id"])), c.get("frequency"), c.get("synset")))
    return categories


def remap_categories(
    index: VideoIndex, categories: list[Category], new_id_of: dict[int, int], reason: str,
) -> VideoIndex:
    """Relabel ``index`` (in place) to ``categories``: category id ``c`` becomes
    ``new_id_of[c]``. Boxes (with their track ids, crowd flags and masks) of a category
    that has no entry are dropped and counted as ``reason`` at
    ``"<source>: image id=<i> category id=<c>"``; federated ids without one are dropped
    from the lists (those categories no longer exist in the label space)."""
    categories = sorted(categories, key=lambda c: c.id)
    new_label = {c.id: i for i, c in enumerate(categories)}
    label_map = np.array([new_label.get(new_id_of.get(c.id), -1) for c in index.categories], np.int64)
    skips = SkipLog(index.skipped, index.skip_examples)

    def map_ids(ids: np.ndarray | None) -> np.ndarray | None:
        if ids is None:
            return None
        mapped = {new_id_of[c] for c in ids.tolist() if new_id_of.get(c) in new_label}
        return np.array(sorted(mapped), np.int64)

    for video in index.videos:
        for i, frame in enumerate(video.frames):
            labels = label_map[frame.labels]
            keep = labels >= 0
            for old in frame.labels[~keep].tolist():
                skips.add(reason, f"{index.source}: image id={frame.image_id} "
                                f"category id={index.categories[old].id}")
            video.frames[i] = replace(
                frame, boxes=frame.boxes[keep], labels=labels[keep],
                track_ids=frame.track_ids[keep], iscrowd=frame.iscrowd[keep],
                masks=None if frame.masks is None else [m for m, k in zip(frame.masks, keep) if k],
                neg_category_ids=map_ids(frame.neg_category_ids),
                not_exhaustive_category_ids=map_ids(frame.not_exhaustive_category_ids),
            )
    index.categories = categories
    return index


def require_synsets(index: VideoIndex, purpose: str) -> None:
    """Fail, naming the category, if a category of ``index`` has no synset."""
    for c in index.categories:
        if c.synset is None:
            raise AnnotationError(f"{index.source}: category id={c.id} ({c.name!r}) has no "
                                  f"'synset'; {purpose} matches categories by synset")
