"""YouTube-VOS 2019 (Xu et al., ECCV 2018), as distributed (youtube-vos.org: train.zip,
valid.zip)::

    <root>/train/meta.json
    <root>/train/JPEGImages/<video>/00000.jpg, 00005.jpg, ...   (every 5th frame of 30 fps)
    <root>/train/Annotations/<video>/00000.png, 00005.png, ...  (palette PNG: pixel value =
                                                                 object id, 0 background)
    <root>/valid/{meta.json, JPEGImages/, Annotations/}          (Annotations: the frame where
                                                                 each object first appears)

``meta.json``::

    {"videos": {"003234408d": {"objects": {"1": {"category": "penguin",
                                                 "frames": ["00000", "00005", ...]},
                                           "2": {...}}},
                ...}}

Rules:

- A video's frames are its annotation PNGs; ``Frame.frame_index`` is the number in the
  name (0, 5, 10, ...), so clip strides count annotated frames (5 video frames each).
- Categories are the sorted category names of ``<root>/train/meta.json`` (65 in 2019),
  ``Category.id`` 1, 2, ... in that order, for every split.
- An object is the pixels of its id in a PNG: ``Frame.masks`` holds it as RLE, the box is
  the box around it, the label its ``meta.json`` category, the track id unique across the
  dataset.
- Pixel values that are no object of the video in ``meta.json`` are skipped, counted as
  ``mask_id_not_in_meta``; objects whose category is missing or not a train category
  (``valid`` holds unseen categories by design) as ``category_not_in_train``; frames that
  ``meta.json`` lists for an object whose id has no pixel in that PNG as
  ``object_missing_from_mask``; annotation folders of videos missing from ``meta.json`` as
  ``video_not_in_meta``.
- A missing or malformed meta.json / PNG / folder, or a missing JPEG, is an
  :class:`AnnotationError` naming the file and the record (video, object, frame).

``valid`` has masks only where an object first appears, so it does not serve box
evaluation; ``holdout`` splits ``train`` instead: every ``holdout_every``-th video (sorted
by name, from the first) is held out; ``holdout="exclude"`` trains without them,
``"only"`` evaluates on them.

The masks are decoded once, while indexing (``parse_workers`` processes, with a progress
bar), and the index with its RLEs is cached under ``cache_dir``
(:mod:`~datamodules.adapters.index_cache`, keyed by both ``meta.json`` files and every
video's annotation folder: path, size, mtime).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from datamodules.adapters.coco_video import _read_json
from datamodules.adapters.common import (
    IdAllocator, Instance, encode_mask, frame_from_instances, listed_files, map_with_progress, mask_box,
    merge_skips, reraise_as_annotation_error,
)
from datamodules.adapters.index_cache import cached_index
from datamodules.schema import AnnotationError, Category, SkipLog, Video, VideoIndex

__all__ = ["youtube_vos_split"]

SPLITS = ("train", "valid")
HOLDOUT = ("none", "exclude", "only")


def youtube_vos_split(
    root: str | os.PathLike, split: str = "train", *, holdout: str = "none", holdout_every: int = 20,
    cache_dir: str | os.PathLike | None = None, parse_workers: int = 0,
) -> VideoIndex:
    """One YouTube-VOS 2019 split folder (``train`` or ``valid``) under ``root``.

    Args:
        holdout: ``none`` (every video), ``exclude`` or ``only`` the held-out videos.
        holdout_every: one video in this many is held out.
        cache_dir: where the parsed index is cached; ``None`` parses every time.
        parse_workers: processes decoding the PNG masks (0: in this process).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if holdout not in HOLDOUT or holdout_every < 1:
        raise ValueError(f"holdout must be one of {HOLDOUT} and holdout_every >= 1, got {holdout!r}, {holdout_every}")
    root = Path(root)
    meta_path, categories_path = root / split / "meta.json", root / "train" / "meta.json"
    train_meta = _read_meta(categories_path)
    videos = train_meta if split == "train" else _read_meta(meta_path)
    categories = _train_categories(train_meta, categories_path)
    names = [v for i, v in enumerate(sorted(videos))
             if holdout == "none" or (i % holdout_every == 0) == (holdout == "only")]
    label_of = {c.name: i for i, c in enumerate(categories)}
    tasks = [_video_task(root / split, name, videos[name], label_of) for name in names]
    options = {"root": str(root), "split": split, "holdout": holdout, "holdout_every": holdout_every}
    build = partial(_build_index, tasks, categories, split, parse_workers, meta_path, set(videos))
    return cached_index(cache_dir, [meta_path, categories_path, *(t.ann_dir for t in tasks)], options, build)


def _train_categories(meta: dict[str, dict[str, dict]], meta_path: Path) -> list[Category]:
    """The categories of the train ``meta.json``, sorted by name, ids from 1."""
    names = set()
    for video, objects in meta.items():
        for key, obj in objects.items():
            if not isinstance(obj.get("category"), str):
                raise AnnotationError(f"{meta_path}: video {video} object {key} has no 'category'")
            names.add(obj["category"])
    return [Category(i, name) for i, name in enumerate(sorted(names), start=1)]


def _read_meta(path: Path) -> dict[str, dict[str, dict]]:
    """``video -> {object id (str) -> {"category"?, "frames"}}`` of a ``meta.json``."""
    with reraise_as_annotation_error():
        data = _read_json(path)
    videos = data.get("videos") if isinstance(data, dict) else None
    if not isinstance(videos, dict):
        raise AnnotationError(f"{path}: expected {{\"videos\": {{<video>: {{\"objects\": ...}}}}}}")
    out = {}
    for video, entry in videos.items():
        objects = entry.get("objects") if isinstance(entry, dict) else None
        if not isinstance(objects, dict):
            raise AnnotationError(f"{path}: video {video} has no 'objects' mapping")
        for key, obj in objects.items():
            if not (key.isdigit() and isinstance(obj, dict) and isinstance(obj.get("frames"), list)):
                raise AnnotationError(f"{path}: video {video} object {key!r} needs an integer id and a 'frames' list")
        out[video] = objects
    return out


@dataclass(frozen=True)
class _VideoTask:
    name: str
    ann_dir: Path
    image_dir: Path
    labels: dict[int, int]  # object id -> label, for objects of a train category
    untrained: frozenset[int]  # object ids without a train category
    listed: dict[int, frozenset[str]]  # object id -> frames meta.json lists it in


def _video_task(folder: Path, name: str, objects: dict[str, dict], label_of: dict[str, int]) -> _VideoTask:
    labels = {int(k): label_of[o["category"]] for k, o in objects.items() if o.get("category") in label_of}
    return _VideoTask(
        name=name, ann_dir=folder / "Annotations" / name, image_dir=folder / "JPEGImages" / name, labels=labels,
        untrained=frozenset(int(k) for k in objects) - set(labels),
        listed={int(k): frozenset(map(str, o["frames"])) for k, o in objects.items()},
    )


@dataclass
class _ParsedFrame:
    name: str  # "00005"
    width: int
    height: int
    objects: list[tuple[int, tuple[float, float, float, float], dict]]  # (object id, box, rle)


@dataclass
class _ParsedVideo:
    frames: list[_ParsedFrame]
    skipped: SkipLog = field(default_factory=SkipLog)


def _build_index(tasks: list[_VideoTask], categories: list[Category], split: str, workers: int,
                 meta_path: Path, meta_videos: set[str]) -> VideoIndex:
    skipped = SkipLog()
    annotations = meta_path.parent / "Annotations"
    for name in sorted(listed_files(annotations) - meta_videos):
        skipped.add("video_not_in_meta", f"{annotations / name}: not in {meta_path}")
    parsed = map_with_progress(_parse_video, tasks, desc=f"YouTube-VOS {split}", unit="video", workers=workers)
    track_ids, image_ids = IdAllocator(), IdAllocator()
    videos = []
    for video_id, (task, video) in enumerate(zip(tasks, parsed), start=1):
        merge_skips(skipped, video.skipped)
        frames = [frame_from_instances(
            task.image_dir / f"{f.name}.jpg", f.width, f.height, int(f.name), image_ids((task.name, f.name)),
            [Instance(box, task.labels[oid], track_ids((task.name, oid)), mask=rle) for oid, box, rle in f.objects],
            with_masks=True,
        ) for f in video.frames]
        videos.append(Video(video_id=video_id, name=task.name, frames=frames))
    return VideoIndex(videos=videos, categories=categories, source=str(meta_path), split=split,
                      skipped=skipped.counts, skip_examples=skipped.examples)


def _parse_video(task: _VideoTask) -> _ParsedVideo:
    """Decode one video's annotation PNGs into per-object RLEs (runs in a worker process)."""
    names = sorted(n[:-4] for n in listed_files(task.ann_dir) if n.endswith(".png"))
    if not names:
        raise AnnotationError(f"{task.ann_dir}: no annotation PNGs for video {task.name}")
    images = listed_files(task.image_dir)
    result = _ParsedVideo(frames=[])
    for name in names:
        png = task.ann_dir / f"{name}.png"
        if not name.isdigit():
            raise AnnotationError(f"{png}: expected a <frame:05d>.png name")
        if f"{name}.jpg" not in images:
            raise AnnotationError(f"{task.image_dir / (name + '.jpg')}: image missing (annotated by {png})")
        ids = _read_ids(png)
        present = set(np.unique(ids).tolist()) - {0}
        objects = []
        for oid in sorted(present):
            if oid in task.untrained:
                result.skipped.add("category_not_in_train", f"{png}: object {oid}")
            elif oid not in task.labels:
                result.skipped.add("mask_id_not_in_meta", f"{png}: object {oid}")
            else:
                rle = encode_mask(ids == oid)
                objects.append((oid, mask_box(rle), rle))
        for oid, frames in task.listed.items():
            if name in frames and oid not in present:
                result.skipped.add("object_missing_from_mask", f"{png}: object {oid}")
        height, width = ids.shape
        result.frames.append(_ParsedFrame(name, width, height, objects))
    return result


def _read_ids(png: Path) -> np.ndarray:
    """``(H, W)`` object ids of a palette (or grey) annotation PNG."""
    try:
        with Image.open(png) as im:
            if im.mode not in ("P", "L"):
                raise AnnotationError(f"{png}: mode {im.mode}, expected a palette PNG of object ids")
            return np.asarray(im)
    except AnnotationError:
        raise
    except OSError as err:
        raise AnnotationError(f"{png}: cannot decode the annotation PNG: {err}") from err
