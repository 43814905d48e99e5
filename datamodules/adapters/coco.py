"""COCO 2017 detection / instance segmentation, as distributed (cocodataset.org)::

    <root>/annotations/instances_train2017.json
    <root>/annotations/instances_val2017.json
    <root>/train2017/000000391895.jpg ...
    <root>/val2017/000000397133.jpg ...

``images[].file_name`` (``"000000397133.jpg"``) is relative to ``<root>/<split>2017``.
Every image is a one-frame video (``video_id = image id``); boxes come from ``bbox``
(``[x, y, w, h]`` float pixels), masks from the polygon or RLE ``segmentation``, crowd
regions from ``iscrowd`` (-> ``Frame.iscrowd``); the 80 category ids (1..90, with gaps)
get contiguous labels by sorted id. Parsing is :func:`~datamodules.adapters.coco_video.load_coco_video`.
"""
from __future__ import annotations

import os
from pathlib import Path

from datamodules.adapters.coco_video import load_coco_video
from datamodules.adapters.index_cache import cached_index
from datamodules.schema import VideoIndex


def coco_split(
    root: str | os.PathLike, split: str, *, cache_dir: str | os.PathLike | None = None,
    check_images: bool = True, skip_empty_boxes: bool = True, box_tolerance: float = 1.0,
) -> VideoIndex:
    """One COCO 2017 split (``split``: ``train`` or ``val``) under ``root``.

    Args:
        cache_dir: where the parsed index is cached (:mod:`~datamodules.adapters.index_cache`);
            ``None`` parses every time.
        check_images, skip_empty_boxes, box_tolerance: as in ``load_coco_video``
            (zero-size boxes are skipped and counted by default, as detectors ignore them).
    """
    root = Path(root)
    json_path = root / "annotations" / f"instances_{split}2017.json"
    image_root = root / f"{split}2017"
    options = dict(split=split, check_images=check_images, skip_empty_boxes=skip_empty_boxes,
                   box_tolerance=box_tolerance)
    return cached_index(cache_dir, [json_path], {"image_root": str(image_root), **options},
                        lambda: load_coco_video(json_path, image_root, **options))
