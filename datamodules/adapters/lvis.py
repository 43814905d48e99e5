"""LVIS v1 (Gupta et al., CVPR 2019), as distributed (lvisdataset.org), in the MMDetection
layout (a COCO 2017 root with the LVIS files beside the COCO ones)::

    <root>/annotations/lvis_v1_train.json
    <root>/annotations/lvis_v1_val.json
    <root>/train2017/000000391895.jpg ...      (the COCO 2017 images)
    <root>/val2017/000000397133.jpg ...

LVIS images have no ``file_name``: the path is the last two components of ``coco_url``
(``"http://images.cocodataset.org/val2017/000000397133.jpg"`` ->
``<image_root>/val2017/000000397133.jpg``); lvis_v1_val uses train2017 images too, so
``image_root`` needs both folders. Every image is a one-frame video; annotations have
polygon masks and no crowd flag. Federated labelling is kept: each image's
``neg_category_ids`` / ``not_exhaustive_category_ids`` on its :class:`Frame`, each
category's ``frequency`` (r/c/f) and ``synset`` on its :class:`Category` (1203 categories).
Parsing is :func:`~datamodules.adapters.coco_video.load_coco_video`.

Options of :func:`lvis_split`, applied in this order:
- ``to_v05``: relabel to the LVIS v0.5 vocabulary through synsets (:func:`v1_to_v05`), as
  TAO (LVIS v0.5 categories) requires of an LVIS v1 detector (AOA, TAO challenge 2020).
- ``tao_filter_json``: keep only the categories occurring in TAO ("the 482 trick",
  :func:`~datamodules.adapters.tao.keep_tao_categories`).
"""
from __future__ import annotations

import os
from pathlib import Path

from datamodules.adapters.categories import read_categories, remap_categories, require_synsets
from datamodules.adapters.coco_video import load_coco_video
from datamodules.adapters.index_cache import cached_index
from datamodules.adapters.tao import UNKNOWN_SYNSET, as_path_list, keep_tao_categories
from datamodules.schema import AnnotationError, Category, VideoIndex


def lvis_split(
    root: str | os.PathLike, split: str, *, image_root: str | os.PathLike | None = None,
    to_v05: str | os.PathLike | None = None, tao_filter_json: str | list[str] | None = None,
    cache_dir: str | os.PathLike | None = None, check_images: bool = True,
    skip_empty_boxes: bool = True, box_tolerance: float = 1.0,
) -> VideoIndex:
    """One LVIS v1 split (``split``: ``train`` or ``val``) under ``root``.

    Args:
        image_root: folder holding ``train2017/`` and ``val2017/`` (default: ``root``).
        to_v05: a file with the LVIS v0.5 categories (``lvis_v0.5_val.json``, a TAO
            annotation file, or a JSON list of categories); relabel to them by synset.
        tao_filter_json: TAO annotation file(s); keep only the categories occurring there.
        cache_dir: where the parsed index is cached (:mod:`~datamodules.adapters.index_cache`).
        check_images, skip_empty_boxes, box_tolerance: as in ``load_coco_video``.
    """
    root = Path(root)
    json_path = root / "annotations" / f"lvis_v1_{split}.json"
    image_root = Path(image_root) if image_root is not None else root
    filter_jsons = as_path_list(tao_filter_json)
    options = dict(split=split, check_images=check_images, skip_empty_boxes=skip_empty_boxes,
                   box_tolerance=box_tolerance)

    def build() -> VideoIndex:
        index = load_coco_video(json_path, image_root, **options)
        if to_v05 is not None:
            index = v1_to_v05(index, to_v05)
        return keep_tao_categories(index, filter_jsons) if filter_jsons else index

    key = {"image_root": str(image_root), "to_v05": None if to_v05 is None else str(to_v05),
           "tao_filter_json": filter_jsons, **options}
    inputs = [json_path, *([to_v05] if to_v05 is not None else []), *filter_jsons]
    return cached_index(cache_dir, inputs, key, build)


def v1_to_v05(index: VideoIndex, v05_json: str | os.PathLike) -> VideoIndex:
    """Relabel an LVIS v1 index to the v0.5 categories listed in ``v05_json``, matching by
    ``synset`` (e.g. v1 ``person`` id 793 -> v0.5 ``person`` id 805).

    The index gets *every* category of ``v05_json`` (1230 for LVIS v0.5), so its labels line
    up with TAO's, whatever v1 covers. Boxes of v1 categories whose synset is not in v0.5
    are dropped and counted as ``skipped["no_v05_synset"]``; federated ids are mapped too.
    """
    require_synsets(index, "the LVIS v1 -> v0.5 mapping")
    path = Path(v05_json)
    v05 = read_categories(path)
    by_synset: dict[str, Category] = {}
    for c in v05:
        if c.synset is None:
            raise AnnotationError(f"{path}: category id={c.id} ({c.name!r}) has no 'synset'")
        if c.synset == UNKNOWN_SYNSET:  # TAO's objects outside LVIS: nothing maps to them
            continue
        if c.synset in by_synset:
            raise AnnotationError(f"{path}: category id={c.id} has the synset {c.synset!r} "
                                  f"of category id={by_synset[c.synset].id}")
        by_synset[c.synset] = c
    new_id_of = {c.id: by_synset[c.synset].id for c in index.categories if c.synset in by_synset}
    return remap_categories(index, v05, new_id_of, "no_v05_synset")
