"""LVIS box / mask AP against lvis' own LVISEval reading the same files."""
import copy
import json

import lvis.eval
import numpy as np
import pytest
from lvis import LVISEval
from pycocotools import mask as mask_utils

from eval.lvis import LVIS_METRICS, evaluate_lvis, evaluate_lvis_files
from eval.results_io import write_coco_results

H, W = 160, 200
CATS = [
    {"id": 1, "name": "person", "frequency": "f"},
    {"id": 2, "name": "car", "frequency": "c"},
    {"id": 3, "name": "dog", "frequency": "r"},
    {"id": 4, "name": "cat", "frequency": "r"},  # only ever in neg_category_ids: no gt
    {"id": 5, "name": "bird", "frequency": "c"},  # never annotated nor negative: predictions dropped
]
# image id -> (categories with gt, neg_category_ids, not_exhaustive_category_ids)
LAYOUT = {1: ([1, 1, 2], [3, 4], [2]), 2: ([1, 3], [2], []), 3: ([2, 2, 3], [1], [3]), 4: ([], [1, 4], [])}


def rle_of_rect(x, y, w, h):
    mask = np.zeros((H, W), np.uint8, order="F")
    mask[y:y + h, x:x + w] = 1
    rle = mask_utils.encode(mask)
    return {"size": rle["size"], "counts": rle["counts"].decode()}


def generated_lvis_case(seed, crowded=False):
    """Federated LVIS ground truth (polygon masks) per ``LAYOUT``; predictions: jittered
    copies of most objects, a few with the wrong category, and random false positives in
    every category. ``crowded`` adds 300 high-scoring false positives to image 1, so the
    300-per-image limit drops its true positives."""
    rng = np.random.default_rng(seed)
    images, anns, boxes, masks = [], [], [], []

    def predict(image_id, category, x, y, w, h, score):
        boxes.append({"image_id": image_id, "category_id": category, "bbox": [x, y, w, h], "score": score})
        masks.append({"image_id": image_id, "category_id": category, "segmentation": rle_of_rect(x, y, w, h),
                      "score": score})

    for image_id, (positives, negatives, not_exhaustive) in LAYOUT.items():
        images.append({"id": image_id, "width": W, "height": H, "neg_category_ids": negatives,
                       "not_exhaustive_category_ids": not_exhaustive})
        for category in positives:
            w, h = (int(v) for v in rng.integers(6, 110, 2))
            x, y = int(rng.integers(0, W - w)), int(rng.integers(0, H - h))
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": category, "bbox": [x, y, w, h],
                         "area": w * h, "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]]})
            if rng.random() < 0.85:
                dx, dy = (int(v) for v in rng.integers(-3, 4, 2))
                label = category if rng.random() < 0.85 else int(rng.integers(1, 6))
                score = float(rng.uniform(0.05, 0.5) if crowded else rng.uniform(0.2, 1))
                predict(image_id, label, max(x + dx, 0), max(y + dy, 0), w, h, score)
        for _ in range(4):
            w, h = (int(v) for v in rng.integers(6, 90, 2))
            predict(image_id, int(rng.integers(1, 6)), int(rng.integers(0, W - w)), int(rng.integers(0, H - h)),
                    w, h, float(rng.uniform(0, 1)))
    if crowded:
        for k in range(300):
            predict(1, 1, k % 190, (k // 190) * 50, 8, 8, float(rng.uniform(0.6, 1)))
    return {"images": images, "annotations": anns, "categories": CATS}, {"bbox": boxes, "segm": masks}


def lvis_reference(gt_path, results_path, iou_type, cat_ids=None):
    """lvis' LVISEval on the files (its own loading and 300-per-image limit)."""
    evaluator = LVISEval(str(gt_path), str(results_path), iou_type)
    if cat_ids is not None:
        evaluator.params.cat_ids = cat_ids
    evaluator.run()
    return evaluator.results


@pytest.mark.parametrize("seed,crowded", [(0, False), (1, False), (2, True)])
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_evaluate_lvis_files_matches_lvis(tmp_path, seed, crowded, iou_type):
    gt, results = generated_lvis_case(seed, crowded)
    gt_path, results_path = tmp_path / "gt.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps(gt))
    write_coco_results(results_path, results[iou_type], iou_type)
    res = evaluate_lvis_files(gt_path, results_path, iou_type)
    ref = lvis_reference(gt_path, results_path, iou_type)
    assert res["combined"] == pytest.approx({m: ref[m] for m in LVIS_METRICS}, abs=1e-6)
    assert 0 < res["combined"]["AP"] < 1
    assert set(res["per_class"]) == {c["name"] for c in CATS}
    for cat in CATS:
        ref = lvis_reference(gt_path, results_path, iou_type, cat_ids=[cat["id"]])
        assert res["per_class"][cat["name"]] == pytest.approx({m: ref[m] for m in ("AP", "AP50", "AP75")}, abs=1e-6)
    assert res["per_class"]["cat"]["AP"] == res["per_class"]["bird"]["AP"] == -1.0
    before = copy.deepcopy(gt)  # in memory: same numbers, gt dict left as it was
    assert evaluate_lvis(gt, results[iou_type], iou_type) == res and gt == before


def test_empty_results(tmp_path, capsys):
    gt, _ = generated_lvis_case(0)
    gt_path, results_path = tmp_path / "gt.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps(gt))
    results_path.write_text("[]")  # lvis' LVISResults cannot read this
    res = evaluate_lvis_files(gt_path, results_path, "segm")
    assert res["combined"] == {**dict.fromkeys(LVIS_METRICS, 0.0), "APl": -1.0}
    assert res["per_class"]["person"]["AP"] == 0.0 and res["per_class"]["cat"]["AP"] == -1.0
    assert capsys.readouterr().out == ""


def test_numpy_is_not_patched():
    assert not hasattr(np, "float")  # numpy itself unchanged (numpy >= 1.24 has no np.float)
    assert lvis.eval.np.float is float and lvis.eval.np.cumsum is np.cumsum


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda gt: gt["images"][1].pop("neg_category_ids"), "image id=2 has no 'neg_category_ids'"),
        (lambda gt: gt["categories"][2].pop("frequency"), "category id=3 has frequency None"),
    ],
)
def test_non_lvis_ground_truth_rejected(tmp_path, edit, message):
    gt, results = generated_lvis_case(0)
    edit(gt)
    gt_path, results_path = tmp_path / "gt.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps(gt))
    write_coco_results(results_path, results["bbox"])
    with pytest.raises(ValueError, match=f"{gt_path}: {message}"):
        evaluate_lvis_files(gt_path, results_path)
