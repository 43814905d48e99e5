"""MOTChallenge (MOT16 / MOT17 / MOT20), as distributed (motchallenge.net)::

    <root>/train/<seq>/seqinfo.ini
    <root>/train/<seq>/img1/000001.jpg ...          (imDir / <frame:06d><imExt>)
    <root>/train/<seq>/gt/gt.txt
    <root>/train/<seq>/det/det.txt                  (public detections)
    <root>/test/<seq>/{seqinfo.ini, img1/, det/det.txt}   (no gt)

``seqinfo.ini``::

    [Sequence]
    name=MOT17-02-FRCNN
    imDir=img1
    frameRate=30
    seqLength=600
    imWidth=1920
    imHeight=1080
    imExt=.jpg

``gt.txt`` rows are ``frame, id, bb_left, bb_top, bb_width, bb_height, consider, class,
visibility``: frames 1-based, the box in pixels kept as written (``x1 = bb_left``,
``x2 = bb_left + bb_width``, the convention of :mod:`eval.mot_io`), ``consider`` 1 = evaluated,
0 = ignored. Class ids: 1 pedestrian, 2 person on vehicle, 3 car, 4 bicycle, 5 motorbike,
6 non-motorized vehicle, 7 static person, 8 distractor, 9 occluder, 10 occluder on the
ground, 11 occluder full, 12 reflection, 13 crowd (MOT20).

Rules, those of the benchmark's evaluation (TrackEval's MOT preprocessing):

- pedestrians (class 1) with ``consider=1`` are the objects: label 0 (``pedestrian``), track
  ids made unique across the dataset; ``Frame.frame_index = frame - 1``;
- rows of ``distractor_classes`` (default 2, 7, 8, 12; MOT20 adds 6) become ignore regions
  (``iscrowd``, track id -1) whatever their consider flag: the evaluation removes
  predictions matched to them;
- pedestrians with ``consider=0`` are skipped, counted as ``zero_marked`` (the evaluation
  drops them: neither objects nor ignore regions);
- rows of the other classes (vehicles, occluders, crowd) are skipped, counted as
  ``non_pedestrian_class``; a class id outside 1..13 is an error;
- a box with nothing inside the image is skipped (``box_outside_image``); one reaching past
  the border is clipped (:mod:`~datamodules.adapters.box_checks`, counted as
  ``box_clipped`` past 1 px);
- an id twice in one frame, a frame outside ``1..seqLength``, a malformed row or a missing
  image is an :class:`AnnotationError` naming ``gt.txt:<line>`` (or the image).

MOT17 ships every sequence three times (``-DPM``, ``-FRCNN``, ``-SDP``) with the same
frames and gt and different ``det.txt``; ``detector`` keeps one (sequences without such a
suffix, MOT16 / MOT20, are always kept).

Splits: MOTChallenge releases gt for ``train`` only, so ``train`` / ``val`` are the first /
second half of every train sequence (frames ``1..N//2`` and ``N//2+1..N``, the "half" split
of CenterTrack and ByteTrack); ``all`` is every train frame; ``test`` the test sequences
without annotations (to run trackers on).

Public detections: ``python -m trackers run tracker=sort detections=<root>/train out=<dir>``
reads ``<seq>/det/det.txt`` and ``seqinfo.ini`` in this layout directly;
:func:`public_detections` returns one sequence's as per-frame ``Detections``.
"""
from __future__ import annotations

import configparser
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from datamodules.adapters.box_checks import clip_boxes_to_image
from datamodules.adapters.common import IdAllocator, listed_files, reraise_as_annotation_error
from datamodules.schema import AnnotationError, Category, Frame, SkipLog, Video, VideoIndex
from eval.mot_io import read_mot_txt
from eval.mot_layout import data_line_numbers
from trackers.detections_io import read_mot_detections
from trackers.types import Detections

__all__ = ["SeqInfo", "motchallenge_split", "public_detections", "read_seqinfo", "sequence_images", "split_frames"]

PEDESTRIAN = 1
KNOWN_CLASSES = range(1, 14)
MOT17_DETECTORS = ("DPM", "FRCNN", "SDP")
SPLITS = ("train", "val", "all", "test")


@dataclass(frozen=True)
class SeqInfo:
    """The ``[Sequence]`` section of a ``seqinfo.ini`` (sizes in pixels)."""

    name: str
    im_dir: str
    length: int
    width: int
    height: int
    im_ext: str

    def image_name(self, frame: int) -> str:
        """File name of 1-based ``frame`` inside ``im_dir``: ``000001.jpg``."""
        return f"{frame:06d}{self.im_ext}"


def read_seqinfo(path: str | os.PathLike) -> SeqInfo:
    """Parse a MOTChallenge / MOTSChallenge ``seqinfo.ini``; errors name the file and key."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: seqinfo.ini missing")
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error as err:
        raise AnnotationError(f"{path}: not a valid ini file: {err}") from err
    if "Sequence" not in parser:
        raise AnnotationError(f"{path}: no [Sequence] section")
    section = parser["Sequence"]

    def get(key: str) -> str:
        if key not in section:
            raise AnnotationError(f"{path}: [Sequence] lacks {key}")
        return section[key].strip()

    def positive_int(key: str) -> int:
        value = get(key)
        if not value.isdigit() or int(value) <= 0:
            raise AnnotationError(f"{path}: [Sequence] {key}={value!r} is not a positive integer")
        return int(value)

    return SeqInfo(name=get("name"), im_dir=get("imDir"), length=positive_int("seqLength"),
                   width=positive_int("imWidth"), height=positive_int("imHeight"), im_ext=get("imExt"))


def sequence_images(image_dir: Path, info: SeqInfo, frames: range, sequence: str) -> dict[int, Path]:
    """``frame -> image path`` of the 1-based ``frames`` of a sequence; a missing image is an
    :class:`AnnotationError` naming it (one folder listing, no stat per frame)."""
    present = listed_files(image_dir)
    images = {frame: image_dir / info.image_name(frame) for frame in frames}
    for frame, path in images.items():
        if path.name not in present:
            raise AnnotationError(f"{path}: image missing (frame {frame} of {sequence})")
    return images


def split_frames(length: int, split: str) -> range:
    """1-based frames of a ``length``-frame sequence in ``split``: ``train`` the first half,
    ``val`` the second, ``all`` / ``test`` every frame."""
    half = length // 2
    return {"train": range(1, half + 1), "val": range(half + 1, length + 1)}.get(split, range(1, length + 1))


def motchallenge_split(
    root: str | os.PathLike, split: str = "train", *, detector: str | None = "FRCNN",
    sequences: Sequence[str] | None = None, distractor_classes: Sequence[int] = (2, 7, 8, 12),
) -> VideoIndex:
    """One split (``train``, ``val``, ``all``, ``test``; see the module docstring) of a
    MOTChallenge dataset under ``root``.

    Args:
        detector: which copy of the MOT17 sequences to keep (``DPM``, ``FRCNN``, ``SDP``);
            ``None`` keeps all three.
        sequences: sequence names to keep (default: all of the folder).
        distractor_classes: class ids that become ignore regions.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    folder = Path(root) / ("test" if split == "test" else "train")
    skipped = SkipLog()
    track_ids, image_ids = IdAllocator(), IdAllocator()
    videos = []
    for video_id, seq_dir in enumerate(_sequence_dirs(folder, detector, sequences), start=1):
        info = read_seqinfo(seq_dir / "seqinfo.ini")
        numbers = split_frames(info.length, split)
        objects = {} if split == "test" else _read_gt(
            seq_dir / "gt" / "gt.txt", info, numbers, set(distractor_classes), skipped)
        frames = _frames(seq_dir, info, numbers, objects, track_ids, image_ids, skipped)
        videos.append(Video(video_id=video_id, name=seq_dir.name, frames=frames))
    return VideoIndex(videos=videos, categories=[Category(PEDESTRIAN, "pedestrian")], source=str(folder),
                      split=split, skipped=skipped.counts, skip_examples=skipped.examples)


def public_detections(sequence_dir: str | os.PathLike) -> list[Detections]:
    """The public detections ``<sequence_dir>/det/det.txt``, one ``Detections`` per frame
    ``1..seqLength`` (boxes ``x1, y1, x2, y2`` pixels, the file's scores)."""
    sequence_dir = Path(sequence_dir)
    info = read_seqinfo(sequence_dir / "seqinfo.ini")
    with reraise_as_annotation_error():
        return read_mot_detections(sequence_dir / "det" / "det.txt", num_frames=info.length)


def _sequence_dirs(folder: Path, detector: str | None, names: Sequence[str] | None) -> list[Path]:
    if not folder.is_dir():
        raise AnnotationError(f"{folder}: folder missing (expected <root>/train/<seq>/seqinfo.ini)")
    found = sorted(p for p in folder.iterdir() if (p / "seqinfo.ini").is_file())
    if names is not None:
        unknown = sorted(set(names) - {p.name for p in found})
        if unknown:
            raise AnnotationError(f"{folder}: no sequence(s) {', '.join(unknown)}")
        found = [p for p in found if p.name in set(names)]
    if detector is not None:
        found = [p for p in found if _mot17_detector(p.name) in (None, detector)]
    if not found:
        raise AnnotationError(f"{folder}: no sequences (<seq>/seqinfo.ini) for detector={detector!r}")
    return found


def _mot17_detector(name: str) -> str | None:
    suffix = name.rsplit("-", 1)[-1]
    return suffix if suffix in MOT17_DETECTORS else None


@dataclass(frozen=True)
class _GtObject:
    object_id: int
    box: tuple[float, float, float, float]
    iscrowd: bool
    where: str


def _read_gt(
    gt: Path, info: SeqInfo, frames: range, distractors: set[int], skipped: SkipLog,
) -> dict[int, list[_GtObject]]:
    """Frame -> objects of ``frames`` in ``gt`` (rules in the module docstring)."""
    with reraise_as_annotation_error():
        rows = read_mot_txt(gt)
        lines = data_line_numbers(gt)
    if len(rows) and rows.shape[1] < 8:
        raise AnnotationError(f"{gt}: {rows.shape[1]} columns; gt rows need frame, id, box, consider, class")
    objects: dict[int, list[_GtObject]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for row, line in zip(rows.tolist(), lines.tolist()):
        where = f"{gt}:{line}"
        frame, object_id = _integer(row[0], where, "frame"), _integer(row[1], where, "id")
        cls = _integer(row[7], where, "class")
        if not 1 <= frame <= info.length:
            raise AnnotationError(f"{where}: frame {frame} outside 1..{info.length} (seqLength)")
        if cls not in KNOWN_CLASSES:
            raise AnnotationError(f"{where}: unknown class {cls} (MOTChallenge classes are 1..13)")
        if frame not in frames:
            continue
        if cls == PEDESTRIAN and row[6] == 0:
            skipped.add("zero_marked", where)
            continue
        if cls != PEDESTRIAN and cls not in distractors:
            skipped.add("non_pedestrian_class", where)
            continue
        x, y, w, h = row[2:6]
        if x >= info.width or y >= info.height or x + w <= 0 or y + h <= 0:
            skipped.add("box_outside_image", where)
            continue
        if (frame, object_id) in seen:
            raise AnnotationError(f"{where}: id {object_id} appears twice in frame {frame}")
        seen.add((frame, object_id))
        objects[frame].append(_GtObject(object_id, (x, y, x + w, y + h), cls != PEDESTRIAN, where))
    return objects


def _integer(value: float, where: str, what: str) -> int:
    if not float(value).is_integer():
        raise AnnotationError(f"{where}: {what} {value:g} is not an integer")
    return int(value)


def _frames(
    seq_dir: Path, info: SeqInfo, numbers: range, objects: dict[int, list[_GtObject]],
    track_ids: IdAllocator, image_ids: IdAllocator, skipped: SkipLog,
) -> list[Frame]:
    """The frames ``numbers`` (1-based) of a sequence, holding ``objects``."""
    frames = []
    for frame, image in sequence_images(seq_dir / info.im_dir, info, numbers, seq_dir.name).items():
        objs = objects.get(frame, [])
        boxes = clip_boxes_to_image(np.array([o.box for o in objs]), info.width, info.height, tolerance=1.0,
                                    where=lambda i: objs[i].where, skipped=skipped)
        frames.append(Frame(
            image_path=image, width=info.width, height=info.height, frame_index=frame - 1,
            image_id=image_ids((seq_dir.name, frame)), boxes=boxes, labels=np.zeros(len(objs), np.int64),
            track_ids=[-1 if o.iscrowd else track_ids((seq_dir.name, o.object_id)) for o in objs],
            iscrowd=[o.iscrowd for o in objs],
        ))
    return frames
