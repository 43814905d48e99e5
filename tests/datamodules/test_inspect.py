"""``python -m datamodules inspect``: counts per source, and exit status as a validator."""
from __future__ import annotations

import json
import runpy
import shutil
import sys

import pytest

from conftest import TINY_WORLD
from datamodules.__main__ import main


@pytest.fixture()
def world(data_dir, tmp_path):
    """A private copy of the tiny synthetic world (tests corrupt it)."""
    root = tmp_path / "synthetic"
    shutil.copytree(data_dir / "synthetic", root)
    return root


def inspect(root, *extra, capsys) -> tuple[int, dict, str]:
    code = main(["inspect", "data=synthetic", f"data.root={root}", *TINY_WORLD, *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def expected_counts(annotation_file) -> dict:
    data = json.loads(annotation_file.read_text())
    anns = data["annotations"]
    return {
        "videos": len(data["videos"]), "frames": len(data["images"]), "annotations": len(anns),
        "tracks": len({a["track_id"] for a in anns}), "categories": len(data["categories"]),
        "masks": sum("segmentation" in a for a in anns), "skipped": {},
    }


def test_clean_world_is_valid_with_its_counts(world, capsys):
    code, report, err = inspect(world, capsys=capsys)
    assert code == 0 and report["valid"] and not err
    assert report["data"] == "synthetic" and report["root"] == str(world)
    for name, split in (("train/synthetic", "train"), ("val", "val")):
        counts = report["sources"][name]
        assert {k: counts[k] for k in expected_counts(world / "annotations" / f"{split}.json")} == \
            expected_counts(world / "annotations" / f"{split}.json")
    assert report["sources"]["train/synthetic"]["sampling"]["mode"] == "clip"


def test_corrupted_annotation_file_is_named(world, capsys):
    path = world / "annotations" / "val.json"
    path.write_text(path.read_text()[:300])
    code, report, err = inspect(world, capsys=capsys)
    assert code == 1 and not report["valid"]
    assert "val.json" in report["sources"]["val"]["error"] and "val.json" in err
    assert report["sources"]["train/synthetic"]["frames"] == 20


def test_skipped_records_fail_with_reason_and_examples(world, capsys):
    path = world / "annotations" / "train.json"
    data = json.loads(path.read_text())
    data["videos"].append({"id": 999, "name": "empty"})
    path.write_text(json.dumps(data))
    code, report, err = inspect(world, capsys=capsys)
    assert code == 1 and report["sources"]["train/synthetic"]["skipped"] == {"video_without_images": 1}
    assert "video_without_images" in err and "train.json: video id=999" in err


def test_undecodable_image_is_named_with_decode_images(world, capsys):
    image = sorted((world / "images").rglob("*.jpg"))[0]
    image.write_bytes(image.read_bytes()[:50])
    assert inspect(world, capsys=capsys)[0] == 0  # annotations alone are fine
    code, report, err = inspect(world, "decode_images=true", capsys=capsys)
    assert code == 1 and image.name in err


def test_command_line_exit_status(world, capsys, monkeypatch):
    """``python -m datamodules inspect ...`` (run in this interpreter: runpy, as ``-m`` does)."""
    (world / "annotations" / "train.json").write_text("{")
    monkeypatch.setattr(sys, "argv", ["datamodules", "inspect", "data=synthetic", f"data.root={world}", *TINY_WORLD])
    monkeypatch.delitem(sys.modules, "datamodules.__main__")  # runpy runs a fresh copy
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("datamodules", run_name="__main__")
    out, err = capsys.readouterr()
    assert exit_.value.code == 1 and "train.json" in err and json.loads(out)["valid"] is False
