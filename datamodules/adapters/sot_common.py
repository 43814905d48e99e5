"""Shared by the single-object-tracking adapters (GOT-10k, LaSOT, OxUvA).

- :data:`OBJECT`: the one class-agnostic category of SOT benchmarks.
- Name lists (GOT-10k ``list.txt``, LaSOT ``testing_set.txt``), numbered image folders and
  image sizes read from the image header (no pixels are decoded while indexing).
- :func:`load_single_target_sequences`: GOT-10k / LaSOT sequences, one target each::

      <seq_dir>/groundtruth.txt      x,y,w,h per frame (pixels, top-left corner)
      <seq_dir>/absence.label        optional, GOT-10k: 1 = absent
      <seq_dir>/cover.label          optional, GOT-10k: 0 = fully covered (absent)
      <seq_dir>/full_occlusion.txt   optional, LaSOT: 1 = fully occluded (absent)
      <seq_dir>/out_of_view.txt      optional, LaSOT: 1 = out of view (absent)
      <seq_dir>/meta_info.ini        optional, GOT-10k: ``resolution: (W, H)``
      <image_dir>/00000001.jpg ...   one image per frame

  read with :func:`eval.sot_io.read_sot_ground_truth`, so the absence rule is the
  evaluators': a frame is absent when a flag says so or its box is NaN or has zero size.
  An absent frame has no box; every present frame has one box with the sequence's track
  id. The image size is ``meta_info.ini``'s resolution, else the first image's header.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from datamodules.adapters.box_checks import clip_boxes_to_image
from datamodules.adapters.common import reraise_as_annotation_error
from datamodules.schema import AnnotationError, Category, Frame, SkipLog, Video
from eval.sot_io import read_sot_ground_truth

__all__ = ["OBJECT", "Sequence", "annotation_files", "load_single_target_sequences", "numbered_images",
           "read_image_size", "read_name_list"]

OBJECT = Category(0, "object")
ANNOTATION_FILES = ("groundtruth.txt", "absence.label", "cover.label", "full_occlusion.txt", "out_of_view.txt",
                    "meta_info.ini")


def read_name_list(path: Path) -> list[tuple[int, str]]:
    """``(1-based line, name)`` of every non-blank line of a name list; a missing or empty
    file or a repeated name is an :class:`AnnotationError`."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError as err:
        raise AnnotationError(f"{path}: file missing") from err
    entries, seen = [], {}
    for lineno, line in enumerate(lines, start=1):
        name = line.strip()
        if not name:
            continue
        if name in seen:
            raise AnnotationError(f"{path}:{lineno}: {name!r} is also on line {seen[name]}")
        seen[name] = lineno
        entries.append((lineno, name))
    if not entries:
        raise AnnotationError(f"{path}: no names")
    return entries


def numbered_images(image_dir: Path, digits: int, suffix: str) -> set[int]:
    """Frame numbers of the files ``<number, zero-padded to digits><suffix>`` in
    ``image_dir`` (one directory listing; other files are ignored)."""
    pattern = re.compile(rf"(\d{{{digits}}}){re.escape(suffix)}")
    try:
        names = os.listdir(image_dir)
    except FileNotFoundError as err:
        raise AnnotationError(f"{image_dir}: image folder missing") from err
    return {int(m.group(1)) for m in map(pattern.fullmatch, names) if m}


def read_image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from an image file's header (nothing is decoded)."""
    try:
        with Image.open(path) as image:
            return image.size
    except FileNotFoundError as err:
        raise AnnotationError(f"{path}: image missing") from err
    except OSError as err:
        raise AnnotationError(f"{path}: cannot read the image header: {err}") from err


@dataclass(frozen=True)
class Sequence:
    """One GOT-10k / LaSOT sequence to index: ``name`` (the video name), ``seq_dir``
    (annotation files), ``image_dir`` (``00000001.jpg``, ...) and its ``label``."""

    name: str
    seq_dir: Path
    image_dir: Path
    label: int = 0


def annotation_files(sequences: list[Sequence]) -> list[Path]:
    """Every annotation file a sequence may have: the index cache's key, so adding, editing
    or removing one parses the dataset again."""
    return [s.seq_dir / name for s in sequences for name in ANNOTATION_FILES]


def load_single_target_sequences(
    sequences: list[Sequence], *, first_frame_only: bool, box_tolerance: float, desc: str,
) -> tuple[list[Video], SkipLog]:
    """Index sequences (layout and rules in the module docstring); video ``i`` gets
    ``video_id = track id = i``, image ids count up across all sequences.

    Args:
        first_frame_only: ``groundtruth.txt`` holds the first frame only (GOT-10k test);
            the other frames are unlabelled and carry no box. Otherwise it needs one line
            per image.
        box_tolerance: see :mod:`datamodules.adapters.box_checks`.
        desc: progress bar label.
    """
    videos, skipped, next_image_id = [], SkipLog(), 0
    for video_id, sequence in enumerate(tqdm(sequences, desc=desc, unit="video", disable=None)):
        video = _load_sequence(sequence, video_id, next_image_id, first_frame_only, box_tolerance, skipped)
        next_image_id += len(video)
        videos.append(video)
    return videos, skipped


def _load_sequence(sequence: Sequence, video_id: int, first_image_id: int, first_frame_only: bool,
                   box_tolerance: float, skipped: SkipLog) -> Video:
    gt_file = sequence.seq_dir / "groundtruth.txt"
    with reraise_as_annotation_error():
        gt = read_sot_ground_truth(sequence.seq_dir)
    numbers = numbered_images(sequence.image_dir, 8, ".jpg")
    if first_frame_only and len(gt) != 1:
        raise AnnotationError(f"{gt_file}: {len(gt)} lines, expected the first frame only")
    num_frames = max(numbers, default=0) if first_frame_only else len(gt)
    missing = sorted(set(range(1, num_frames + 1)) - numbers)
    if missing:
        raise AnnotationError(f"{sequence.image_dir / f'{missing[0]:08d}.jpg'}: image missing "
                              f"({gt_file} has {len(gt)} frames)")
    if len(numbers) > num_frames:
        raise AnnotationError(f"{gt_file}: {len(gt)} frames but {sequence.image_dir} holds {len(numbers)} images")
    width, height = (map(int, gt.image_size) if gt.image_size is not None
                     else read_image_size(sequence.image_dir / "00000001.jpg"))
    present = np.flatnonzero(~gt.absent)
    x, y, w, h = gt.boxes[present].T
    boxes = clip_boxes_to_image(np.stack([x, y, x + w, y + h], axis=1), width, height, tolerance=box_tolerance,
                                where=lambda i: f"{gt_file}:{present[i] + 1}", skipped=skipped)
    box_of = dict(zip(present.tolist(), boxes))
    frames = []
    for index in range(num_frames):
        box = box_of.get(index)
        frames.append(Frame(
            image_path=sequence.image_dir / f"{index + 1:08d}.jpg", width=width, height=height,
            frame_index=index, image_id=first_image_id + index,
            boxes=None if box is None else [box],
            labels=None if box is None else [sequence.label],
            track_ids=None if box is None else [video_id],
        ))
    return Video(video_id=video_id, name=sequence.name, frames=frames)
