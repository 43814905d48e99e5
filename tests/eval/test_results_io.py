"""COCO / TAO results JSON: validation, round trips, and files the official tools accept."""
import contextlib
import io
import json

import numpy as np
import pytest
from lvis import LVIS, LVISResults
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from eval.results_io import (
    detection_records,
    keep_top_per_image,
    read_coco_results,
    read_tao_results,
    track_records,
    write_coco_results,
    write_tao_results,
)

GT = {
    "videos": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
    "images": [
        {"id": 10, "video_id": 1, "frame_index": 0, "width": 64, "height": 48},
        {"id": 11, "video_id": 1, "frame_index": 1, "width": 64, "height": 48},
        {"id": 20, "video_id": 2, "frame_index": 0, "width": 64, "height": 48},
    ],
    "annotations": [],
    "categories": [{"id": 1, "name": "person"}, {"id": 7, "name": "car"}],
}


def rle(height=48, width=64):
    mask = np.zeros((height, width), np.uint8, order="F")
    mask[5:20, 10:30] = 1
    out = mask_utils.encode(mask)
    return {"size": out["size"], "counts": out["counts"]}  # bytes counts, as encode returns


def tao_record(**kw):
    return {"image_id": 10, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5, "track_id": 5, "video_id": 1, **kw}


def test_coco_round_trip_with_numpy_values_and_bytes_rle(tmp_path):
    records = detection_records(10, np.array([[1, 2, 11, 22]], np.float32), np.array([0.75], np.float32), [7])
    assert records == [{"image_id": 10, "category_id": 7, "bbox": [1.0, 2.0, 10.0, 20.0], "score": 0.75}]
    records.append({"image_id": np.int64(20), "category_id": np.int32(1), "bbox": np.array([0.5, 0, 2, 3]),
                    "score": np.float64(0.25), "extra": "dropped"})
    path = tmp_path / "sub" / "boxes.json"
    write_coco_results(path, records)
    back = read_coco_results(path, GT)
    assert back == [records[0], {"image_id": 20, "category_id": 1, "bbox": [0.5, 0.0, 2.0, 3.0], "score": 0.25}]
    assert all(type(r["image_id"]) is int and type(r["score"]) is float for r in back)

    masks = [{"image_id": 11, "category_id": 7, "segmentation": rle(), "score": 0.9}]
    write_coco_results(tmp_path / "masks.json", masks, iou_type="segm")
    back = read_coco_results(tmp_path / "masks.json", GT, iou_type="segm")
    assert back[0]["segmentation"]["counts"] == masks[0]["segmentation"]["counts"].decode()
    assert back[0]["segmentation"]["size"] == [48, 64]


def test_tao_round_trip_and_missing_video_id_filled(tmp_path):
    records = track_records(1, 11, [5, 6], [[0, 0, 4, 4], [1, 1, 3, 5]], [0.9, 0.8], [1, 7])
    assert records[1] == {"image_id": 11, "category_id": 7, "bbox": [1.0, 1.0, 2.0, 4.0], "score": 0.8,
                          "track_id": 6, "video_id": 1}
    write_tao_results(tmp_path / "t.json", records)
    assert read_tao_results(tmp_path / "t.json", GT) == records
    no_video = [{k: v for k, v in r.items() if k != "video_id"} for r in records]
    (tmp_path / "nv.json").write_text(json.dumps(no_video))
    assert read_tao_results(tmp_path / "nv.json", GT) == records


BAD_COCO = [
    ({"image_id": 10, "category_id": 1, "bbox": [0, 0, 1, 1]}, "missing key"),
    ({"image_id": 10, "category_id": 1, "bbox": [0, 0, -1, 1], "score": 1}, "no area"),
    ({"image_id": 10, "category_id": 1, "bbox": [0, 0, 5, 0], "score": 1}, "no area"),
    ({"image_id": 10, "category_id": 1, "bbox": [0, 0, 5], "score": 1}, "bbox"),
    ({"image_id": 10, "category_id": 1, "bbox": [0, "x", 5, 5], "score": 1}, "bbox"),
    ({"image_id": 10, "category_id": 1, "bbox": [0, 0, 5, 5], "score": float("nan")}, "score"),
    ({"image_id": 99, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 1}, "unknown image_id 99"),
    ({"image_id": 10, "category_id": 3, "bbox": [0, 0, 5, 5], "score": 1}, "unknown category_id 3"),
    ({"image_id": True, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 1}, "image_id"),
    ({"image_id": 10.0, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 1}, "image_id"),
    ([10, 1, [0, 0, 5, 5], 1], "expected an object"),
]


@pytest.mark.parametrize("bad,message", BAD_COCO)
def test_read_coco_results_names_file_and_record(tmp_path, bad, message):
    path = tmp_path / "r.json"
    good = {"image_id": 10, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}
    path.write_text(json.dumps([good, good, bad]))
    with pytest.raises(ValueError, match=message) as err:
        read_coco_results(path, GT)
    assert str(err.value).startswith(f"{path}: record #2: ")


@pytest.mark.parametrize(
    "segmentation,message",
    [
        (None, "missing key"),
        ({"size": [48, 64], "counts": [0, 10, 3062]}, "uncompressed"),
        ({"size": [48, 65], "counts": "abc"}, r"size \[48, 65\] is not image_id 10's"),
        ({"counts": "abc"}, "compressed RLE"),
    ],
)
def test_read_segm_results_validation(tmp_path, segmentation, message):
    record = {"image_id": 10, "category_id": 1, "score": 0.5}
    if segmentation is not None:
        record["segmentation"] = segmentation
    path = tmp_path / "m.json"
    path.write_text(json.dumps([record]))
    with pytest.raises(ValueError, match=message) as err:
        read_coco_results(path, GT, iou_type="segm")
    assert str(err.value).startswith(f"{path}: record #0: ")


@pytest.mark.parametrize(
    "bad,index,message",
    [
        (tao_record(video_id=2), 1, "video_id 2 but image_id 10 is in video 1"),
        (tao_record(category_id=7, image_id=11), 1, "track_id 5 has category_id 1 and 7"),
        (tao_record(image_id=20, video_id=2), 1, "track_id 5 has video_id 1 and 2"),
        (tao_record(), 1, "track_id 5 has two boxes in image_id 10"),
        ({k: v for k, v in tao_record().items() if k != "track_id"}, 1, "missing key"),
    ],
)
def test_read_tao_results_validation(tmp_path, bad, index, message):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([tao_record(), bad]))
    with pytest.raises(ValueError, match=message) as err:
        read_tao_results(path, GT)
    assert str(err.value).startswith(f"{path}: record #{index}: ")


def test_read_rejects_non_list_and_invalid_json(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"image_id": 10}')
    with pytest.raises(ValueError, match="expected a JSON list"):
        read_coco_results(path, GT)
    path.write_text("[{")
    with pytest.raises(ValueError, match=f"{path}: not valid JSON"):
        read_tao_results(path, GT)


def test_writers_reject_bad_records_and_write_nothing(tmp_path):
    path = tmp_path / "w.json"
    with pytest.raises(ValueError, match=r"record #0: bbox: .* no area"):
        write_coco_results(path, detection_records(10, [[5, 5, 5, 9]], [0.5], [1]))
    with pytest.raises(ValueError, match="missing key"):  # TAO records need video_id when written
        write_tao_results(path, [{k: v for k, v in tao_record().items() if k != "video_id"}])
    with pytest.raises(ValueError, match="two boxes"):
        write_tao_results(path, [tao_record(), tao_record()])
    assert not path.exists()


def test_keep_top_per_image():
    records = [{"image_id": i, "score": s} for i, s in [(1, 0.1), (2, 0.5), (1, 0.9), (1, 0.5), (1, 0.5)]]
    assert keep_top_per_image(records, 2) == [records[1], records[2], records[3]]
    assert keep_top_per_image(records, 300) == records
    assert keep_top_per_image([], 3) == []


def test_written_files_load_in_pycocotools_and_lvis(tmp_path):
    gt = {**GT, "annotations": [{"id": 1, "image_id": 10, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25,
                                 "iscrowd": 0}]}
    gt["images"] = [{**im, "neg_category_ids": [], "not_exhaustive_category_ids": []} for im in gt["images"]]
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(gt))
    boxes = detection_records(10, [[0, 0, 5, 5], [1, 1, 4, 9]], [0.9, 0.3], [1, 7])
    write_coco_results(tmp_path / "b.json", boxes)
    write_coco_results(tmp_path / "m.json", [{"image_id": 11, "category_id": 7, "segmentation": rle(), "score": 0.4}],
                       iou_type="segm")
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(gt_path))
        assert len(coco.loadRes(str(tmp_path / "b.json")).anns) == 2
        loaded = coco.loadRes(str(tmp_path / "m.json"))
    assert loaded.anns[1]["area"] == 15 * 20
    assert len(LVISResults(LVIS(str(gt_path)), str(tmp_path / "b.json")).anns) == 2
