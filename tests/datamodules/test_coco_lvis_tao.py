"""COCO, LVIS v1 and TAO adapters on tiny copies of each dataset in its real on-disk layout
and JSON format (field names, coordinate conventions and paths as the datasets ship them;
category lists are excerpts of the real ones), plus their data configs end to end."""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hydra.utils import instantiate
from PIL import Image
from pycocotools import mask as mask_utils

from conftest import compose_train
from datamodules.adapters import coco as coco_adapter
from datamodules.adapters.coco import coco_split
from datamodules.adapters.lvis import lvis_split
from datamodules.adapters.tao import keep_tao_categories, tao_split
from datamodules.datasets import ClipDataset, FrameDataset, collate_clips
from datamodules.schema import AnnotationError
from datamodules.transforms import FrameTransform

W, H = 32, 24  # every test image


def jpeg(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (W, H), (90, 120, 30)).save(path, "JPEG")


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed (iscrowd) RLE: column-major run lengths starting with zeros."""
    flat = mask.flatten(order="F")
    changes = np.flatnonzero(np.diff(flat)) + 1
    counts = np.diff(np.concatenate([[0], changes, [flat.size]])).tolist()
    if flat[0]:
        counts = [0, *counts]
    return {"counts": counts, "size": [int(mask.shape[0]), int(mask.shape[1])]}


def expect_error(fn, *needles):
    with pytest.raises(AnnotationError) as err:
        fn()
    msg = str(err.value)
    for needle in needles:
        assert needle in msg, msg
    return msg


# =======================================================================================
# COCO 2017
# =======================================================================================
CROWD = np.zeros((H, W), np.uint8)
CROWD[2:10, 20:30] = 1


def coco_json() -> dict:
    """instances_val2017.json excerpt: 3 images (one without annotations), a polygon
    object, a crowd region with uncompressed RLE, a zero-height box."""
    def image(iid, date):
        name = f"{iid:012d}.jpg"
        return {"license": 4, "file_name": name,
                "coco_url": f"http://images.cocodataset.org/val2017/{name}",
                "height": H, "width": W, "date_captured": date,
                "flickr_url": f"http://farm7.staticflickr.com/6116/{iid}_e5b0b4a4f8_z.jpg", "id": iid}
    return {
        "info": {"description": "COCO 2017 Dataset", "url": "http://cocodataset.org", "version": "1.0",
                 "year": 2017, "contributor": "COCO Consortium", "date_created": "2017/09/01"},
        "licenses": [{"url": "http://creativecommons.org/licenses/by-nc-sa/2.0/", "id": 4,
                      "name": "Attribution-NonCommercial-ShareAlike License"}],
        "images": [image(397133, "2013-11-14 17:02:52"), image(37777, "2013-11-14 20:55:31"),
                   image(252219, "2013-11-14 22:32:02")],
        "annotations": [
            {"segmentation": [[2.5, 3.0, 12.5, 3.0, 12.5, 13.0, 2.5, 13.0]], "area": 100.0,
             "iscrowd": 0, "image_id": 397133, "bbox": [2.5, 3.0, 10.0, 10.0], "category_id": 18,
             "id": 1768},
            {"segmentation": [[20.0, 4.0, 30.0, 4.0, 25.0, 20.0]], "area": 80.0, "iscrowd": 0,
             "image_id": 397133, "bbox": [20.0, 4.0, 10.0, 16.0], "category_id": 1, "id": 2006},
            {"segmentation": uncompressed_rle(CROWD), "area": 80, "iscrowd": 1, "image_id": 37777,
             "bbox": [20.0, 2.0, 10.0, 8.0], "category_id": 1, "id": 900100037777},
            {"segmentation": [[1.0, 1.0, 5.0, 1.0, 5.0, 1.0]], "area": 0.0, "iscrowd": 0,
             "image_id": 37777, "bbox": [1.0, 1.0, 4.0, 0.0], "category_id": 90, "id": 918},
        ],
        "categories": [{"supercategory": "person", "id": 1, "name": "person"},
                       {"supercategory": "animal", "id": 18, "name": "dog"},
                       {"supercategory": "indoor", "id": 90, "name": "toothbrush"}],
    }


def make_coco(root: Path, data: dict | None = None) -> Path:
    data = data or coco_json()
    for split in ("train", "val"):
        write_json(root / "annotations" / f"instances_{split}2017.json", data)
        for im in data["images"]:
            jpeg(root / f"{split}2017" / im["file_name"])
    return root


def test_coco_layout_boxes_masks_crowd(tmp_path, monkeypatch):
    root = make_coco(tmp_path / "coco")
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("indexing decoded an image"))
    index = coco_split(root, "val")
    json_path = str(root / "annotations" / "instances_val2017.json")
    assert index.source == json_path and index.split == "val"
    assert [(c.id, c.name) for c in index.categories] == [(1, "person"), (18, "dog"), (90, "toothbrush")]
    assert [(v.video_id, v.name, len(v)) for v in index.videos] == [
        (37777, "000000037777", 1), (252219, "000000252219", 1), (397133, "000000397133", 1)]
    crowd_frame, empty_frame, frame = (v.frames[0] for v in index.videos)
    assert frame.image_path == root / "val2017" / "000000397133.jpg"
    assert (frame.width, frame.height, frame.frame_index, frame.image_id) == (W, H, 0, 397133)
    np.testing.assert_allclose(frame.boxes, [[2.5, 3, 12.5, 13], [20, 4, 30, 20]])
    assert frame.labels.tolist() == [1, 0] and frame.track_ids.tolist() == [-1, -1]
    assert frame.iscrowd.tolist() == [False, False]
    square = mask_utils.decode(frame.masks[0])
    assert square.shape == (H, W) and square.sum() == 100
    assert len(empty_frame) == 0 and empty_frame.masks == []
    assert crowd_frame.iscrowd.tolist() == [True] and crowd_frame.labels.tolist() == [0]
    np.testing.assert_array_equal(mask_utils.decode(crowd_frame.masks[0]), CROWD)
    assert frame.neg_category_ids is None and index.categories[0].frequency is None
    # the zero-height toothbrush box is skipped by the default rule, and counted
    assert index.skipped == {"empty_box": 1}
    assert index.skip_examples == {"empty_box": [f"{json_path}: annotation id=918"]}


def test_coco_index_cache(tmp_path, monkeypatch):
    root = make_coco(tmp_path / "coco")
    cache = tmp_path / "cache"
    first = coco_split(root, "val", cache_dir=cache)
    [entry] = cache.glob("instances_val2017-*.pkl")

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed although cached")

    monkeypatch.setattr(coco_adapter, "load_coco_video", no_parsing)
    again = coco_split(root, "val", cache_dir=cache)
    assert again.num_frames == first.num_frames and again.skipped == first.skipped
    np.testing.assert_array_equal(again.videos[2].frames[0].boxes, first.videos[2].frames[0].boxes)
    with pytest.raises(AssertionError, match="parsed although cached"):  # other options: new key
        coco_split(root, "val", cache_dir=cache, box_tolerance=2.0)
    monkeypatch.undo()
    json_path = root / "annotations" / "instances_val2017.json"
    data = coco_json()
    data["images"].pop(2)  # 252219 has no annotations
    json_path.write_text(json.dumps(data))
    os.utime(json_path, ns=(1, 1))  # a changed file re-parses
    assert coco_split(root, "val", cache_dir=cache).num_frames == 2
    entry.write_bytes(b"truncated")  # an unreadable entry is rebuilt
    assert coco_split(root, "val", cache_dir=cache).num_frames == 2


def test_coco_bad_input(tmp_path):
    root = make_coco(tmp_path / "coco")
    json_path = root / "annotations" / "instances_val2017.json"
    text = json_path.read_text()
    json_path.write_text(text[: len(text) // 2])
    expect_error(lambda: coco_split(root, "val"), str(json_path), "not valid JSON")

    data = coco_json()
    data["annotations"][1]["bbox"] = [25.0, 4.0, 10.0, 16.0]  # x2 = 35 > 32 + 1
    write_json(json_path, data)
    expect_error(lambda: coco_split(root, "val"), str(json_path), "annotation id=2006", "outside")

    data = coco_json()
    data["annotations"][0]["category_id"] = 91
    write_json(json_path, data)
    expect_error(lambda: coco_split(root, "val"), str(json_path), "annotation id=1768", "category_id 91")

    write_json(json_path, coco_json())
    (root / "val2017" / "000000037777.jpg").unlink()
    expect_error(lambda: coco_split(root, "val"), str(json_path), "image id=37777",
                 str(root / "val2017" / "000000037777.jpg"), "does not exist")


# =======================================================================================
# LVIS v1 (+ v0.5 mapping and the TAO filter)
# =======================================================================================
def lvis_category(cid, name, synset, frequency, images=1):
    return {"frequency": frequency, "synset": synset, "synonyms": [name], "def": f"a {name}",
            "id": cid, "name": name, "image_count": images, "instance_count": images}


LVIS_V1_CATEGORIES = [  # excerpt of lvis_v1 categories (ids, names, synsets as in v1)
    lvis_category(1, "aerosol_can", "aerosol.n.02", "c", 64),
    lvis_category(3, "airplane", "airplane.n.01", "f", 1140),
    lvis_category(793, "person", "person.n.01", "f", 64113),
    lvis_category(1203, "zucchini", "zucchini.n.02", "c", 28),
]
LVIS_V05_CATEGORIES = [  # excerpt of lvis_v0.5 categories (v0.5 ids; no zucchini here)
    lvis_category(1, "acorn", "acorn.n.01", "r"),
    lvis_category(2, "aerosol_can", "aerosol.n.02", "r"),
    lvis_category(4, "airplane", "airplane.n.01", "f"),
    lvis_category(805, "person", "person.n.01", "f"),
]


def lvis_json() -> dict:
    """lvis_v1_val.json excerpt: one val2017 and one train2017 image (LVIS v1 val uses
    both), images identified by ``coco_url`` only, federated lists per image."""
    def image(iid, folder, neg, not_exhaustive):
        return {"date_captured": "2013-11-14 17:02:52", "neg_category_ids": neg, "id": iid,
                "license": 4, "height": H, "width": W,
                "flickr_url": f"http://farm7.staticflickr.com/6116/{iid}_e5b0b4a4f8_z.jpg",
                "coco_url": f"http://images.cocodataset.org/{folder}/{iid:012d}.jpg",
                "not_exhaustive_category_ids": not_exhaustive}
    return {
        "info": {"description": "LVIS v1.0", "year": 2020, "version": "1.0"},
        "licenses": [{"url": "http://creativecommons.org/licenses/by-nc-sa/2.0/", "id": 4,
                      "name": "Attribution-NonCommercial-ShareAlike License"}],
        "images": [image(397133, "val2017", [1203, 1], [793]), image(391895, "train2017", [], [3])],
        "annotations": [
            {"area": 60.0, "id": 1, "segmentation": [[4.0, 2.0, 14.0, 2.0, 14.0, 8.0, 4.0, 8.0]],
             "image_id": 397133, "bbox": [4.0, 2.0, 10.0, 6.0], "category_id": 793},
            {"area": 24.5, "id": 2, "segmentation": [[18.0, 10.0, 25.0, 10.0, 25.0, 13.5, 18.0, 13.5]],
             "image_id": 397133, "bbox": [18.0, 10.0, 7.0, 3.5], "category_id": 3},
            {"area": 16.0, "id": 3, "segmentation": [[1.0, 15.0, 5.0, 15.0, 5.0, 19.0, 1.0, 19.0]],
             "image_id": 391895, "bbox": [1.0, 15.0, 4.0, 4.0], "category_id": 1203},
            {"area": 12.0, "id": 4, "segmentation": [[20.0, 1.0, 24.0, 1.0, 24.0, 4.0, 20.0, 4.0]],
             "image_id": 391895, "bbox": [20.0, 1.0, 4.0, 3.0], "category_id": 1},
        ],
        "categories": copy.deepcopy(LVIS_V1_CATEGORIES),
    }


def make_lvis(root: Path, data: dict | None = None) -> Path:
    data = data or lvis_json()
    write_json(root / "annotations" / "lvis_v1_val.json", data)
    for im in data["images"]:
        jpeg(root / Path(im["coco_url"]).parent.name / Path(im["coco_url"]).name)
    return root


def make_v05(path: Path) -> Path:
    """lvis_v0.5_val.json, as far as the mapping reads it."""
    return write_json(path, {"info": {"version": "0.5"}, "images": [], "annotations": [],
                             "licenses": [], "categories": LVIS_V05_CATEGORIES})


def test_lvis_federated_fields_and_coco_url_paths(tmp_path):
    root = make_lvis(tmp_path / "coco")
    index = lvis_split(root, "val")
    assert [(c.id, c.frequency, c.synset) for c in index.categories] == [
        (1, "c", "aerosol.n.02"), (3, "f", "airplane.n.01"), (793, "f", "person.n.01"),
        (1203, "c", "zucchini.n.02")]
    (train_image,), (val_image,) = (v.frames for v in index.videos)
    assert val_image.image_path == root / "val2017" / "000000397133.jpg"
    assert train_image.image_path == root / "train2017" / "000000391895.jpg"
    np.testing.assert_allclose(val_image.boxes, [[4, 2, 14, 8], [18, 10, 25, 13.5]])
    assert val_image.labels.tolist() == [2, 1] and val_image.iscrowd.tolist() == [False, False]
    assert mask_utils.decode(val_image.masks[0]).sum() == 60
    assert val_image.neg_category_ids.tolist() == [1, 1203]  # sorted ids
    assert val_image.not_exhaustive_category_ids.tolist() == [793]
    assert val_image.neg_category_ids.dtype == np.int64
    assert train_image.neg_category_ids.tolist() == [] and train_image.not_exhaustive_category_ids.tolist() == [3]
    assert not index.skipped


def test_lvis_v1_to_v05_by_synset(tmp_path):
    root = make_lvis(tmp_path / "coco")
    v05 = make_v05(tmp_path / "lvis_v0.5_val.json")
    index = lvis_split(root, "val", to_v05=v05)
    # every v0.5 category, v0.5 ids and frequencies: labels line up with TAO's
    assert [(c.id, c.name, c.frequency) for c in index.categories] == [
        (1, "acorn", "r"), (2, "aerosol_can", "r"), (4, "airplane", "f"), (805, "person", "f")]
    (train_image,), (val_image,) = (v.frames for v in index.videos)
    assert [index.categories[i].id for i in val_image.labels] == [805, 4]  # v1 793 -> 805, 3 -> 4
    np.testing.assert_allclose(val_image.boxes, [[4, 2, 14, 8], [18, 10, 25, 13.5]])
    assert len(val_image.masks) == 2
    assert val_image.neg_category_ids.tolist() == [2]  # v1 1 -> 2; zucchini has no v0.5 synset
    assert val_image.not_exhaustive_category_ids.tolist() == [805]
    # the zucchini box has no v0.5 category: dropped with its mask, and counted
    assert [index.categories[i].id for i in train_image.labels] == [2] and len(train_image.masks) == 1
    np.testing.assert_allclose(train_image.boxes, [[20, 1, 24, 4]])
    source = str(root / "annotations" / "lvis_v1_val.json")
    assert index.skipped == {"no_v05_synset": 1}
    assert index.skip_examples == {"no_v05_synset": [f"{source}: image id=391895 category id=1203"]}


def tao_json(split: str = "val") -> dict:
    """validation.json excerpt: two videos (YFCC100M, ArgoVerse) at 1 FPS, LVIS v0.5
    categories; person (805) annotated, airplane (4) only in ``tracks`` of video 1."""
    yfcc = f"{split}/YFCC100M/v_f69ebe5b731d3e87c1a3992ee39c3b7e"
    argo = f"{split}/ArgoVerse/rear_right_2f2321d2-7a5d-3c6a-a7f4-f8c6a1a7bd9b"
    videos = [
        {"id": 1, "name": yfcc, "width": W, "height": H, "neg_category_ids": [1, 2],
         "not_exhaustive_category_ids": [805],
         "metadata": {"dataset": "YFCC100M", "user_id": "22634709@N00", "username": "Amsterdamized"}},
        {"id": 2, "name": argo, "width": W, "height": H, "neg_category_ids": [],
         "not_exhaustive_category_ids": [], "metadata": {"dataset": "ArgoVerse"}},
    ]
    frames = [(1, yfcc, "frame0001.jpg", 0), (1, yfcc, "frame0031.jpg", 30), (1, yfcc, "frame0061.jpg", 60),
              (2, argo, "ring_rear_right_315969629022515560.jpg", 0),
              (2, argo, "ring_rear_right_315969630022212768.jpg", 30)]
    images = [{"id": iid, "video": vname, "width": W, "height": H, "file_name": f"{vname}/{name}",
               "frame_index": fidx, "license": 0, "video_id": vid}
              for iid, (vid, vname, name, fidx) in enumerate(frames, start=101)]

    def ann(aid, iid, vid, tid, bbox):
        return {"bbox": bbox, "area": bbox[2] * bbox[3], "iscrowd": 0, "id": aid, "image_id": iid,
                "category_id": 805, "track_id": tid, "_scale_uuid": "2b4e0c54-...",
                "scale_category": "moving object", "video_id": vid}
    return {
        "videos": videos, "images": images,
        "annotations": [ann(1, 101, 1, 7, [1.5, 2.0, 10.0, 12.0]), ann(2, 102, 1, 7, [3.5, 2.0, 10.0, 12.0]),
                        ann(3, 103, 1, 8, [20.0, 5.0, 6.0, 6.0]), ann(4, 104, 2, 9, [0.0, 0.0, 8.0, 8.0])],
        "tracks": [{"id": 7, "category_id": 805, "video_id": 1}, {"id": 8, "category_id": 805, "video_id": 1},
                   {"id": 9, "category_id": 805, "video_id": 2}, {"id": 10, "category_id": 4, "video_id": 1}],
        "categories": copy.deepcopy(LVIS_V05_CATEGORIES),
        "info": {"year": 2020}, "licenses": [],
    }


def make_tao(root: Path) -> Path:
    for split, stem in (("train", "train"), ("val", "validation")):
        data = tao_json(split)
        write_json(root / "annotations" / f"{stem}.json", data)
        for im in data["images"]:
            jpeg(root / "frames" / im["file_name"])
    return root


def test_tao_category_filter_on_lvis(tmp_path):
    root = make_lvis(tmp_path / "coco")
    tao = make_tao(tmp_path / "tao")
    tao_files = [tao / "annotations" / "train.json", tao / "annotations" / "validation.json"]
    v1 = lvis_split(root, "val", tao_filter_json=tao_files)  # by synset: v1 ids stay
    assert [(c.id, c.name) for c in v1.categories] == [(3, "airplane"), (793, "person")]
    (train_image,), (val_image,) = (v.frames for v in v1.videos)
    assert [v1.categories[i].id for i in val_image.labels] == [793, 3]
    assert len(train_image) == 0 and train_image.masks == []
    assert v1.skipped == {"not_in_tao": 2}  # aerosol_can and zucchini boxes
    assert val_image.neg_category_ids.tolist() == []  # aerosol_can and zucchini are gone
    v05 = lvis_split(root, "val", to_v05=make_v05(tmp_path / "v05.json"), tao_filter_json=str(tao_files[1]))
    assert [c.id for c in v05.categories] == [4, 805]
    assert v05.skipped == {"no_v05_synset": 1, "not_in_tao": 1}
    # the same filter on TAO itself gives the same label space
    assert tao_split(tao, "validation", tao_filter_json=tao_files).categories == v05.categories


def test_lvis_bad_input(tmp_path):
    root = make_lvis(tmp_path / "coco")
    json_path = root / "annotations" / "lvis_v1_val.json"
    text = json_path.read_text()
    json_path.write_text(text[:-40])
    expect_error(lambda: lvis_split(root, "val"), str(json_path), "not valid JSON")

    data = lvis_json()
    data["images"][0]["neg_category_ids"] = [1, 555]
    write_json(json_path, data)
    expect_error(lambda: lvis_split(root, "val"), str(json_path), "image id=397133",
                 "neg_category_ids", "[555]")

    write_json(json_path, lvis_json())
    (root / "train2017" / "000000391895.jpg").unlink()
    expect_error(lambda: lvis_split(root, "val"), str(json_path), "image id=391895",
                 str(root / "train2017" / "000000391895.jpg"))
    jpeg(root / "train2017" / "000000391895.jpg")

    v05 = copy.deepcopy(LVIS_V05_CATEGORIES)
    v05[0]["synset"] = "person.n.01"
    bad_v05 = write_json(tmp_path / "v05.json", {"categories": v05})
    expect_error(lambda: lvis_split(root, "val", to_v05=bad_v05), str(bad_v05),
                 "category id=805", "'person.n.01'", "category id=1")

    tao = tao_json()
    tao["annotations"][2]["category_id"] = 3000
    bad_tao = write_json(tmp_path / "validation.json", tao)
    expect_error(lambda: lvis_split(root, "val", tao_filter_json=bad_tao), str(bad_tao),
                 "annotation id=3", "category_id 3000")

    good_tao = write_json(tmp_path / "validation.json", tao_json())
    data = lvis_json()
    del data["categories"][2]["synset"]
    write_json(json_path, data)
    expect_error(lambda: lvis_split(root, "val", tao_filter_json=good_tao),
                 str(json_path), "category id=793", "synset")


# =======================================================================================
# TAO
# =======================================================================================
def test_tao_videos_tracks_and_federated_lists(tmp_path):
    root = make_tao(tmp_path / "tao")
    index = tao_split(root, "validation")
    assert index.split == "validation" and index.source == str(root / "annotations" / "validation.json")
    assert [c.id for c in index.categories] == [1, 2, 4, 805]
    yfcc, argo = index.videos
    assert yfcc.name == "val/YFCC100M/v_f69ebe5b731d3e87c1a3992ee39c3b7e" and len(argo) == 2
    assert [f.frame_index for f in yfcc.frames] == [0, 30, 60]  # 1 FPS of a 30 FPS video
    assert yfcc.frames[1].image_path == (root / "frames" / "val" / "YFCC100M"
                                         / "v_f69ebe5b731d3e87c1a3992ee39c3b7e" / "frame0031.jpg")
    assert [f.track_ids.tolist() for f in yfcc.frames] == [[7], [7], [8]]
    np.testing.assert_allclose(yfcc.frames[1].boxes, [[3.5, 2, 13.5, 14]])
    assert all(f.masks is None for _, f in index.frames())
    for frame in yfcc.frames:  # the video's federated lists on every frame
        assert frame.neg_category_ids.tolist() == [1, 2]
        assert frame.not_exhaustive_category_ids.tolist() == [805]
    assert argo.frames[0].neg_category_ids.tolist() == []
    assert index.categories[3].frequency == "f" and index.categories[3].synset == "person.n.01"
    filtered = keep_tao_categories(index, [root / "annotations" / "validation.json"])
    assert [c.id for c in filtered.categories] == [4, 805]
    assert yfcc.frames[0].labels.tolist() == [1] and yfcc.frames[0].neg_category_ids.tolist() == []


def test_tao_bad_input(tmp_path):
    root = make_tao(tmp_path / "tao")
    json_path = root / "annotations" / "validation.json"

    data = tao_json()
    data["annotations"][3]["track_id"] = 7  # track 7 lives in video 1, annotation 4 is in video 2
    write_json(json_path, data)
    expect_error(lambda: tao_split(root, "validation"), str(json_path), "annotation id=4",
                 "track_id 7", "two videos")

    data = tao_json()
    data["annotations"][0]["category_id"] = 1300
    write_json(json_path, data)
    expect_error(lambda: tao_split(root, "validation"), str(json_path), "annotation id=1",
                 "category_id 1300")

    data = tao_json()
    data["videos"][1]["not_exhaustive_category_ids"] = [9999]
    write_json(json_path, data)
    expect_error(lambda: tao_split(root, "validation"), str(json_path), "video id=2",
                 "not_exhaustive_category_ids", "[9999]")

    write_json(json_path, tao_json())
    missing = root / "frames" / "val" / "YFCC100M" / "v_f69ebe5b731d3e87c1a3992ee39c3b7e" / "frame0061.jpg"
    missing.unlink()
    expect_error(lambda: tao_split(root, "validation"), str(json_path), "image id=103", str(missing))
    index = tao_split(root, "validation", skip_missing_images=True)
    assert [len(v) for v in index.videos] == [2, 2]
    assert index.skipped == {"missing_image": 1, "annotation_of_missing_image": 1}
    assert index.skip_examples["missing_image"] == [f"{json_path}: image id=103 ({missing})"]


# =======================================================================================
# The data configs, composed and run as `data=<name> data.root=<path>`
# =======================================================================================
@pytest.mark.parametrize("name, make, num_classes, sampling", [
    ("coco", make_coco, 3, "image"), ("lvis", make_lvis, 4, "image"), ("tao", make_tao, 4, "clip")])
def test_data_config_trains_on_the_layout(tmp_path, name, make, num_classes, sampling):
    root = make(tmp_path / name)
    if name == "lvis":  # a tiny train split: the val file's images
        (root / "annotations" / "lvis_v1_train.json").write_text((root / "annotations" / "lvis_v1_val.json").read_text())
    cfg = compose_train([f"data={name}", f"data.root={root}", "data.image_size=[24,32]",
                         f"paths.cache_dir={tmp_path / 'cache'}"]).data
    assert cfg.sampling == sampling
    # what TrackingDataModule.setup / train_dataloader do, without importing Lightning (slow)
    [train_source] = instantiate(cfg.train_sources).values()
    index, val_index = train_source(), instantiate(cfg.val_source)()
    assert len(index.categories) == len(val_index.categories) == num_classes
    transform = FrameTransform(cfg.image_size, train=True, **cfg.augment)
    if sampling == "clip":
        dataset = ClipDataset(index, transform, cfg.clip_stride, cfg.frames_per_clip)
    else:
        dataset = FrameDataset(index, transform)
    batch = collate_clips([dataset[0], dataset[1]])
    frames_per_item = cfg.frames_per_clip if sampling == "clip" else 1
    assert batch["images"].shape == (2 * frames_per_item, 3, 24, 32)
    assert len(list((tmp_path / "cache" / "index").glob("*.pkl"))) == 2  # train + val, cached


def test_paper_default_configs_compose():
    for name, classes, size in (("coco", 80, [896, 896]), ("lvis", 1203, [800, 1333]), ("tao", 1230, [800, 1333])):
        cfg = compose_train([f"data={name}", "data.root=/x"])
        assert cfg.data.num_classes == classes and list(cfg.data.image_size) == size
        assert cfg.data.val_source.root == "/x"
    tao = compose_train(["data=tao", "data.root=/x"]).data
    assert (tao.clip_stride, tao.frames_per_clip, tao.val_source.split) == (1, 2, "validation")
