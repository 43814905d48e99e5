import numpy as np
import pytest

from datamodules.schema import Category, Frame, Video, VideoIndex
from eval.coco import COCO_METRICS, coco_gt_from_index, evaluate_coco_boxes

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
