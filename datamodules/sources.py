"""Dataset sources: callables returning a :class:`VideoIndex`, referenced by the data
configs (``conf/data/*.yaml``) as Hydra partials."""
from __future__ import annotations

from pathlib import Path

from datamodules.adapters.coco_video import load_coco_video
from datamodules.schema import VideoIndex
from datamodules.synthetic import SyntheticWorldConfig, ensure_world


def synthetic_split(root: str, split: str, world: dict | None = None) -> VideoIndex:
    """One split of the synthetic world at ``root``, generated first if missing or built
    from a different :class:`SyntheticWorldConfig` (``world`` holds field overrides)."""
    config = SyntheticWorldConfig(**dict(world or {}))  # unknown keys raise, never ignored
    root = ensure_world(config, root)
    return load_coco_video(Path(root) / "annotations" / f"{split}.json", Path(root) / "images", split=split)
