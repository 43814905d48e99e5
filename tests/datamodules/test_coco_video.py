import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from datamodules.adapters.coco_video import load_coco_video
from datamodules.schema import AnnotationError
from datamodules.synthetic import SyntheticWorldConfig, generate_world


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    cfg = SyntheticWorldConfig(seed=7, num_videos={"train": 2, "val": 1}, frames_per_video=10)
    return generate_world(cfg, tmp_path_factory.mktemp("world"), progress=False)


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def base_video_json(image_dir: Path) -> dict:
    """Two videos of two 40x30 frames each, images created as empty files."""
    image_dir.mkdir(parents=True, exist_ok=True)
    images = []
    for iid, (vid, fidx) in enumerate([(1, 0), (1, 1), (2, 0), (2, 1)], start=1):
        name = f"v{vid}/{fidx:03d}.jpg"
        (image_dir / name).parent.mkdir(exist_ok=True)
        (image_dir / name).write_bytes(b"")
        images.append({"id": iid, "video_id": vid, "frame_index": fidx, "file_name": name,
                       "width": 40, "height": 30})
    return {
        "categories": [{"id": 5, "name": "b"}, {"id": 2, "name": "a"}],
        "videos": [{"id": 2, "name": "second"}, {"id": 1, "name": "first"}],
        "images": images,
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 5, "bbox": [1, 2, 10, 5], "track_id": 100},
            {"id": 11, "image_id": 2, "category_id": 5, "bbox": [3, 2, 10, 5], "track_id": 100},
            {"id": 12, "image_id": 3, "category_id": 2, "bbox": [0, 0, 40, 30], "track_id": 200},
        ],
    }


def test_roundtrip_of_generated_world(world):
    for split in ("train", "val"):
        path = world / "annotations" / f"{split}.json"
        coco = json.loads(path.read_text())
        index = load_coco_video(path, world / "images", split=split)
        assert index.split == split and index.source == str(path)
        assert not index.skipped
        assert len(index.videos) == len(coco["videos"])
        assert [v.name for v in index.videos] == [v["name"] for v in coco["videos"]]
        assert index.num_frames == len(coco["images"])
        assert sum(len(f) for _, f in index.frames()) == len(coco["annotations"])
        assert index.category_names == ["disc", "box", "triangle"]
        track_ids = {int(t) for _, f in index.frames() for t in f.track_ids}
        assert track_ids == {t["id"] for t in coco["tracks"]}
        anns = {a["id"]: a for a in coco["annotations"]}
        by_image = {}
        for a in coco["annotations"]:
            by_image.setdefault(a["image_id"], []).append(a)
        for video, frame in index.frames():
            assert frame.image_path.is_file()
            assert [f.frame_index for f in video.frames] == list(range(len(video.frames)))
            expected = by_image.get(frame.image_id, [])
            assert len(frame) == len(expected)
            assert frame.boxes.dtype == np.float32 and frame.labels.dtype == np.int64
            for i, a in enumerate(expected):
                x, y, w, h = a["bbox"]
                np.testing.assert_array_equal(frame.boxes[i], [x, y, x + w, y + h])
                assert index.categories[frame.labels[i]].id == a["category_id"]
                assert frame.track_ids[i] == a["track_id"]
                m = mask_utils.decode(frame.masks[i])
                assert m.shape == (frame.height, frame.width)
                assert int(m.sum()) == a["area"]
            assert set(frame.labels.tolist()) <= set(range(len(index.categories)))
        assert len(anns) == len(coco["annotations"])


def test_video_json_labels_sorting_and_no_masks(tmp_path):
    data = base_video_json(tmp_path / "img")
    data["images"] = data["images"][::-1]  # file order must not matter
    for im in data["images"]:  # "frame_id" is accepted instead of "frame_index"
        im["frame_id"] = im.pop("frame_index")
    index = load_coco_video(write(tmp_path / "a.json", data), tmp_path / "img")
    assert [c.id for c in index.categories] == [2, 5]  # sorted by category id
    assert [v.name for v in index.videos] == ["first", "second"]  # sorted by video id
    first = index.videos[0]
    assert [f.frame_index for f in first.frames] == [0, 1]
    assert [f.image_id for f in first.frames] == [1, 2]
    assert first.frames[0].labels.tolist() == [1]
    np.testing.assert_array_equal(first.frames[1].boxes, [[3, 2, 13, 7]])
    assert first.frames[0].masks is None  # no segmentation anywhere in the file
    assert index.videos[1].frames[0].track_ids.tolist() == [200]
    assert len(index.videos[1].frames[1]) == 0


def test_coco_without_videos_polygons_and_rle(tmp_path):
    img = tmp_path / "img"
    img.mkdir()
    for n in ("a.jpg", "b.jpg"):
        (img / n).write_bytes(b"")
    square = [10, 10, 30, 10, 30, 30, 10, 30]
    ref = np.zeros((50, 60), np.uint8)
    ref[5:15, 20:40] = 1
    ref_rle = mask_utils.encode(np.asfortranarray(ref))
    # uncompressed (column-major) RLE counts, as COCO writes for crowd regions
    flat = ref.flatten(order="F")
    changes = np.flatnonzero(np.diff(flat)) + 1
    counts = np.diff(np.concatenate([[0], changes, [flat.size]])).tolist()
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 60, "height": 50},
                   {"id": 2, "file_name": "b.jpg", "width": 60, "height": 50}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20],
             "segmentation": [square, [1, 2, 3, 4]]},  # 2nd polygon is degenerate
            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [20, 5, 20, 10],
             "iscrowd": 1, "segmentation": {"size": [50, 60], "counts": counts}},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [20, 5, 20, 10],
             "segmentation": {"size": [50, 60], "counts": ref_rle["counts"].decode()}},
            {"id": 4, "image_id": 2, "category_id": 1, "bbox": [0, 0, 5, 6]},
        ],
    }
    index = load_coco_video(write(tmp_path / "coco.json", data), img)
    assert len(index.videos) == 2 and all(len(v) == 1 for v in index.videos)
    assert [v.frames[0].image_id for v in index.videos] == [1, 2]
    f1, f2 = index.videos[0].frames[0], index.videos[1].frames[0]
    assert f1.track_ids.tolist() == [-1] and f1.frame_index == 0
    poly = mask_utils.decode(f1.masks[0])
    ys, xs = np.nonzero(poly)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (10, 29, 10, 29)
    assert isinstance(f1.masks[0]["counts"], str)
    assert f2.iscrowd.tolist() == [True, False, False]
    np.testing.assert_array_equal(mask_utils.decode(f2.masks[0]), ref)
    np.testing.assert_array_equal(mask_utils.decode(f2.masks[1]), ref)
    box_mask = mask_utils.decode(f2.masks[2])  # no segmentation: filled box, counted
    assert box_mask.sum() == 30 and box_mask[:6, :5].all()
    assert index.skipped == {"degenerate_polygon": 1, "mask_from_box": 1}
    source = str(tmp_path / "coco.json")
    assert index.skip_examples == {"degenerate_polygon": [f"{source}: annotation id=1"],
                                   "mask_from_box": [f"{source}: annotation id=4"]}


def test_box_clipping_and_skip_empty(tmp_path):
    data = base_video_json(tmp_path / "img")
    data["annotations"][0]["bbox"] = [-0.5, 2, 41, 5]  # within the 1 px tolerance
    data["annotations"].append({"id": 13, "image_id": 4, "category_id": 2, "bbox": [1, 1, 0, 3]})
    with pytest.raises(AnnotationError, match=r"id=13"):
        load_coco_video(write(tmp_path / "a.json", data), tmp_path / "img")
    index = load_coco_video(tmp_path / "a.json", tmp_path / "img", skip_empty_boxes=True)
    np.testing.assert_array_equal(index.videos[0].frames[0].boxes, [[0, 2, 40, 7]])
    assert index.skipped == {"empty_box": 1}
    assert sum(len(f) for _, f in index.frames()) == 3


# ---------------------------------------------------------------------------------------
# Malformed input
# ---------------------------------------------------------------------------------------
def expect_error(tmp_path, data, *needles, name="bad.json", **kw):
    path = write(tmp_path / name, data)
    with pytest.raises(AnnotationError) as err:
        load_coco_video(path, tmp_path / "img", **kw)
    msg = str(err.value)
    assert name in msg, msg
    for n in needles:
        assert n in msg, msg
    return msg


def test_truncated_json(tmp_path, world):
    text = (world / "annotations" / "val.json").read_text()
    msg = expect_error(tmp_path, text[: len(text) // 2], "not valid JSON", "line 1 col",
                       name="val_truncated.json")
    assert isinstance(AnnotationError(msg), ValueError)


def test_unknown_category(tmp_path):
    data = base_video_json(tmp_path / "img")
    data["annotations"][1]["category_id"] = 99
    expect_error(tmp_path, data, "annotation id=11", "category_id 99")


def test_unknown_image_id(tmp_path):
    data = base_video_json(tmp_path / "img")
    data["annotations"][2]["image_id"] = 77
    expect_error(tmp_path, data, "annotation id=12", "image_id 77")


def test_missing_image_file(tmp_path, world):
    root = tmp_path / "copy"
    shutil.copytree(world / "images" / "val", root / "images" / "val")
    victim = root / "images" / "val" / "synth_val_0000" / "000003.jpg"
    victim.unlink()
    coco = json.loads((world / "annotations" / "val.json").read_text())
    image_id = next(im["id"] for im in coco["images"]
                    if im["file_name"] == "val/synth_val_0000/000003.jpg")
    path = world / "annotations" / "val.json"
    with pytest.raises(AnnotationError) as err:
        load_coco_video(path, root / "images")
    msg = str(err.value)
    assert "val.json" in msg and str(victim) in msg and f"image id={image_id}" in msg
    index = load_coco_video(path, root / "images", check_images=False)
    assert index.num_frames == len(coco["images"])


def test_box_outside_image(tmp_path):
    data = base_video_json(tmp_path / "img")
    data["annotations"][1]["bbox"] = [35, 2, 10, 5]  # x2 = 45 > 40 + 1
    expect_error(tmp_path, data, "annotation id=11", "outside")


def test_non_positive_box(tmp_path):
    data = base_video_json(tmp_path / "img")
    data["annotations"][0]["bbox"] = [1, 2, 10, -1]
    expect_error(tmp_path, data, "annotation id=10", "non-positive")


def test_track_id_in_two_videos(tmp_path):
    data = base_video_json(tmp_path / "img")
    data["annotations"][2]["track_id"] = 100  # image 3 is in video 2, track 100 in video 1
    expect_error(tmp_path, data, "annotation id=12", "track_id 100", "two videos")


def test_missing_required_keys(tmp_path):
    data = base_video_json(tmp_path / "img")
    del data["annotations"][1]["bbox"]
    expect_error(tmp_path, data, "annotation id=11", "'bbox'")
    data = base_video_json(tmp_path / "img")
    del data["images"][2]["video_id"]
    expect_error(tmp_path, data, "image id=3", "'video_id'")
    data = base_video_json(tmp_path / "img")
    data["images"][1]["frame_index"] = 0  # duplicate frame index in video 1
    expect_error(tmp_path, data, "image id=1", "image id=2", "frame index 0")
