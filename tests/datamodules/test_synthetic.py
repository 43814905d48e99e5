import configparser
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from datamodules import synthetic
from datamodules.synthetic import (
    SyntheticWorldConfig,
    ensure_world,
    generate_world,
    simulate_video,
    world_is_current,
)

SMALL = dict(num_videos={"train": 2, "val": 1}, frames_per_video=12)


def small_config(**kw) -> SyntheticWorldConfig:
    return SyntheticWorldConfig(**{"seed": 3, **SMALL, **kw})


@pytest.fixture(scope="module")
def small_world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("small")
    return generate_world(small_config(), root, progress=False)


@pytest.fixture(scope="module")
def stats_world(tmp_path_factory) -> Path:
    """6 videos x 40 frames with the default (difficulty) settings."""
    root = tmp_path_factory.mktemp("stats")
    cfg = SyntheticWorldConfig(seed=11, num_videos={"train": 6}, frames_per_video=40)
    return generate_world(cfg, root, progress=False)


def load(root: Path, split: str) -> dict:
    return json.loads((root / "annotations" / f"{split}.json").read_text())


def tracks_by_frame(coco: dict) -> dict:
    """track id -> {frame_index: annotation}"""
    images = {im["id"]: im for im in coco["images"]}
    out = defaultdict(dict)
    for a in coco["annotations"]:
        out[a["track_id"]][images[a["image_id"]]["frame_index"]] = a
    return out


def iou_xywh(a, b) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


# ---------------------------------------------------------------------------------------
# Determinism, layout, ensure_world, CLI
# ---------------------------------------------------------------------------------------
def test_same_config_gives_identical_files_and_seed_changes_them(small_world, tmp_path):
    again = generate_world(small_config(), tmp_path / "again", progress=False)
    for split in ("train", "val"):
        a = (small_world / "annotations" / f"{split}.json").read_bytes()
        assert a == (again / "annotations" / f"{split}.json").read_bytes()
    name = "synth_train_0001"
    for rel in (f"mot/train/{name}/gt/gt.txt", f"mots/train/{name}.txt",
                f"images/train/{name}/000005.jpg"):
        assert (small_world / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = generate_world(small_config(seed=4), tmp_path / "other", progress=False)
    assert (other / "annotations/train.json").read_bytes() != (
        small_world / "annotations/train.json").read_bytes()


def test_adding_a_split_leaves_the_other_splits_unchanged(small_world, tmp_path):
    """The tune split is drawn from its own name: train and val stay byte for byte."""
    with_tune = generate_world(small_config(num_videos={**SMALL["num_videos"], "tune": 1}),
                               tmp_path / "tune", progress=False)
    for split in ("train", "val"):
        assert (with_tune / "annotations" / f"{split}.json").read_bytes() == (
            small_world / "annotations" / f"{split}.json").read_bytes()
    for rel in ("images/val/synth_val_0000/000007.jpg", "mot/train/synth_train_0001/gt/gt.txt"):
        assert (with_tune / rel).read_bytes() == (small_world / rel).read_bytes(), rel
    tune = load(with_tune, "tune")
    assert [v["name"] for v in tune["videos"]] == ["synth_tune_0000"]
    assert tune["annotations"] != load(small_world, "val")["annotations"]
    assert SyntheticWorldConfig().num_videos == {"train": 24, "val": 6, "tune": 6}
    # so a world with the extra split serves configs without it (older checkpoints),
    # but not one whose splits it drew in another order or number
    assert world_is_current(small_config(num_videos={**SMALL["num_videos"], "tune": 1}), with_tune)
    assert world_is_current(small_config(), with_tune)
    assert not world_is_current(small_config(num_videos={"val": 1, "train": 2}), with_tune)
    assert not world_is_current(small_config(num_videos={"train": 2, "val": 2}), with_tune)
    assert not world_is_current(small_config(seed=4), with_tune)
    assert not world_is_current(small_config(num_videos={**SMALL["num_videos"], "tune": 1}), small_world)
    record = json.loads((with_tune / "world.json").read_text())
    record["config"]["num_videos"] = [["train", 2], ["val", 1]]  # damaged by hand: rebuild
    (with_tune / "world.json").write_text(json.dumps(record))
    assert not world_is_current(small_config(), with_tune)


def test_layout_and_json_structure(small_world):
    cfg = small_config()
    record = json.loads((small_world / "world.json").read_text())
    assert record["format_version"] == synthetic.FORMAT_VERSION
    assert SyntheticWorldConfig.from_dict(record["config"]) == cfg
    all_track_ids = []
    for split, n in cfg.num_videos.items():
        coco = load(small_world, split)
        assert [c["name"] for c in coco["categories"]] == list(cfg.categories)
        assert [c["id"] for c in coco["categories"]] == [1, 2, 3]
        assert len(coco["videos"]) == n
        assert len(coco["images"]) == n * cfg.frames_per_video
        for v in coco["videos"]:
            assert v["name"].startswith(f"synth_{split}_")
            assert (v["width"], v["height"], v["length"]) == (128, 128, cfg.frames_per_video)
        for im in coco["images"]:
            # file_name is relative to <root>/images and starts with the split
            assert im["file_name"] == (f"{split}/synth_{split}_{im['video_id'] - 1:04d}/"
                                       f"{im['frame_index']:06d}.jpg")
            assert (small_world / "images" / im["file_name"]).is_file()
        track_ids = {t["id"] for t in coco["tracks"]}
        assert track_ids == {a["track_id"] for a in coco["annotations"]}
        for t in coco["tracks"]:
            app = t["appearance"]
            assert app["texture"] in synthetic.TEXTURES
            assert app["shape"] == cfg.categories[t["category_id"] - 1]
            assert len(app["colors"]) == 2 and all(len(c) == 3 for c in app["colors"])
        all_track_ids += sorted(track_ids)
        assert len({a["id"] for a in coco["annotations"]}) == len(coco["annotations"])
    assert len(all_track_ids) == len(set(all_track_ids)), "track ids must be unique across splits"


def test_ensure_world_skips_current_and_rebuilds_changed(tmp_path, monkeypatch):
    root = tmp_path / "w"
    cfg = small_config(num_videos={"train": 2}, frames_per_video=4)
    ensure_world(cfg, root, progress=False)
    assert world_is_current(cfg, root)
    calls = []
    real = synthetic.generate_world
    monkeypatch.setattr(synthetic, "generate_world",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    ensure_world(cfg, root, progress=False)
    assert calls == []
    smaller = small_config(num_videos={"train": 1}, frames_per_video=4)
    assert not world_is_current(smaller, root)
    ensure_world(smaller, root, progress=False)
    assert calls == [1]
    assert world_is_current(smaller, root) and not world_is_current(cfg, root)
    # rebuilt from scratch: the second video's stale files are gone
    assert not (root / "images/train/synth_train_0001").exists()
    assert not (root / "mots/train/synth_train_0001.txt").exists()
    # an incomplete world (no world.json) is rebuilt
    (root / "world.json").unlink()
    ensure_world(smaller, root, progress=False)
    assert calls == [1, 1] and (root / "world.json").is_file()


def test_cli(tmp_path, capsys):
    root = tmp_path / "cli"
    args = ["--root", str(root), "--seed", "5", "--train-videos", "1", "--val-videos", "1",
            "--tune-videos", "2", "--frames", "3", "--quiet"]
    assert synthetic.main(args) == 0
    rec = json.loads((root / "world.json").read_text())
    assert rec["config"]["seed"] == 5 and rec["config"]["frames_per_video"] == 3
    assert rec["config"]["num_videos"] == {"train": 1, "val": 1, "tune": 2}
    assert len(load(root, "val")["images"]) == 3 and len(load(root, "tune")["images"]) == 6
    capsys.readouterr()
    assert synthetic.main(args) == 0
    assert "up to date" in capsys.readouterr().out


def test_config_validation_and_roundtrip():
    cfg = SyntheticWorldConfig(categories=["box", "disc"], speed=[2, 3])
    assert cfg.categories == ("box", "disc") and cfg.speed == (2.0, 3.0)
    assert SyntheticWorldConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="categories"):
        SyntheticWorldConfig(categories=("disc", "star"))
    with pytest.raises(ValueError, match="min_visibility"):
        SyntheticWorldConfig(min_visibility=1.5)


# ---------------------------------------------------------------------------------------
# Annotation correctness
# ---------------------------------------------------------------------------------------
def test_boxes_are_tight_boxes_of_nonoverlapping_visible_masks(small_world):
    cfg = small_config()
    for split in cfg.num_videos:
        coco = load(small_world, split)
        by_image = defaultdict(list)
        for a in coco["annotations"]:
            by_image[a["image_id"]].append(a)
        assert by_image, "world has no annotations"
        for anns in by_image.values():
            union = np.zeros((cfg.height, cfg.width), np.int32)
            for a in anns:
                assert a["segmentation"]["size"] == [cfg.height, cfg.width]
                m = mask_utils.decode(a["segmentation"])
                ys, xs = np.nonzero(m)
                assert a["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                                     ys.max() - ys.min() + 1]
                assert a["area"] == int(m.sum())
                assert a["visibility"] >= cfg.min_visibility
                assert a["iscrowd"] == 0
                union += m
            assert union.max() <= 1, "visible masks of one frame overlap"


def test_visibility_threshold_in_simulation():
    cfg = small_config(num_videos={"train": 1}, frames_per_video=20)
    sim, frames = simulate_video(cfg, "train", 0)
    below = 0
    for fr in frames:
        for o in fr.objects:
            assert o.annotated == (o.visible_area >= cfg.min_visibility * o.full_area)
            ys, xs = np.nonzero(o.mask)
            assert o.box == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            below += not o.annotated
    assert below > 0, "no partially visible objects were filtered"

    # Raising the threshold only removes annotations (the random stream is unchanged).
    def anns(c):
        return {(fr.frame_index, o.object_index): o.box
                for fr in simulate_video(c, "train", 0)[1] for o in fr.annotations}

    low, high = anns(small_config(min_visibility=0.3)), anns(small_config(min_visibility=0.9))
    assert len(high) < len(low)
    assert all(low[k] == box for k, box in high.items())


def test_mot_and_mots_agree_with_json(small_world):
    cfg = small_config()
    for split in cfg.num_videos:
        coco = load(small_world, split)
        images = {im["id"]: im for im in coco["images"]}
        for video in coco["videos"]:
            name = video["name"]
            expected = defaultdict(set)  # frame_index -> {(tid, cat, x, y, w, h)}
            by_frame_count = defaultdict(int)
            for a in coco["annotations"]:
                if a["video_id"] == video["id"]:
                    f = images[a["image_id"]]["frame_index"]
                    expected[f].add((a["track_id"], a["category_id"], *a["bbox"]))
                    by_frame_count[f] += 1
            seq = small_world / "mot" / split / name
            got = defaultdict(set)
            rows = [r.split(",") for r in (seq / "gt/gt.txt").read_text().splitlines()]
            for r in rows:
                assert r[6] == "1" and float(r[8]) >= cfg.min_visibility
                got[int(r[0]) - 1].add((int(r[1]), int(r[7]), *map(int, r[2:6])))
            assert got == expected
            assert len(rows) == sum(by_frame_count.values())

            mots = defaultdict(set)
            obj_to_track = {}
            for line in (small_world / "mots" / split / f"{name}.txt").read_text().splitlines():
                t, oid, cid, h, w, rle = line.split(" ")
                t, oid, cid = int(t), int(oid), int(cid)
                assert oid // 1000 == cid and 1 <= oid % 1000 <= 999
                box = mask_utils.toBbox({"size": [int(h), int(w)], "counts": rle.encode()})
                match = [e for e in expected[t] if e[1] == cid and list(e[2:]) == box.tolist()]
                assert len(match) == 1
                assert obj_to_track.setdefault(oid, match[0][0]) == match[0][0]
                mots[t].add(match[0])
            assert mots == expected
            assert len(set(obj_to_track.values())) == len(obj_to_track)

            ini = configparser.ConfigParser()
            ini.read(seq / "seqinfo.ini")
            s = ini["Sequence"]
            assert s["name"] == name and int(s["seqLength"]) == cfg.frames_per_video
            assert (int(s["imWidth"]), int(s["imHeight"])) == (cfg.width, cfg.height)
            # MOT frame 1 -> first image (0-based file names)
            assert (seq / s["imDir"] / f"{0:06d}{s['imExt']}").is_file()


# ---------------------------------------------------------------------------------------
# Difficulty statistics
# ---------------------------------------------------------------------------------------
def test_difficulty_statistics(stats_world):
    coco = load(stats_world, "train")
    per_track = tracks_by_frame(coco)
    W = H = 128
    L = 40

    ious, gaps = [], 0
    entering = leaving = 0
    for tid, frames in per_track.items():
        fs = sorted(frames)
        for f0, f1 in zip(fs, fs[1:]):
            if f1 == f0 + 1:
                ious.append(iou_xywh(frames[f0]["bbox"], frames[f1]["bbox"]))
            elif f1 - f0 - 1 >= 3:
                gaps += 1

        def at_border(b):
            return b[0] == 0 or b[1] == 0 or b[0] + b[2] == W or b[1] + b[3] == H

        entering += fs[0] > 0 and at_border(frames[fs[0]]["bbox"])
        leaving += fs[-1] < L - 1 and at_border(frames[fs[-1]]["bbox"])
    ious = np.array(ious)
    assert len(ious) > 300
    assert np.mean(ious < 0.3) >= 0.2, f"only {np.mean(ious < 0.3):.2f} of pairs have IoU<0.3"
    assert gaps >= 1, "no track gaps of >= 3 frames"
    assert entering >= 10 and leaving >= 10

    per_frame = len(coco["annotations"]) / len(coco["images"])
    assert 2.0 <= per_frame <= 7.0

    # look-alikes: same video, category, shape, texture; different colours; and they cross
    tracks = {t["id"]: t for t in coco["tracks"]}
    pairs = []
    for t in tracks.values():
        src = t["appearance"]["lookalike_of"]
        if src is None or src not in tracks:
            continue
        s = tracks[src]
        assert s["video_id"] == t["video_id"] and s["category_id"] == t["category_id"]
        assert s["appearance"]["texture"] == t["appearance"]["texture"]
        assert s["appearance"]["colors"] != t["appearance"]["colors"]
        pairs.append((src, t["id"]))
    assert len(pairs) >= 3
    crossing = 0
    for a, b in pairs:
        common = set(per_track[a]) & set(per_track[b])
        crossing += any(iou_xywh(per_track[a][f]["bbox"], per_track[b][f]["bbox"]) > 0
                        for f in common)
    assert crossing >= 1, "look-alikes never cross"


def test_track_primary_colours_are_saturated(small_world):
    coco = load(small_world, "train")
    for t in coco["tracks"]:
        c1 = np.array(t["appearance"]["colors"][0], float)
        # primary colour: saturated (max - min channel large)
        assert c1.max() - c1.min() >= 0.6 * c1.max() and c1.max() >= 180
