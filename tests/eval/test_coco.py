import contextlib
import copy
import io
import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from datamodules.schema import Category, Frame, Video, VideoIndex
from eval.coco import COCO_METRICS, coco_gt_from_index, evaluate_coco, evaluate_coco_boxes, evaluate_coco_files
from eval.results_io import write_coco_results

# category ids deliberately non-contiguous: label 0 -> id 1, label 1 -> id 7
CATS = [Category(1, "person"), Category(7, "car")]
F1_BOXES = np.array([[10, 10, 60, 60], [100, 100, 150, 180]], np.float32)  # areas 2500, 4000
F2_BOXES = np.array([[20, 20, 80, 80]], np.float32)  # area 3600 (all "medium")


def make_index(crowd=False):
    f2_boxes, f2_crowd = F2_BOXES, [False]
    if crowd:  # add an unmatched crowd region to frame 2: never a positive, never penalised
        f2_boxes, f2_crowd = np.concatenate([F2_BOXES, [[300, 200, 400, 300]]]), [False, True]
    frames = [
        Frame("v/000001.jpg", 640, 480, 0, 11, boxes=F1_BOXES, labels=[0, 1], track_ids=[1, 2], iscrowd=[False, False]),
        Frame("v/000002.jpg", 640, 480, 1, 12, boxes=f2_boxes, labels=[0] * len(f2_crowd), track_ids=[1] * len(f2_crowd), iscrowd=f2_crowd),
    ]
    return VideoIndex(videos=[Video(0, "v", frames)], categories=CATS)


def perfect():
    return {
        11: (F1_BOXES, np.array([0.9, 0.9]), np.array([0, 1])),
        12: (F2_BOXES, np.array([0.9]), np.array([0])),
    }


def test_coco_gt_from_index():
    gt = coco_gt_from_index(make_index())
    assert [img["id"] for img in gt["images"]] == [11, 12]
    assert gt["images"][0]["width"] == 640 and gt["images"][0]["height"] == 480
    assert gt["categories"] == [{"id": 1, "name": "person"}, {"id": 7, "name": "car"}]
    anns = gt["annotations"]
    assert [a["category_id"] for a in anns] == [1, 7, 1]
    assert [a["image_id"] for a in anns] == [11, 11, 12]
    assert anns[1]["bbox"] == [100.0, 100.0, 50.0, 80.0]
    assert [a["area"] for a in anns] == [2500.0, 4000.0, 3600.0]
    assert [a["iscrowd"] for a in anns] == [0, 0, 0]
    assert len({a["id"] for a in anns}) == 3


def test_perfect_detections():
    res = evaluate_coco_boxes(make_index(), perfect())
    assert set(res) == set(COCO_METRICS)
    for k in ("AP", "AP50", "AP75", "APm", "AR100"):
        assert res[k] == pytest.approx(1.0), k
    assert res["APs"] == -1.0 and res["APl"] == -1.0  # no small/large ground truth
    assert all(isinstance(v, float) for v in res.values())


def test_crowd_regions_ignored():
    index = make_index(crowd=True)
    assert [a["iscrowd"] for a in coco_gt_from_index(index)["annotations"]] == [0, 0, 0, 1]
    res = evaluate_coco_boxes(index, perfect())
    assert res["AP"] == pytest.approx(1.0) and res["AR100"] == pytest.approx(1.0)


def test_missing_detection_halves_one_category():
    dets = perfect()
    del dets[12]  # person: 1 of 2 found -> precision 1 up to recall 0.5 (51 of 101 points)
    res = evaluate_coco_boxes(make_index(), dets)
    expected = (51 / 101 + 1.0) / 2
    assert res["AP50"] == pytest.approx(expected)
    assert res["AP"] == pytest.approx(expected)
    assert res["AR100"] == pytest.approx((0.5 + 1.0) / 2)


def test_higher_scored_false_positive():
    dets = perfect()
    boxes, scores, labels = dets[11]
    dets[11] = (
        np.concatenate([boxes, [[300, 300, 350, 350]]]),
        np.concatenate([scores, [0.99]]),
        np.concatenate([labels, [0]]),
    )
    # person ranking FP, TP, TP: interpolated precision 2/3 at every recall level
    res = evaluate_coco_boxes(make_index(), dets)
    assert res["AP50"] == pytest.approx((2 / 3 + 1.0) / 2)
    assert res["AR100"] == pytest.approx(1.0)


def test_label_mapping_matters():
    dets = perfect()
    dets[11] = (F1_BOXES, np.array([0.9, 0.9]), np.array([1, 0]))  # labels swapped: 2 FPs
    dets[12] = (F2_BOXES, np.array([0.95]), np.array([0]))  # outranks the person FP
    # person: TP then FP -> precision 1 up to recall 0.5; car: only an FP -> 0
    res = evaluate_coco_boxes(make_index(), dets)
    assert res["AP50"] == pytest.approx((51 / 101 + 0.0) / 2)


def test_empty_detections():
    for dets in ({}, {11: (np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))}):
        res = evaluate_coco_boxes(make_index(), dets)
        assert res["AP"] == 0.0 and res["AP50"] == 0.0 and res["AR100"] == 0.0 and res["APm"] == 0.0
        assert res["APs"] == -1.0


def test_unknown_image_id_rejected():
    with pytest.raises(ValueError, match="99"):
        evaluate_coco_boxes(make_index(), {99: perfect()[11]})


def test_pycocotools_output_silenced(capsys):
    evaluate_coco_boxes(make_index(), perfect())
    assert capsys.readouterr().out == ""


# ------------------------------------------------- COCO files (boxes and masks)

H, W = 160, 200
FILE_CATS = [{"id": 1, "name": "person"}, {"id": 2, "name": "car"}, {"id": 3, "name": "dog"}]  # dog: no gt


def rect_mask(x, y, w, h):
    mask = np.zeros((H, W), np.uint8, order="F")
    mask[int(y):int(y + h), int(x):int(x + w)] = 1
    return mask


def compressed_rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"size": rle["size"], "counts": rle["counts"].decode()}


def uncompressed_rle(mask):
    """COCO crowd format: run lengths (column-major), starting with a run of zeros."""
    flat = mask.ravel(order="F")
    runs = np.diff(np.r_[0, np.flatnonzero(np.diff(flat)) + 1, flat.size]).tolist()
    return {"size": [H, W], "counts": runs if flat[0] == 0 else [0, *runs]}


def generated_coco_case(seed):
    """Four images (the last without gt); person and car objects as box + mask (RLE or
    polygon); one crowd region (uncompressed RLE); dog only predicted. Predictions: jittered
    boxes / shifted masks of most objects, random false positives (also in dog and on the
    empty image), one detection on the crowd region."""
    rng = np.random.default_rng(seed)
    images = [{"id": i, "width": W, "height": H, "file_name": f"{i}.jpg"} for i in (1, 2, 3, 4)]
    anns, boxes, masks = [], [], []

    def add(image_id, category, x, y, w, h, crowd=False):
        mask = rect_mask(x, y, w, h)
        if crowd:
            segmentation = uncompressed_rle(mask)
        elif rng.random() < 0.5:
            segmentation = compressed_rle(mask)
        else:
            segmentation = [[x, y, x + w, y, x + w, y + h, x, y + h]]
        anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": category, "bbox": [x, y, w, h],
                     "area": float(mask.sum()), "iscrowd": int(crowd), "segmentation": segmentation})

    for image_id in (1, 2, 3):
        for _ in range(rng.integers(2, 5)):
            w, h = (int(v) for v in rng.integers(6, 110, 2))
            add(image_id, int(rng.integers(1, 3)), int(rng.integers(0, W - w)), int(rng.integers(0, H - h)), w, h)
    add(2, 1, 150, 10, 40, 40, crowd=True)

    for ann in anns:
        if ann["iscrowd"] or rng.random() < 0.2:
            continue
        x, y, w, h = ann["bbox"]
        dx, dy = (int(v) for v in rng.integers(-4, 5, 2))
        label = ann["category_id"] if rng.random() < 0.9 else 2 if ann["category_id"] == 1 else 1
        score = float(rng.uniform(0.2, 1))
        boxes.append({"image_id": ann["image_id"], "category_id": label, "score": score,
                      "bbox": [x + dx + rng.normal(0, 1), y + dy, w + rng.normal(0, 2), h]})
        masks.append({"image_id": ann["image_id"], "category_id": label, "score": score,
                      "segmentation": compressed_rle(rect_mask(max(x + dx, 0), max(y + dy, 0), w, h))})
    for _ in range(6):
        image_id, label = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        w, h = (int(v) for v in rng.integers(6, 90, 2))
        x, y = int(rng.integers(0, W - w)), int(rng.integers(0, H - h))
        score = float(rng.uniform(0, 1))
        boxes.append({"image_id": image_id, "category_id": label, "score": score, "bbox": [x, y, w, h]})
        masks.append({"image_id": image_id, "category_id": label, "score": score,
                      "segmentation": compressed_rle(rect_mask(x, y, w, h))})
    boxes.append({"image_id": 2, "category_id": 1, "score": 0.99, "bbox": [152, 12, 30, 30]})  # inside the crowd
    masks.append({"image_id": 2, "category_id": 1, "score": 0.99,
                  "segmentation": compressed_rle(rect_mask(152, 12, 30, 30))})
    return {"images": images, "annotations": anns, "categories": FILE_CATS}, {"bbox": boxes, "segm": masks}


def pycocotools_reference(gt_path, results_path, iou_type, cat_ids=None):
    """COCOeval.stats through pycocotools' own file loading (COCO(path).loadRes(path))."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(str(gt_path))
        evaluator = COCOeval(coco_gt, coco_gt.loadRes(str(results_path)), iouType=iou_type)
        if cat_ids is not None:
            evaluator.params.catIds = cat_ids
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator.stats


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_evaluate_coco_files_matches_pycocotools(tmp_path, seed, iou_type):
    gt, results = generated_coco_case(seed)
    gt_path, results_path = tmp_path / "gt.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps(gt))
    write_coco_results(results_path, results[iou_type], iou_type)
    res = evaluate_coco_files(gt_path, results_path, iou_type)
    stats = pycocotools_reference(gt_path, results_path, iou_type)
    assert set(res["combined"]) == set(COCO_METRICS)
    expected = {m: stats[i] for m, i in zip(COCO_METRICS, (0, 1, 2, 3, 4, 5, 8))}  # COCOeval.stats order
    assert res["combined"] == pytest.approx(expected, abs=1e-6)
    assert 0 < res["combined"]["AP"] < 1
    assert set(res["per_class"]) == {"person", "car", "dog"}
    for cat in FILE_CATS:
        stats = pycocotools_reference(gt_path, results_path, iou_type, cat_ids=[cat["id"]])
        assert res["per_class"][cat["name"]] == pytest.approx(dict(zip(("AP", "AP50", "AP75"), stats[:3])), abs=1e-6)
    assert res["per_class"]["dog"] == {"AP": -1.0, "AP50": -1.0, "AP75": -1.0}
    before = copy.deepcopy(gt)  # in memory: same numbers, and the gt dict is left as it was
    assert evaluate_coco(gt, results[iou_type], iou_type) == res and gt == before


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_evaluate_coco_files_empty_results(tmp_path, iou_type):
    gt, _ = generated_coco_case(0)
    gt_path, results_path = tmp_path / "gt.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps(gt))
    results_path.write_text("[]")  # pycocotools' loadRes cannot read this
    res = evaluate_coco_files(gt_path, results_path, iou_type)
    assert res["combined"]["AP"] == 0.0 and res["combined"]["AR100"] == 0.0
    assert res["per_class"]["person"]["AP"] == 0.0 and res["per_class"]["dog"]["AP"] == -1.0


def test_evaluate_coco_files_errors(tmp_path):
    gt, results = generated_coco_case(0)
    gt_path, results_path = tmp_path / "gt.json", tmp_path / "results.json"
    del gt["annotations"][0]["segmentation"]
    gt_path.write_text(json.dumps(gt))
    write_coco_results(results_path, results["segm"], "segm")
    with pytest.raises(ValueError, match=f"{gt_path}: annotation id=1 has no segmentation"):
        evaluate_coco_files(gt_path, results_path, "segm")
    with pytest.raises(ValueError, match=f"{results_path}: record #0: missing key"):
        evaluate_coco_files(gt_path, results_path, "bbox")  # mask records evaluated as boxes
