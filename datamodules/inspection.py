"""``python -m datamodules inspect``: count and validate the sources of a data config.

Composes ``conf/inspect.yaml`` with Hydra overrides (``data=<name> data.root=<path>``),
parses every train source and the evaluation split, and prints JSON counts per source.
It is a validator too: the exit status is 1 when any source raises
:class:`~datamodules.schema.AnnotationError` (or cannot be read), drops records
(``VideoIndex.skipped``), has a category count other than ``num_classes`` where labels
are trained, or (``decode_images=true``) has an image that does not decode; each problem
is printed to stderr naming the file and the record.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from omegaconf import DictConfig

from datamodules.datamodule import LABELLED_MODES, TrackingDataModule
from datamodules.datasets import load_frame
from datamodules.schema import AnnotationError, VideoIndex

REPO = Path(__file__).resolve().parents[1]


def index_counts(index: VideoIndex) -> dict:
    """Sizes of a parsed split, and what its adapter skipped (reason -> count, examples)."""
    frames = [frame for _, frame in index.frames()]
    return {
        "source": index.source, "split": index.split,
        "videos": len(index.videos), "frames": len(frames),
        "annotations": sum(len(f) for f in frames),
        "tracks": len({int(t) for f in frames for t in f.track_ids if t >= 0}),
        "categories": len(index.categories),
        "masks": sum(len(f.masks) for f in frames if f.masks is not None),
        "crowd": int(sum(f.iscrowd.sum() for f in frames)),
        "skipped": dict(index.skipped), "skip_examples": dict(index.skip_examples),
    }


def index_problems(name: str, index: VideoIndex, num_classes: int | None, decode_images: bool) -> list[str]:
    """What makes a parsed split unfit for training, one message per problem."""
    problems = [f"{name}: {count} record(s) skipped ({reason}), e.g. {index.skip_examples.get(reason, [])}"
                for reason, count in index.skipped.items()]
    if num_classes is not None and len(index.categories) != num_classes:
        problems.append(f"{name}: {index.source} has {len(index.categories)} categories, "
                        f"but the config's num_classes is {num_classes}")
    if decode_images:
        for video, frame in index.frames():
            try:
                load_frame(video, frame)
            except AnnotationError as err:
                problems.append(f"{name}: {err}")
    return problems


def inspect_data(datamodule: TrackingDataModule, decode_images: bool = False) -> tuple[dict, list[str]]:
    """Parse every source of ``datamodule``; returns (counts per source, problems)."""
    report, problems = {}, []
    named = [(f"train/{s.name}", s.load, s.sampling) for s in datamodule.sources]
    for name, load, sampling in [*named, ("val", datamodule.val_source, None)]:
        try:
            index = load()
        except (AnnotationError, OSError) as err:
            report[name] = {"error": str(err)}
            problems.append(f"{name}: {err}")
            continue
        report[name] = index_counts(index)
        labelled = sampling is None or sampling in LABELLED_MODES
        problems += index_problems(name, index, datamodule.num_classes if labelled else None, decode_images)
        if sampling is not None:
            dataset = datamodule.sampling_dataset(index, sampling)
            report[name]["sampling"] = {"mode": sampling, "items": len(dataset),
                                        "skipped": dict(getattr(dataset, "skipped", {}))}
    return report, problems


def compose_inspect(overrides: list[str]) -> DictConfig:
    os.environ.setdefault("TRACKZOO_ROOT", str(REPO))
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose(config_name="inspect", overrides=overrides, return_hydra_config=True)


def main(overrides: list[str]) -> int:
    """Print the JSON report; 0 when every source is clean, 1 otherwise."""
    cfg = compose_inspect(overrides)
    report, problems = inspect_data(instantiate(cfg.data), cfg.decode_images)
    print(json.dumps({"data": cfg.hydra.runtime.choices.data, "root": cfg.data.get("root"),
                      "sources": report, "valid": not problems, "problems": problems}, indent=2, default=str))
    for problem in problems:
        print(f"INVALID {problem}", file=sys.stderr)
    return 1 if problems else 0
