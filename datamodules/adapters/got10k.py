"""Adapter for GOT-10k (Huang et al., TPAMI 2019), as distributed::

    <root>/<split>/list.txt                            sequence names, one per line
    <root>/<split>/GOT-10k_Train_000001/00000001.jpg   frames 00000001.jpg ... (10 Hz)
                                      /groundtruth.txt x,y,w,h per frame (test: first frame only)
                                      /absence.label   1 = target absent (train, val)
                                      /cover.label     0..8 visible ratio; 0 = fully covered
                                      /cut_by_image.label  1 = cut by the image border (not used)
                                      /meta_info.ini   resolution: (W, H), object and motion class

``split`` is ``train``, ``val`` or ``test``. One video and one track per sequence, in
``list.txt`` order, one class-agnostic category (GOT-10k's train and test classes are
disjoint by design). Absent frames (``absence.label`` 1 or ``cover.label`` 0) have no box.
In ``test`` only the first frame is labelled: the other frames carry no box because they are
*unlabelled*, not because the target is absent. Rules and errors:
:mod:`datamodules.adapters.sot_common`; a ``list.txt`` entry without its folder is an error
naming the list line.
"""
from __future__ import annotations

import os
from pathlib import Path

from datamodules.adapters.index_cache import cached_index
from datamodules.adapters.sot_common import (
    OBJECT, Sequence, annotation_files, load_single_target_sequences, read_name_list)
from datamodules.schema import AnnotationError, VideoIndex

__all__ = ["load_got10k"]


def load_got10k(
    root: str | os.PathLike, split: str = "train", *, cache_dir: str | os.PathLike | None = None,
    box_tolerance: float = 1.0,
) -> VideoIndex:
    """Index one GOT-10k split (layout and rules in the module docstring).

    Args:
        root: the folder holding ``train/``, ``val/``, ``test/``.
        split: which of them.
        cache_dir: where the parsed index is cached (:mod:`~datamodules.adapters.index_cache`,
            keyed by ``list.txt`` and every sequence's annotation files); ``None`` parses
            every time.
        box_tolerance: see :mod:`datamodules.adapters.box_checks`.
    """
    split_dir = Path(root) / split
    list_file = split_dir / "list.txt"
    sequences = []
    for line, name in read_name_list(list_file):
        if not (split_dir / name).is_dir():
            raise AnnotationError(f"{list_file}:{line}: sequence folder {split_dir / name} missing")
        sequences.append(Sequence(name, split_dir / name, split_dir / name))

    def parse() -> VideoIndex:
        videos, skipped = load_single_target_sequences(
            sequences, first_frame_only=split == "test", box_tolerance=box_tolerance,
            desc=f"indexing GOT-10k {split}")
        return VideoIndex(videos=videos, categories=[OBJECT], source=str(split_dir), split=split,
                          skipped=skipped.counts, skip_examples=skipped.examples)

    options = {"adapter": "got10k", "split_dir": str(split_dir), "box_tolerance": box_tolerance}
    return cached_index(cache_dir, [list_file, *annotation_files(sequences)], options, parse)
