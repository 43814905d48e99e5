"""TAO (Tracking Any Object, Dave et al. ECCV 2020), as distributed (TAO-Dataset/tao,
``docs/download.md``)::

    <root>/annotations/train.json
    <root>/annotations/validation.json
    <root>/annotations/test_without_annotations.json      (no annotations)
    <root>/frames/train/<source dataset>/<video name>/<frame>.jpg
    <root>/frames/val/...          (the val frames; note: the annotation file is validation.json)
    <root>/frames/test/...

    <source dataset>: ArgoVerse, BDD, Charades, LaSOT, YFCC100M, and AVA, HACS (whose
    frames are downloaded separately, after accepting their licences).
    e.g. frames/val/YFCC100M/v_f69ebe5b731d3e87c1a3992ee39c3b7e/frame0391.jpg
         frames/train/ArgoVerse/<log id>/ring_front_center_315984810149951312.jpg

The JSON is COCO-video style: ``videos`` (``name`` ``"val/YFCC100M/v_..."``, ``width``,
``height``, ``neg_category_ids``, ``not_exhaustive_category_ids``, ``metadata``),
``images`` (``file_name`` ``"val/YFCC100M/v_.../frame0391.jpg"`` relative to
``<root>/frames``, ``video_id``, ``frame_index`` in the 30 FPS video), ``annotations``
(``bbox`` ``[x, y, w, h]``, ``track_id``, ``category_id``), ``tracks``
(``id``, ``category_id``, ``video_id``) and the LVIS v0.5 ``categories`` (with
``synset``; ``"unknown"`` for objects outside LVIS). TAO is annotated at 1 FPS: ``images``
lists only the annotated frames, so one index step is about one second (clip sampling
with ``clip_stride=1`` pairs consecutive annotated frames). Each video's
``neg_category_ids`` / ``not_exhaustive_category_ids`` are kept on all of its frames.
Parsing is :func:`~datamodules.adapters.coco_video.load_coco_video`.
"""
from __future__ import annotations

import os
from pathlib import Path

from datamodules.adapters.categories import parse_categories, remap_categories, require_synsets
from datamodules.adapters.coco_video import _read_json, load_coco_video
from datamodules.adapters.index_cache import cached_index
from datamodules.schema import AnnotationError, VideoIndex

#: TAO's synset for categories outside the LVIS vocabulary; it matches no LVIS category.
UNKNOWN_SYNSET = "unknown"


def tao_split(
    root: str | os.PathLike, split: str, *, tao_filter_json: str | list[str] | None = None,
    cache_dir: str | os.PathLike | None = None, check_images: bool = True,
    skip_missing_images: bool = False, skip_empty_boxes: bool = True, box_tolerance: float = 1.0,
) -> VideoIndex:
    """One TAO split (``split``: ``train`` or ``validation``, the annotation file's stem).

    Args:
        tao_filter_json: TAO annotation file(s); keep only the categories that occur in
            them (:func:`keep_tao_categories`), e.g. train + validation for the label
            space of an LVIS detector trained with the same filter.
        cache_dir: where the parsed index is cached (:mod:`~datamodules.adapters.index_cache`).
        check_images, skip_missing_images, skip_empty_boxes, box_tolerance: as in
            ``load_coco_video`` (``skip_missing_images=True`` trains without the AVA /
            HACS frames; every dropped frame is counted).
    """
    root = Path(root)
    json_path = root / "annotations" / f"{split}.json"
    image_root = root / "frames"
    filter_jsons = as_path_list(tao_filter_json)
    options = dict(split=split, check_images=check_images, skip_missing_images=skip_missing_images,
                   skip_empty_boxes=skip_empty_boxes, box_tolerance=box_tolerance)

    def build() -> VideoIndex:
        index = load_coco_video(json_path, image_root, **options)
        return keep_tao_categories(index, filter_jsons) if filter_jsons else index

    key = {"image_root": str(image_root), "tao_filter_json": filter_jsons, **options}
    return cached_index(cache_dir, [json_path, *filter_jsons], key, build)


def tao_category_synsets(json_path: str | os.PathLike) -> set[str]:
    """Synsets of the LVIS categories that occur (in ``annotations`` or ``tracks``) in a TAO
    annotation file; TAO's ``"unknown"`` synset is left out."""
    path = Path(json_path)
    data = _read_json(path)
    if not isinstance(data, dict):
        raise AnnotationError(f"{path}: top level is a {type(data).__name__}, expected a TAO annotation object")
    synset_of = {c.id: c.synset for c in parse_categories(data, path)}
    synsets = set()
    for key in ("annotations", "tracks"):
        for i, record in enumerate(data.get(key, [])):
            cid = record.get("category_id") if isinstance(record, dict) else None
            if cid not in synset_of:
                rid = record.get("id", f"#{i}") if isinstance(record, dict) else f"#{i}"
                raise AnnotationError(f"{path}: {key[:-1]} id={rid}: unknown category_id {cid!r}")
            if synset_of[cid] not in (None, UNKNOWN_SYNSET):
                synsets.add(synset_of[cid])
    return synsets


def keep_tao_categories(index: VideoIndex, tao_jsons: list[str | os.PathLike]) -> VideoIndex:
    """Keep only the categories of ``index`` whose synset occurs in the TAO annotation
    files ``tao_jsons`` ("only output the 482 LVIS categories appeared in TAO", AOA,
    TAO challenge 2020). Matching is by synset, not id: LVIS v1 ids differ from the v0.5
    ids TAO uses, synsets do not. Boxes of other categories are dropped and counted as
    ``skipped["not_in_tao"]``."""
    require_synsets(index, "the TAO category filter")
    synsets = set().union(*(tao_category_synsets(p) for p in tao_jsons))
    kept = [c for c in index.categories if c.synset in synsets]
    return remap_categories(index, kept, {c.id: c.id for c in kept}, "not_in_tao")


def as_path_list(paths: str | os.PathLike | list | None) -> list[str]:
    """``None``, one path or a sequence of paths (a Hydra ListConfig too) as a list of str."""
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        return [str(paths)]
    return [str(p) for p in paths]
