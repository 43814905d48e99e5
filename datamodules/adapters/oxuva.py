"""Adapter for OxUvA long-term tracking (Valmadre et al., ECCV 2018), as distributed::

    <root>/images/<split>/<video>/<frame:06d>.jpeg   every frame (30 Hz), from 000000
    <root>/tasks/<split>.csv                         one tracking task per (video, object)
    <root>/annotations/<split>.csv                   labels every 30 frames (dev only; test is secret)

``split`` is ``dev`` or ``test``. The CSV files have no header; their columns (oxuva toolkit,
``io_task.TASK_FIELDS`` / ``io_annot.TRACK_FIELDS``) are::

    tasks:        video_id, object_id, init_frame, last_frame, xmin, xmax, ymin, ymax
    annotations:  video_id, object_id, class_id, class_name, contains_cuts, always_visible,
                  frame_num, object_presence, xmin, xmax, ymin, ymax

with ``object_presence`` ``present`` or ``absent`` and coordinates as fractions of the
image width (x) and height (y); an absent row's coordinates are ignored.

Rules
- One video per OxUvA video (sorted by name); one track per (video, object), numbered in
  that order across the split (several objects can share a video); one class-agnostic
  category (the task gives no class at test time).
- Labels: the annotations where the file exists, else (test) each task's initial box.
  An absent label gives no box. Every annotated (video, object) needs a task.
- Frames: ``frames="annotated"`` indexes the labelled frames only (1 Hz; for training and
  scoring); ``frames="all"`` indexes every frame from the first task's ``init_frame`` to
  the last ``last_frame`` (30 Hz; for running a tracker), where frames between labels carry
  no box because they are unlabelled. ``Frame.frame_index`` is OxUvA's frame number.
- Image size: the header of the video's first indexed frame; boxes are fractions of it.
  Boxes follow :mod:`datamodules.adapters.box_checks` (fractions outside ``[0, 1]`` are
  clipped and counted beyond ``box_tolerance`` pixels).
- Errors (:class:`AnnotationError`, naming file and line): a missing file or image, a
  wrong field count, a non-numeric field, an unknown presence value, ``last_frame <
  init_frame``, a repeated task or label, a label without a task, a task without a label
  (when the annotations file exists).
"""
from __future__ import annotations

import csv
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from datamodules.adapters.box_checks import clip_boxes_to_image
from datamodules.adapters.index_cache import cached_index
from datamodules.adapters.sot_common import OBJECT, numbered_images, read_image_size
from datamodules.schema import AnnotationError, Frame, SkipLog, Video, VideoIndex

__all__ = ["load_oxuva"]

TASK_FIELDS = ("video_id", "object_id", "init_frame", "last_frame", "xmin", "xmax", "ymin", "ymax")
ANNOTATION_FIELDS = ("video_id", "object_id", "class_id", "class_name", "contains_cuts", "always_visible",
                     "frame_num", "object_presence", "xmin", "xmax", "ymin", "ymax")


@dataclass(frozen=True)
class _Label:
    """One labelled frame of one object: ``box`` = ``(xmin, xmax, ymin, ymax)`` fractions,
    None when absent; ``where`` = ``file:line``."""

    video: str
    object: str
    frame: int
    box: tuple[float, float, float, float] | None
    where: str


def load_oxuva(
    root: str | os.PathLike, split: str = "dev", *, frames: str = "annotated",
    cache_dir: str | os.PathLike | None = None, box_tolerance: float = 1.0,
) -> VideoIndex:
    """Index one OxUvA split (layout and rules in the module docstring).

    Args:
        root: the dataset folder holding ``images/``, ``tasks/``, ``annotations/``.
        split: ``dev`` or ``test``.
        frames: ``annotated`` (labelled frames, 1 Hz) or ``all`` (every frame, 30 Hz).
        cache_dir: where the parsed index is cached (:mod:`~datamodules.adapters.index_cache`,
            keyed by the two CSV files); ``None`` parses every time.
        box_tolerance: see :mod:`datamodules.adapters.box_checks`.
    """
    if frames not in ("annotated", "all"):
        raise ValueError(f"frames must be 'annotated' or 'all', got {frames!r}")
    root = Path(root)
    task_file, annotation_file = root / "tasks" / f"{split}.csv", root / "annotations" / f"{split}.csv"
    options = {"adapter": "oxuva", "root": str(root), "split": split, "frames": frames,
               "box_tolerance": box_tolerance}
    return cached_index(cache_dir, [task_file, annotation_file], options,
                        lambda: _parse(root, split, task_file, annotation_file, frames, box_tolerance))


def _parse(root: Path, split: str, task_file: Path, annotation_file: Path, frames: str,
           box_tolerance: float) -> VideoIndex:
    tasks = _read_tasks(task_file)
    labels = _read_annotations(annotation_file, tasks) if annotation_file.is_file() else [
        _Label(video, obj, init, box, where) for (video, obj), (init, _, box, where) in tasks.items()]
    labels_of: dict[str, list[_Label]] = defaultdict(list)
    for label in labels:
        labels_of[label.video].append(label)
    objects_of: dict[str, list[str]] = defaultdict(list)
    for video, obj in sorted(tasks):
        objects_of[video].append(obj)
    videos, skipped, next_image_id, next_track_id = [], SkipLog(), 0, 0
    for name in tqdm(sorted(objects_of), desc=f"indexing OxUvA {split}", unit="video", disable=None):
        track_of = {obj: next_track_id + i for i, obj in enumerate(objects_of[name])}
        next_track_id += len(track_of)
        if frames == "all":
            spans = [tasks[name, obj][:2] for obj in objects_of[name]]
            numbers = range(min(s[0] for s in spans), max(s[1] for s in spans) + 1)
        else:
            numbers = sorted({label.frame for label in labels_of[name]})
        video = _video(root / "images" / split / name, len(videos), name, numbers, labels_of[name], track_of,
                       next_image_id, box_tolerance, skipped)
        next_image_id += len(video)
        videos.append(video)
    return VideoIndex(videos=videos, categories=[OBJECT], source=str(root), split=split,
                      skipped=skipped.counts, skip_examples=skipped.examples)


def _video(image_dir: Path, video_id: int, name: str, numbers, labels: list[_Label], track_of: dict[str, int],
           first_image_id: int, box_tolerance: float, skipped: SkipLog) -> Video:
    available = numbered_images(image_dir, 6, ".jpeg")
    missing = sorted(set(numbers) - available)
    if missing:
        raise AnnotationError(f"{image_dir / f'{missing[0]:06d}.jpeg'}: image missing (video {name})")
    width, height = read_image_size(image_dir / f"{numbers[0]:06d}.jpeg")
    indexed = set(numbers)
    present = [label for label in labels if label.box is not None and label.frame in indexed]
    fractions = np.array([label.box for label in present], np.float64).reshape(-1, 4)  # xmin, xmax, ymin, ymax
    xyxy = fractions[:, [0, 2, 1, 3]] * [width, height, width, height]
    xyxy = clip_boxes_to_image(xyxy, width, height, tolerance=box_tolerance,
                               where=lambda i: present[i].where, skipped=skipped)
    boxes_at: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(present):
        boxes_at[label.frame].append(i)
    frames = []
    for index, number in enumerate(numbers):
        at = boxes_at.get(number, [])
        frames.append(Frame(
            image_path=image_dir / f"{number:06d}.jpeg", width=width, height=height, frame_index=number,
            image_id=first_image_id + index, boxes=xyxy[at], labels=[0] * len(at),
            track_ids=[track_of[present[i].object] for i in at],
        ))
    return Video(video_id=video_id, name=name, frames=frames)


def _rows(path: Path, fields: tuple[str, ...]):
    """``(file:line, {field: value})`` of every row of a header-less CSV file."""
    try:
        with path.open(newline="") as f:
            for lineno, row in enumerate(csv.reader(f), start=1):
                if not row:
                    continue
                if len(row) != len(fields):
                    raise AnnotationError(f"{path}:{lineno}: {len(row)} fields, expected {len(fields)} "
                                          f"({', '.join(fields)})")
                yield f"{path}:{lineno}", dict(zip(fields, row))
    except FileNotFoundError as err:
        raise AnnotationError(f"{path}: file missing") from err


def _number(row: dict, field: str, where: str, kind=float):
    try:
        value = kind(row[field])
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise AnnotationError(f"{where}: {field} {row[field]!r} is not {expected}") from None
    if kind is float and not np.isfinite(value):
        raise AnnotationError(f"{where}: {field} {row[field]!r} is not finite")
    return value


def _fractions(row: dict, where: str) -> tuple[float, float, float, float]:
    return tuple(_number(row, field, where) for field in ("xmin", "xmax", "ymin", "ymax"))


def _read_tasks(path: Path) -> dict[tuple[str, str], tuple[int, int, tuple, str]]:
    """``(video, object) -> (init_frame, last_frame, initial box fractions, file:line)``."""
    tasks = {}
    for where, row in _rows(path, TASK_FIELDS):
        key = (row["video_id"], row["object_id"])
        if key in tasks:
            raise AnnotationError(f"{where}: second task for video {key[0]} object {key[1]} (first: {tasks[key][3]})")
        init, last = _number(row, "init_frame", where, int), _number(row, "last_frame", where, int)
        if last < init:
            raise AnnotationError(f"{where}: last_frame {last} < init_frame {init}")
        tasks[key] = (init, last, _fractions(row, where), where)
    if not tasks:
        raise AnnotationError(f"{path}: no tasks")
    return tasks


def _read_annotations(path: Path, tasks: dict) -> list[_Label]:
    labels, seen = [], {}
    for where, row in _rows(path, ANNOTATION_FIELDS):
        video, obj = row["video_id"], row["object_id"]
        if (video, obj) not in tasks:
            raise AnnotationError(f"{where}: video {video} object {obj} has no task in the tasks file")
        frame = _number(row, "frame_num", where, int)
        if (video, obj, frame) in seen:
            raise AnnotationError(f"{where}: video {video} object {obj} frame {frame} is also labelled at "
                                  f"{seen[video, obj, frame]}")
        seen[video, obj, frame] = where
        presence = row["object_presence"]
        if presence not in ("present", "absent"):
            raise AnnotationError(f"{where}: object_presence {presence!r} is neither 'present' nor 'absent'")
        box = _fractions(row, where) if presence == "present" else None
        labels.append(_Label(video, obj, frame, box, where))
    labelled = {(label.video, label.object) for label in labels}
    for key, (*_, task_where) in tasks.items():
        if key not in labelled:
            raise AnnotationError(f"{task_where}: video {key[0]} object {key[1]} has no label in {path}")
    return labels
