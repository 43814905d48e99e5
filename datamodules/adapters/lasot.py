"""Adapter for LaSOT (Fan et al., CVPR 2019), as distributed::

    <root>/<category>/<category>-<n>/img/00000001.jpg ...   frames (30 Hz)
                                    /groundtruth.txt         x,y,w,h per frame (comma separated)
                                    /full_occlusion.txt      one line: 0/1 per frame, comma separated
                                    /out_of_view.txt         one line: 0/1 per frame, comma separated
                                    /nlp.txt                 language description (not used)

70 categories (:data:`LASOT_CATEGORIES`), 20 sequences each (1400). One video and one track
per sequence; frames that are fully occluded or out of view have no box.

Splits. Protocol II, used by every paper reporting LaSOT, trains on 1120 sequences (16 per
category) and tests on 280 (4 per category). The split is distributed as name lists, one
sequence per line (``airplane-1``): ``testing_set.txt`` ships with the LaSOT evaluation
toolkit (``sequence_evaluation_config/testing_set.txt``, beside ``all_dataset.txt``), and
``training_set.txt`` / ``testing_set.txt`` with the dataset download page. Copy them to the
dataset root (``conf/data/lasot.yaml`` expects them there) and pass one as ``split_file``.
Without ``split_file`` every sequence under ``root`` is indexed (e.g. the test-only download
``LaSOTTest``, or protocol I: all 1400).

Categories: ``class_agnostic=True`` (default; SOT trackers and the benchmark are class-
agnostic) gives one ``object`` category; ``False`` gives the 70 categories, labelled in
alphabetical order (``Category.id`` = that index). A category folder or split-list entry
whose category is not one of the 70, or whose name is not ``<category>-<n>``, is an error.
Other rules and errors: :mod:`datamodules.adapters.sot_common`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from datamodules.adapters.index_cache import cached_index
from datamodules.adapters.sot_common import (
    OBJECT, Sequence, annotation_files, load_single_target_sequences, read_name_list)
from datamodules.schema import AnnotationError, Category, VideoIndex

__all__ = ["LASOT_CATEGORIES", "load_lasot"]

LASOT_CATEGORIES = (
    "airplane", "basketball", "bear", "bicycle", "bird", "boat", "book", "bottle", "bus", "car", "cat",
    "cattle", "chameleon", "coin", "crab", "crocodile", "cup", "deer", "dog", "drone", "electricfan",
    "elephant", "flag", "fox", "frog", "gametarget", "gecko", "giraffe", "goldfish", "gorilla", "guitar",
    "hand", "hat", "helmet", "hippo", "horse", "kangaroo", "kite", "leopard", "licenseplate", "lion",
    "lizard", "microphone", "monkey", "motorcycle", "mouse", "person", "pig", "pool", "rabbit", "racing",
    "robot", "rubicCube", "sepia", "shark", "sheep", "skateboard", "spider", "squirrel", "surfboard",
    "swing", "tank", "tiger", "train", "truck", "turtle", "umbrella", "volleyball", "yoyo", "zebra",
)
_SEQUENCE_NAME = re.compile(r"(?P<category>.+)-(?P<number>\d+)")


def load_lasot(
    root: str | os.PathLike, *, split: str = "", split_file: str | os.PathLike | None = None,
    class_agnostic: bool = True, cache_dir: str | os.PathLike | None = None, box_tolerance: float = 1.0,
) -> VideoIndex:
    """Index LaSOT sequences (layout, splits and rules in the module docstring).

    Args:
        root: the folder holding the category folders.
        split: recorded in ``VideoIndex.split`` (``train`` / ``test``).
        split_file: a name list (``testing_set.txt``); default: every sequence under root.
        class_agnostic: one ``object`` category instead of the 70.
        cache_dir: where the parsed index is cached (:mod:`~datamodules.adapters.index_cache`,
            keyed by the split file and every sequence's annotation files); ``None`` parses
            every time.
        box_tolerance: see :mod:`datamodules.adapters.box_checks`.
    """
    root = Path(root)
    names = _listed_sequences(Path(split_file)) if split_file is not None else _found_sequences(root)
    label_of = {name: i for i, name in enumerate(LASOT_CATEGORIES)}
    sequences = []
    for name, category, where in names:
        seq_dir = root / category / name
        if not seq_dir.is_dir():
            raise AnnotationError(f"{where}: sequence folder {seq_dir} missing")
        sequences.append(Sequence(name, seq_dir, seq_dir / "img", 0 if class_agnostic else label_of[category]))

    def parse() -> VideoIndex:
        videos, skipped = load_single_target_sequences(
            sequences, first_frame_only=False, box_tolerance=box_tolerance,
            desc=f"indexing LaSOT {split}".rstrip())
        categories = [OBJECT] if class_agnostic else [Category(i, c) for i, c in enumerate(LASOT_CATEGORIES)]
        return VideoIndex(videos=videos, categories=categories, source=str(split_file or root), split=split,
                          skipped=skipped.counts, skip_examples=skipped.examples)

    options = {"adapter": "lasot", "root": str(root), "split": split, "class_agnostic": class_agnostic,
               "box_tolerance": box_tolerance}
    inputs = [*([split_file] if split_file is not None else []), *annotation_files(sequences)]
    return cached_index(cache_dir, inputs, options, parse)


def _category(name: str, where: str) -> str:
    """The category of a sequence name ``<category>-<n>``."""
    match = _SEQUENCE_NAME.fullmatch(name)
    if match is None:
        raise AnnotationError(f"{where}: {name!r} is not a LaSOT sequence name '<category>-<n>'")
    if match["category"] not in LASOT_CATEGORIES:
        raise AnnotationError(f"{where}: unknown LaSOT category {match['category']!r}")
    return match["category"]


def _listed_sequences(split_file: Path) -> list[tuple[str, str, str]]:
    """``(name, category, where)`` of every sequence in a split list, in list order."""
    named = [(name, f"{split_file}:{line}") for line, name in read_name_list(split_file)]
    return [(name, _category(name, where), where) for name, where in named]


def _found_sequences(root: Path) -> list[tuple[str, str, str]]:
    """``(name, category, where)`` of every ``<category>/<category>-<n>`` folder, ordered by
    category and number; hidden entries and plain files are ignored."""
    if not root.is_dir():
        raise AnnotationError(f"{root}: LaSOT root folder missing")
    found = []
    for category_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if category_dir.name not in LASOT_CATEGORIES:
            raise AnnotationError(f"{category_dir}: unknown LaSOT category {category_dir.name!r}")
        for seq_dir in category_dir.iterdir():
            if seq_dir.is_dir() and not seq_dir.name.startswith("."):
                if _category(seq_dir.name, str(seq_dir)) != category_dir.name:
                    raise AnnotationError(f"{seq_dir}: sequence of another category in {category_dir}")
                found.append((seq_dir.name, category_dir.name, str(seq_dir)))
    if not found:
        raise AnnotationError(f"{root}: no LaSOT sequence folders '<category>/<category>-<n>'")
    return sorted(found, key=lambda s: (s[1], int(s[0].rsplit("-", 1)[1])))
