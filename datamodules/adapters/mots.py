"""MOTS ground truth (Voigtlaender et al., CVPR 2019) in its two distributions, chosen by
``flavour``::

    motschallenge  (MOTS20, motchallenge.net)
        <root>/train/MOTS20-02/seqinfo.ini            (as MOTChallenge's: imDir, seqLength, ...)
        <root>/train/MOTS20-02/img1/000001.jpg ...
        <root>/train/MOTS20-02/gt/gt.txt              frames 1-based
    kitti_mots     (cvlibs.net/datasets/kitti/eval_mots.php)
        <root>/training/image_02/0000/000000.png ...
        <root>/instances_txt/0000.txt                 frames 0-based

A gt row is ``time_frame object_id class_id img_height img_width rle`` (space separated,
``rle`` a pycocotools compressed RLE string, read by :mod:`eval.mots_io`), with
``object_id = class_id * 1000 + instance``. Class 1 is car, 2 pedestrian, 10 an ignore
region (``object_id`` 10000).

- Categories are ``car`` (1) and ``pedestrian`` (2) for both flavours (MOTSChallenge has
  pedestrians only), so one model config serves both.
- Objects keep their mask (``Frame.masks``, the row's RLE), get the box around it and a
  track id unique across the dataset; ``Frame.frame_index`` is the 0-based frame.
- An ignore region ignores every class: it becomes one ``iscrowd`` entry per category
  (same mask and box, track id -1).
- A row whose mask is empty is skipped, counted as ``empty_mask``.
- An ``object_id`` that does not encode its class, an unknown class, an id twice in one
  frame, a frame without image, an image size differing from the sequence's, an RLE whose
  runs do not cover that size (malformed or truncated), or a malformed line is an :class:`AnnotationError` naming
  ``<file>:<line>``. (Overlapping masks are not checked here; the MOTS evaluation does.)

Splits: KITTI-MOTS ``train`` / ``val`` are the sequences of the MOTS paper's split (12 /
9 of the 21 training sequences); MOTSChallenge releases no validation split, so there
``train`` / ``val`` are the first / second half of every sequence (as
:func:`~datamodules.adapters.motchallenge.split_frames`). ``all`` is everything.
Image sizes come from ``seqinfo.ini`` (MOTSChallenge) or the first image's header (KITTI).
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Container, Sequence

from PIL import Image

from datamodules.adapters.common import (
    IdAllocator, Instance, frame_from_instances, listed_files, mask_box, reraise_as_annotation_error, rle_counts,
)
from datamodules.adapters.motchallenge import read_seqinfo, sequence_images, split_frames
from datamodules.schema import AnnotationError, Category, Frame, SkipLog, Video, VideoIndex
from eval.mots_io import MotsRows, read_mots_txt

__all__ = ["KITTI_MOTS_SEQUENCES", "mots_split"]

CATEGORIES = [Category(1, "car"), Category(2, "pedestrian")]
IGNORE_CLASS = 10
FLAVOURS = ("motschallenge", "kitti_mots")
SPLITS = ("train", "val", "all")
#: The KITTI-MOTS train / val split of the MOTS paper (TrackR-CNN), by sequence number.
KITTI_MOTS_SEQUENCES = {
    "train": (0, 1, 3, 4, 5, 9, 11, 12, 15, 17, 19, 20),
    "val": (2, 6, 7, 8, 10, 13, 14, 16, 18),
}


@dataclass(frozen=True)
class _Sequence:
    """One sequence: its gt file, the gt frame numbers it may use, the images of the
    split's frames (gt frame number -> path) and the 0-based index of gt frame ``f``
    (``f - first_frame``)."""

    name: str
    gt: Path
    valid_frames: Container[int]
    images: dict[int, Path]
    width: int
    height: int
    first_frame: int


def mots_split(
    root: str | os.PathLike, split: str = "train", *, flavour: str = "motschallenge",
    sequences: Sequence[str] | None = None,
) -> VideoIndex:
    """One split (``train``, ``val``, ``all``; see the module docstring) of MOTSChallenge or
    KITTI-MOTS under ``root``.

    Args:
        flavour: ``motschallenge`` or ``kitti_mots`` (the on-disk layout and frame base).
        sequences: sequence names to keep (``MOTS20-02``, ``0002``); default: all of the split.
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {FLAVOURS}, got {flavour!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    found = _motschallenge_sequences(root, split) if flavour == "motschallenge" else _kitti_sequences(root, split)
    if sequences is not None:
        unknown = sorted(set(sequences) - {s.name for s in found})
        if unknown:
            raise AnnotationError(f"{root}: no {flavour} sequence(s) {', '.join(unknown)} in split {split!r}")
        found = [s for s in found if s.name in set(sequences)]
    skipped = SkipLog()
    track_ids, image_ids = IdAllocator(), IdAllocator()
    videos = [Video(video_id=i, name=seq.name, frames=_frames(seq, track_ids, image_ids, skipped))
              for i, seq in enumerate(found, start=1)]
    return VideoIndex(videos=videos, categories=list(CATEGORIES), source=f"{root} ({flavour})", split=split,
                      skipped=skipped.counts, skip_examples=skipped.examples)


def _motschallenge_sequences(root: Path, split: str) -> list[_Sequence]:
    folder = root / "train"
    dirs = sorted(p for p in folder.iterdir() if (p / "gt" / "gt.txt").is_file()) if folder.is_dir() else []
    if not dirs:
        raise AnnotationError(f"{folder}: no sequences (expected <root>/train/MOTS20-XX/gt/gt.txt)")
    out = []
    for seq_dir in dirs:
        info = read_seqinfo(seq_dir / "seqinfo.ini")
        images = sequence_images(seq_dir / info.im_dir, info, split_frames(info.length, split), seq_dir.name)
        out.append(_Sequence(seq_dir.name, seq_dir / "gt" / "gt.txt", range(1, info.length + 1), images,
                             info.width, info.height, first_frame=1))
    return out


def _kitti_sequences(root: Path, split: str) -> list[_Sequence]:
    gt_dir = root / "instances_txt"
    gts = sorted(p for p in gt_dir.glob("*.txt") if p.stem.isdigit())
    if not gts:
        raise AnnotationError(f"{gt_dir}: no <seq:04d>.txt files")
    if split != "all":
        gts = [p for p in gts if int(p.stem) in KITTI_MOTS_SEQUENCES[split]]
    out = []
    for gt in gts:
        image_dir = root / "training" / "image_02" / gt.stem
        names = sorted(n for n in listed_files(image_dir) if n.endswith(".png") and n[:-4].isdigit())
        if not names:
            raise AnnotationError(f"{image_dir}: no <frame:06d>.png images for {gt}")
        images = {int(n[:-4]): image_dir / n for n in names}
        with Image.open(image_dir / names[0]) as im:  # reads the header only
            width, height = im.size
        out.append(_Sequence(gt.stem, gt, frozenset(images), images, width, height, first_frame=0))
    return out


def _frames(seq: _Sequence, track_ids: IdAllocator, image_ids: IdAllocator, skipped: SkipLog) -> list[Frame]:
    with reraise_as_annotation_error():
        rows = read_mots_txt(seq.gt)
    per_frame = _instances(seq, rows, track_ids, skipped)
    return [frame_from_instances(path, seq.width, seq.height, frame - seq.first_frame,
                                 image_ids((seq.name, frame)), per_frame.get(frame, []), with_masks=True)
            for frame, path in sorted(seq.images.items())]


def _instances(seq: _Sequence, rows: MotsRows, track_ids: IdAllocator, skipped: SkipLog) -> dict[int, list[Instance]]:
    """Gt frame number -> instances of the split's frames (rules in the module docstring)."""
    label_of = {c.id: i for i, c in enumerate(CATEGORIES)}
    per_frame: dict[int, list[Instance]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for i in range(len(rows.frame)):
        where = rows.where(i)
        frame, object_id, cls = int(rows.frame[i]), int(rows.ids[i]), int(rows.classes[i])
        if frame not in seq.valid_frames:
            raise AnnotationError(f"{where}: frame {frame} has no image in {seq.name}")
        if cls not in label_of and cls != IGNORE_CLASS:
            raise AnnotationError(f"{where}: unknown class {cls} (1 car, 2 pedestrian, 10 ignore)")
        if object_id // 1000 != cls:
            raise AnnotationError(f"{where}: object_id {object_id} does not encode class {cls} "
                                  f"(object_id = class_id * 1000 + instance)")
        if (int(rows.height[i]), int(rows.width[i])) != (seq.height, seq.width):
            raise AnnotationError(f"{where}: image size {rows.height[i]}x{rows.width[i]} (h x w) differs from "
                                  f"the sequence's {seq.height}x{seq.width}")
        if frame not in seq.images:
            continue  # the other half of a MOTSChallenge sequence
        if (frame, object_id) in seen:
            raise AnnotationError(f"{where}: object_id {object_id} appears twice in frame {frame}")
        seen.add((frame, object_id))
        rle = {"size": [seq.height, seq.width], "counts": rows.rles[i].decode("ascii", "replace")}
        runs = rle_counts(rle["counts"])
        if runs is None or runs.min() < 0 or runs.sum() != seq.height * seq.width:
            raise AnnotationError(f"{where}: malformed or truncated RLE (its runs do not cover the "
                                  f"{seq.height}x{seq.width} image)")
        box = mask_box(rle)
        if box is None:
            skipped.add("empty_mask", where)
            continue
        if cls == IGNORE_CLASS:
            per_frame[frame] += [Instance(box, label, iscrowd=True, mask=rle) for label in label_of.values()]
        else:
            per_frame[frame].append(Instance(box, label_of[cls], track_ids((seq.name, object_id)), mask=rle))
    return per_frame
