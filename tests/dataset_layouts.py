"""Helpers for the dataset-adapter tests: tiny images, and a data config composed and its
sources parsed on a tiny dataset written in the real on-disk layout."""
from __future__ import annotations

from pathlib import Path

from hydra.utils import instantiate
from PIL import Image

from conftest import compose_train
from datamodules.schema import VideoIndex

WIDTH, HEIGHT = 32, 24


def write_image(path: Path, size: tuple[int, int] = (WIDTH, HEIGHT)) -> Path:
    """A ``size = (width, height)`` image at ``path`` (PNG for ``.png``, JPEG otherwise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 120, 30)).save(path, format="PNG" if path.suffix == ".png" else "JPEG")
    return path


def load_data_config(name: str, root: Path, *overrides: str) -> tuple[list[VideoIndex], VideoIndex]:
    """Compose train.yaml with ``data=<name> data.root=<root>`` and parse its train and val
    sources as ``TrackingDataModule.setup`` does (without importing torch: the DataModule
    has its own tests); every index must have ``data.num_classes`` categories."""
    cfg = compose_train([f"data={name}", f"data.root={root}", *overrides])
    assert cfg.data._target_ == "datamodules.datamodule.TrackingDataModule"
    train = [instantiate(source)() for source in cfg.data.train_sources.values()]
    val = instantiate(cfg.data.val_source)()
    for index in [*train, val]:
        assert len(index.categories) == cfg.data.num_classes
    return train, val
