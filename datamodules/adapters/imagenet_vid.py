"""ImageNet VID (ILSVRC2015 VID, Russakovsky et al. IJCV 2015), as distributed
(image-net.org, ``ILSVRC2015_VID.tar.gz``; layout of the devkit's readme)::

    <root>/Data/VID/train/ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000/000000.JPEG ...
    <root>/Data/VID/val/ILSVRC2015_val_00000000/000000.JPEG ...
    <root>/Annotations/VID/{train,val}/<snippet>/<frame:06d>.xml     (one per frame)
    <root>/ImageSets/VID/train_1.txt ... train_30.txt   "<snippet> <label>" per line:
        "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000 1"
    <root>/ImageSets/VID/val.txt                         "<snippet>/<frame> <index>" per line:
        "ILSVRC2015_val_00000000/000000 1"

An annotation file (PASCAL-VOC style)::

    <annotation>
      <folder>ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000</folder>
      <filename>000000</filename>
      <source><database>ILSVRC_2015</database></source>
      <size><width>1280</width><height>720</height></size>
      <object>
        <trackid>0</trackid>
        <name>n01674464</name>
        <bndbox><xmax>1050</xmax><xmin>323</xmin><ymax>529</ymax><ymin>97</ymin></bndbox>
        <occluded>0</occluded>
        <generated>0</generated>
      </object>
    </annotation>

Rules:

- ``train`` is every snippet listed in any ``train_<class>.txt`` (a snippet is listed once
  per category it contains; all are annotated for all 30 categories, so the label column is
  checked, not used), with every frame that has an XML file; ``val`` is the frames of
  ``val.txt``, in order. ``Frame.frame_index`` is the frame number of the file name.
- Categories are the 30 VID synsets in ILSVRC2015_VID_ID order (:data:`VID_CLASSES`);
  ``Category.id`` is that id, the WordNet id maps to it. A ``<name>`` outside the 30 is an
  error.
- Boxes are ``xmin, ymin, xmax, ymax`` as written (pixels). A box with non-positive width or
  height is skipped, counted as ``empty_box`` (``skip_empty_boxes=False``: an error); one
  reaching past the image is clipped (:mod:`~datamodules.adapters.box_checks`, counted as
  ``box_clipped`` past ``box_tolerance`` pixels); one with nothing inside it is an error.
- ``trackid`` is per snippet; track ids are made unique across the dataset. A trackid twice
  in one file, or a track changing category, is an error.
- Interpolated (``<generated>1``) and occluded boxes are kept as objects.
- A missing image, a malformed or truncated XML file or list line is an
  :class:`AnnotationError` naming the file and the record (``object #i`` / line).

Image sizes come from ``<size>``; no pixel is read. Train has ~1.1M XML files: parsing
takes minutes (``parse_workers`` processes, with a progress bar) and the parsed index is
cached under ``cache_dir`` (:mod:`~datamodules.adapters.index_cache`, keyed by the list
files and every snippet's annotation folder: path, size, mtime). Editing an XML file in
place does not change its folder's mtime: delete the cache entry after doing so.
"""
from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from datamodules.adapters.box_checks import clip_boxes_to_image
from datamodules.adapters.common import IdAllocator, listed_files, map_with_progress, merge_skips
from datamodules.adapters.index_cache import cached_index
from datamodules.schema import AnnotationError, Category, Frame, SkipLog, Video, VideoIndex

__all__ = ["VID_CLASSES", "imagenet_vid_split"]

#: (WordNet id, name) of the 30 VID categories, in ILSVRC2015_VID_ID order (1..30).
VID_CLASSES = (
    ("n02691156", "airplane"), ("n02419796", "antelope"), ("n02131653", "bear"),
    ("n02834778", "bicycle"), ("n01503061", "bird"), ("n02924116", "bus"),
    ("n02958343", "car"), ("n02402425", "cattle"), ("n02084071", "dog"),
    ("n02121808", "domestic_cat"), ("n02503517", "elephant"), ("n02118333", "fox"),
    ("n02510455", "giant_panda"), ("n02342885", "hamster"), ("n02374451", "horse"),
    ("n02129165", "lion"), ("n01674464", "lizard"), ("n02484322", "monkey"),
    ("n03790512", "motorcycle"), ("n02324045", "rabbit"), ("n02509815", "red_panda"),
    ("n02411705", "sheep"), ("n01726692", "snake"), ("n02355227", "squirrel"),
    ("n02129604", "tiger"), ("n04468005", "train"), ("n01662784", "turtle"),
    ("n04530566", "watercraft"), ("n02062744", "whale"), ("n02391049", "zebra"),
)
LABEL_OF_WNID = {wnid: label for label, (wnid, _) in enumerate(VID_CLASSES)}
SPLITS = ("train", "val")
IMAGE_EXT = ".JPEG"


def imagenet_vid_split(
    root: str | os.PathLike, split: str = "train", *, cache_dir: str | os.PathLike | None = None,
    parse_workers: int = 0, skip_empty_boxes: bool = True, box_tolerance: float = 1.0,
) -> VideoIndex:
    """One ImageNet VID split (``train`` or ``val``) under ``root`` (the ``ILSVRC2015`` folder).

    Args:
        cache_dir: where the parsed index is cached; ``None`` parses every time.
        parse_workers: processes parsing XML files (0: in this process).
        skip_empty_boxes: skip and count boxes of non-positive size instead of failing.
        box_tolerance: pixels a box may reach past the image before its clip is counted.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    list_files, snippets = _read_split_lists(root / "ImageSets" / "VID", split)
    tasks = [_SnippetTask(name, root / "Annotations" / "VID" / split / name, root / "Data" / "VID" / split / name,
                          frames, skip_empty_boxes, box_tolerance) for name, frames in snippets.items()]
    options = {"root": str(root), "split": split, "skip_empty_boxes": skip_empty_boxes, "box_tolerance": box_tolerance}
    build = partial(_build_index, tasks, split, parse_workers, str(root / "Annotations" / "VID" / split))
    return cached_index(cache_dir, [*list_files, *(t.ann_dir for t in tasks)], options, build)


def _read_split_lists(image_sets: Path, split: str) -> tuple[list[Path], dict[str, tuple[str, ...] | None]]:
    """The list files read and ``snippet -> frame names`` (``None``: every annotated frame)."""
    if split == "val":
        return [image_sets / "val.txt"], _read_val_list(image_sets / "val.txt")
    numbered = [(int(m.group(1)), p) for p in image_sets.glob("train_*.txt")
                if (m := re.fullmatch(r"train_(\d+)\.txt", p.name))]
    if not numbered:
        raise AnnotationError(f"{image_sets}: no train_<class>.txt snippet lists")
    files = [p for _, p in sorted(numbered)]
    snippets: dict[str, None] = {}
    for path in files:
        for where, (snippet, label) in _list_lines(path):
            _integer(label, where, "label")
            snippets[snippet] = None
    return files, dict(sorted(snippets.items()))


def _read_val_list(path: Path) -> dict[str, tuple[str, ...]]:
    frames: dict[str, list[str]] = {}
    for where, (frame_path, index) in _list_lines(path):
        _integer(index, where, "frame index")
        snippet, _, frame = frame_path.rpartition("/")
        if not snippet or not frame.isdigit():
            raise AnnotationError(f"{where}: expected <snippet>/<frame:06d>, got {frame_path!r}")
        frames.setdefault(snippet, []).append(frame)
    return {snippet: tuple(names) for snippet, names in frames.items()}


def _list_lines(path: Path):
    """``("<file>:<line>", (field, field))`` for the non-blank lines of a list file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise AnnotationError(f"{path}: split list missing") from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise AnnotationError(f"{path}:{lineno}: expected 2 space-separated fields, got {line!r}")
        yield f"{path}:{lineno}", tuple(fields)


def _integer(text: str, where: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise AnnotationError(f"{where}: {what} {text!r} is not an integer") from None


@dataclass(frozen=True)
class _SnippetTask:
    name: str
    ann_dir: Path
    image_dir: Path
    frames: tuple[str, ...] | None  # None: every XML file of ann_dir
    skip_empty_boxes: bool
    box_tolerance: float


@dataclass
class _ParsedFrame:
    name: str  # "000012"
    width: int
    height: int
    boxes: np.ndarray  # (N, 4) float32 x1 y1 x2 y2
    labels: list[int]
    local_track_ids: list[int]


@dataclass
class _ParsedSnippet:
    frames: list[_ParsedFrame]
    skipped: SkipLog = field(default_factory=SkipLog)


def _build_index(tasks: list[_SnippetTask], split: str, workers: int, source: str) -> VideoIndex:
    parsed = map_with_progress(_parse_snippet, tasks, desc=f"ImageNet VID {split}", unit="snippet",
                               workers=workers)
    skipped = SkipLog()
    track_ids, image_ids = IdAllocator(), IdAllocator()
    videos = []
    for video_id, (task, snippet) in enumerate(zip(tasks, parsed), start=1):
        merge_skips(skipped, snippet.skipped)
        frames = [Frame(
            image_path=task.image_dir / f"{f.name}{IMAGE_EXT}", width=f.width, height=f.height,
            frame_index=int(f.name), image_id=image_ids((task.name, f.name)), boxes=f.boxes, labels=f.labels,
            track_ids=[track_ids((task.name, t)) for t in f.local_track_ids],
        ) for f in snippet.frames]
        videos.append(Video(video_id=video_id, name=task.name, frames=frames))
    categories = [Category(i, name) for i, (_, name) in enumerate(VID_CLASSES, start=1)]
    return VideoIndex(videos=videos, categories=categories, source=source, split=split,
                      skipped=skipped.counts, skip_examples=skipped.examples)


def _parse_snippet(task: _SnippetTask) -> _ParsedSnippet:
    """Parse one snippet's XML files (runs in a worker process)."""
    names = task.frames
    if names is None:
        names = sorted(n[:-4] for n in listed_files(task.ann_dir) if n.endswith(".xml") and n[:-4].isdigit())
        if not names:
            raise AnnotationError(f"{task.ann_dir}: no annotation files for snippet {task.name}")
    images = listed_files(task.image_dir)
    result = _ParsedSnippet(frames=[])
    track_labels: dict[int, tuple[int, Path]] = {}  # local trackid -> (label, first file)
    for name in names:
        xml = task.ann_dir / f"{name}.xml"
        frame = _parse_xml(xml, name, task, result.skipped)
        if f"{name}{IMAGE_EXT}" not in images:
            raise AnnotationError(f"{task.image_dir / (name + IMAGE_EXT)}: image missing (annotated by {xml})")
        for tid, label in zip(frame.local_track_ids, frame.labels):
            first = track_labels.setdefault(tid, (label, xml))
            if first[0] != label:
                raise AnnotationError(f"{xml}: trackid {tid} is {VID_CLASSES[label][0]} here but "
                                      f"{VID_CLASSES[first[0]][0]} in {first[1]}")
        result.frames.append(frame)
    return result


def _parse_xml(path: Path, name: str, task: _SnippetTask, skipped: SkipLog) -> _ParsedFrame:
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise AnnotationError(f"{path}: annotation file missing") from None
    except ET.ParseError as err:
        line, col = err.position
        raise AnnotationError(f"{path}: not valid XML (line {line} col {col}): {err}") from None
    width = _number(root, "size/width", str(path), "a positive integer")
    height = _number(root, "size/height", str(path), "a positive integer")
    boxes, labels, tids, wheres = [], [], [], []
    for i, obj in enumerate(root.findall("object")):
        where = f"{path}: object #{i}"
        tid = _number(obj, "trackid", where, "an integer")
        wnid = (obj.findtext("name") or "").strip()
        if wnid not in LABEL_OF_WNID:
            raise AnnotationError(f"{where}: unknown category {wnid!r} (not one of the 30 VID synsets)")
        if tid in tids:
            raise AnnotationError(f"{where}: trackid {tid} appears twice in this frame")
        box = [_number(obj, f"bndbox/{k}", where) for k in ("xmin", "ymin", "xmax", "ymax")]
        if box[2] <= box[0] or box[3] <= box[1]:
            if not task.skip_empty_boxes:
                raise AnnotationError(f"{where}: box (xmin, ymin, xmax, ymax) {box} has a non-positive size")
            skipped.add("empty_box", where)
            continue
        boxes.append(box)
        labels.append(LABEL_OF_WNID[wnid])
        tids.append(tid)
        wheres.append(where)
    clipped = clip_boxes_to_image(np.array(boxes), width, height, tolerance=task.box_tolerance,
                                  where=wheres.__getitem__, skipped=skipped)
    return _ParsedFrame(name, width, height, clipped, labels, tids)


def _number(element: ET.Element, tag: str, where: str, kind: str = "a number") -> float | int:
    """The number in ``element``'s ``tag``; ``kind``: ``a number``, ``an integer`` or
    ``a positive integer`` (both returned as int)."""
    text = element.findtext(tag)
    if text is None:
        raise AnnotationError(f"{where}: lacks <{tag}>")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and (kind == "a number" or value.is_integer())
            and (kind != "a positive integer" or value > 0)):
        raise AnnotationError(f"{where}: <{tag}> {text.strip()!r} is not {kind}")
    return value if kind == "a number" else int(value)
