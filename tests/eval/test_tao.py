"""TAO track mAP: hand-computed cases and TrackEval's TAO + TrackMAP as the reference."""
import copy
import json
import subprocess
import sys

import numpy as np
import pytest
from trackeval.datasets import TAO
from trackeval.metrics import TrackMAP

from eval.results_io import write_tao_results
from eval.tao import TAO_MAX_DETS, TAO_METRICS, evaluate_tao, evaluate_tao_files, track_iou_3d

CATS = [{"id": 1, "name": "person"}, {"id": 2, "name": "car"}, {"id": 3, "name": "dog"}, {"id": 4, "name": "cat"}]


# ------------------------------------------------------------------------- 3D IoU


def test_track_iou_3d_by_hand():
    box, absent = [0, 0, 10, 10], [0, 0, 0, 0]
    gt = np.array([[box, box]], np.float64)  # one track, two frames, area 100 each
    dts = np.array([
        [box, box],  # identical: 1
        [box, absent],  # skips frame 2: 100 / (100 + 100)
        [[5, 0, 10, 10], absent],  # half overlap in frame 1, gt alone in frame 2: 50 / (150 + 100)
        [absent, [20, 20, 5, 5]],  # disjoint: 0
        [absent, absent],
    ], np.float64)
    np.testing.assert_allclose(track_iou_3d(dts, gt), [[1.0], [0.5], [0.2], [0.0], [0.0]])
    assert track_iou_3d(np.zeros((0, 2, 4)), gt).shape == (0, 1)


def test_track_iou_3d_matches_trackeval():
    rng = np.random.default_rng(0)
    frames = 6
    boxes = np.concatenate([rng.uniform(0, 50, (7, frames, 2)), rng.uniform(1, 30, (7, frames, 2))], -1)
    boxes[rng.random((7, frames)) < 0.3] = 0  # tracks skip frames
    ours = track_iou_3d(boxes[:4], boxes[4:])

    def as_track(b):
        return {t: b[t] for t in range(frames) if b[t, 2] > 0}

    for i, j in np.ndindex(ours.shape):
        ref = TrackMAP._compute_bb_track_iou(as_track(boxes[i]), as_track(boxes[4 + j]))
        assert ours[i, j] == pytest.approx(ref, abs=1e-12)


# -------------------------------------------------------------------- hand cases


def video_gt(tracks, videos=None, frames=4):
    """COCO-video gt: ``tracks`` = [(video_id, track_id, category_id, {frame: box}, crowd)]."""
    video_ids = sorted({t[0] for t in tracks} | {v["id"] for v in videos or []})
    videos = videos or [{"id": v, "name": f"v{v}", "neg_category_ids": [], "not_exhaustive_category_ids": []}
                        for v in video_ids]
    images = [{"id": 100 * v + f, "video_id": v, "frame_index": f, "width": 640, "height": 480}
              for v in video_ids for f in range(frames)]
    annotations = []
    for v, tid, c, boxes, crowd in tracks:
        annotations += [{"id": len(annotations) + k, "image_id": 100 * v + f, "category_id": c, "track_id": tid,
                         "bbox": box, "iscrowd": int(crowd)} for k, (f, box) in enumerate(boxes.items(), start=1)]
    return {"videos": videos, "images": images, "annotations": annotations, "categories": CATS}


def predicted(video, track_id, category, boxes, score):
    return [{"image_id": 100 * video + f, "category_id": category, "bbox": b, "score": score,
             "track_id": track_id, "video_id": video} for f, b in boxes.items()]


BOX = [0, 0, 10, 10]
FAR = [200, 200, 10, 10]


def test_track_split_in_two_predicted_tracks():
    gt = video_gt([(1, 1, 1, dict.fromkeys(range(4), BOX), False)])
    # each half has 3D IoU 200 / 400 = 0.5: at 0.5 the first is a TP, the second a FP
    pred = predicted(1, 11, 1, {0: BOX, 1: BOX}, 0.9) + predicted(1, 12, 1, {2: BOX, 3: BOX}, 0.8)
    res = evaluate_tao(gt, pred)
    person = res["per_class"]["person"]
    assert person["TrackAP50"] == pytest.approx(1.0)
    assert person["TrackAP75"] == 0.0
    assert person["TrackAP"] == pytest.approx(0.1)
    assert person["TrackAR"] == pytest.approx(0.1)
    assert person["TrackAPs"] == pytest.approx(0.1) and person["TrackAPm"] == person["TrackAPl"] == -1.0
    assert set(res["per_class"]) == {"person", "car", "dog", "cat"} and set(res["combined"]) == set(TAO_METRICS)
    assert res["per_class"]["car"] == dict.fromkeys(TAO_METRICS, -1.0)  # no gt: undefined, not averaged
    assert res["combined"] == pytest.approx(person)


def test_track_score_is_mean_of_detection_scores():
    gt = video_gt([(1, 1, 1, {0: BOX, 1: BOX}, False)])
    # FP track with scores 0.9 / 0.1 (mean 0.5) ranks below the TP track (0.6): AP 1
    fp = predicted(1, 12, 1, {0: FAR}, 0.9) + predicted(1, 12, 1, {1: FAR}, 0.1)
    tp = predicted(1, 11, 1, {0: BOX, 1: BOX}, 0.6)
    assert evaluate_tao(gt, tp + fp)["combined"]["TrackAP50"] == pytest.approx(1.0)
    fp[1]["score"] = 0.7  # mean 0.8 > 0.6: FP first, precision 1/2 at recall 1
    assert evaluate_tao(gt, tp + fp)["combined"]["TrackAP50"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "video_one,dog_ap50,car_ap50",
    [
        ({"neg_category_ids": [3], "not_exhaustive_category_ids": [2]}, 0.5, 1.0),
        ({"neg_category_ids": [], "not_exhaustive_category_ids": []}, 1.0, 0.5),
        ({}, 0.5, 0.5),  # no federated lists: exhaustively labelled, every absent category negative
    ],
)
def test_federated_categories(video_one, dog_ap50, car_ap50):
    videos = [{"id": 1, "name": "v1", **video_one},
              {"id": 2, "name": "v2", "neg_category_ids": [], "not_exhaustive_category_ids": []}]
    gt = video_gt([(1, 1, 1, {0: BOX}, False), (1, 2, 2, {1: BOX}, False), (2, 3, 3, {0: BOX}, False)], videos)
    pred = (
        predicted(1, 11, 1, {0: BOX}, 0.5)
        + predicted(1, 12, 2, {1: BOX}, 0.6)  # car TP
        + predicted(1, 13, 2, {2: FAR}, 0.9)  # car FP: ignored where car is not exhaustively labelled
        + predicted(2, 14, 3, {0: BOX}, 0.5)  # dog TP in video 2
        + predicted(1, 15, 3, {3: FAR}, 0.9)  # dog in video 1: FP where dog is negative, else dropped
        + predicted(1, 16, 4, {3: FAR}, 0.9)  # cat: no gt anywhere
    )
    per_class = evaluate_tao(gt, pred)["per_class"]
    assert per_class["person"]["TrackAP50"] == pytest.approx(1.0)
    assert per_class["dog"]["TrackAP50"] == pytest.approx(dog_ap50)
    assert per_class["car"]["TrackAP50"] == pytest.approx(car_ap50)
    assert per_class["cat"]["TrackAP50"] == -1.0


def test_crowd_track_absorbs_a_prediction():
    regular, crowd = (1, 1, 1, {0: BOX, 1: BOX}, False), (1, 2, 1, {0: FAR, 1: FAR}, True)
    pred = predicted(1, 11, 1, {0: BOX, 1: BOX}, 0.5) + predicted(1, 12, 1, {0: FAR, 1: FAR}, 0.9)
    with_crowd = evaluate_tao(video_gt([regular, crowd]), pred)["combined"]
    assert with_crowd["TrackAP50"] == pytest.approx(1.0) and with_crowd["TrackAR"] == 1.0
    assert evaluate_tao(video_gt([regular]), pred)["combined"]["TrackAP50"] == pytest.approx(0.5)


def test_empty_predictions_and_gt_left_unchanged():
    gt = video_gt([(1, 1, 1, {0: BOX}, False), (2, 2, 2, {0: [0, 0, 100, 100]}, False)])
    before = copy.deepcopy(gt)
    res = evaluate_tao(gt, [])
    assert gt == before
    assert res["combined"] == {**dict.fromkeys(TAO_METRICS, 0.0), "TrackAPm": -1.0}


def test_gt_without_track_ids_or_with_inconsistent_tracks_rejected():
    gt = video_gt([(1, 1, 1, {0: BOX, 1: BOX}, False)])
    for missing in (None, -1):
        gt["annotations"][1]["track_id"] = missing
        with pytest.raises(ValueError, match=r"gt.json: annotation #1 \(id=2\) has no track_id"):
            evaluate_tao(gt, [], where="gt.json")
    gt["annotations"][1].update(track_id=1, category_id=2)
    with pytest.raises(ValueError, match="gt.json: annotations: record #1: track_id 1 has category_id 1 and 2"):
        evaluate_tao(gt, [], where="gt.json")


# ------------------------------------------------------- TrackEval as the reference


def generated_case(seed):
    """Three videos of six frames. Video 1: two person tracks and a car track, dog negative,
    car not exhaustive; video 2: person and dog, cat negative; video 3: no gt, person
    negative. Predictions: jittered copies of the gt tracks that skip frames, some split into
    two tracks, some with a wrong category, plus random false-positive tracks; gt tracks
    skip frames too. Box sizes span the small / medium / large ranges."""
    rng = np.random.default_rng(seed)
    layout = {1: ([1, 1, 2], [3], [2]), 2: ([1, 3], [4], []), 3: ([], [1], [])}
    videos, images, annotations, results = [], [], [], []
    next_track, next_pred = 1, 1
    for video_id, (positives, negatives, not_exhaustive) in layout.items():
        videos.append({"id": video_id, "name": f"v{video_id}", "neg_category_ids": negatives,
                       "not_exhaustive_category_ids": not_exhaustive})
        image_ids = [100 * video_id + f for f in range(6)]
        images += [{"id": i, "video_id": video_id, "frame_index": f, "width": 640, "height": 480}
                   for f, i in enumerate(image_ids)]
        for category in positives:
            size, corner = rng.uniform(10, 150, 2), rng.uniform(0, 400, 2)
            frames = sorted(rng.choice(6, size=rng.integers(2, 7), replace=False).tolist())
            boxes = {f: [*(corner + rng.uniform(-5, 5, 2) * f), *size] for f in frames}
            annotations += [{"id": len(annotations) + k + 1, "image_id": image_ids[f], "category_id": category,
                             "track_id": next_track, "bbox": b, "area": b[2] * b[3], "iscrowd": 0}
                            for k, (f, b) in enumerate(boxes.items())]
            next_track += 1
            halves = [frames] if rng.random() < 0.6 else [frames[: len(frames) // 2], frames[len(frames) // 2:]]
            for part in filter(None, halves):
                label = category if rng.random() < 0.85 else int(rng.integers(1, 5))
                for f in part:
                    if rng.random() < 0.15:
                        continue
                    jitter = np.r_[rng.normal(0, 3, 2), rng.normal(0, 2, 2)]
                    results.append({"image_id": image_ids[f], "category_id": label,
                                    "bbox": (np.array(boxes[f]) + jitter).tolist(),
                                    "score": float(rng.uniform(0.3, 1)), "track_id": next_pred, "video_id": video_id})
                next_pred += 1
        for _ in range(rng.integers(1, 4)):
            label, size, corner = int(rng.integers(1, 5)), rng.uniform(10, 150, 2), rng.uniform(0, 400, 2)
            for f in sorted(rng.choice(6, size=rng.integers(1, 7), replace=False).tolist()):
                results.append({"image_id": image_ids[f], "category_id": label, "bbox": [*corner, *size],
                                "score": float(rng.uniform(0, 1)), "track_id": next_pred, "video_id": video_id})
            next_pred += 1
    gt = {"videos": videos, "images": images, "annotations": annotations, "categories": CATS}
    return gt, results


def trackeval_reference(gt_path, results_path, tmp_path, max_dets):
    """TrackEval's TAO dataset + TrackMAP (0.5:0.95, area ranges) on the same files, reduced
    to our metric names: ``(combined, per_class)``."""
    gt = json.loads(gt_path.read_text())
    video_of = {im["id"]: im["video_id"] for im in gt["images"]}
    for ann in gt["annotations"]:  # TrackEval wants these two
        ann["video_id"] = video_of[ann["image_id"]]
    gt["tracks"] = [{"id": a["track_id"], "category_id": a["category_id"]} for a in gt["annotations"]]
    (tmp_path / "te_gt").mkdir()
    (tmp_path / "te_gt" / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "te_trackers" / "t" / "data").mkdir(parents=True)
    (tmp_path / "te_trackers" / "t" / "data" / "r.json").write_text(results_path.read_text())
    dataset = TAO({"GT_FOLDER": str(tmp_path / "te_gt"), "TRACKERS_FOLDER": str(tmp_path / "te_trackers"),
                   "TRACKERS_TO_EVAL": ["t"], "MAX_DETECTIONS": max_dets, "PRINT_CONFIG": False})
    metric = TrackMAP({"USE_TIME_RANGES": False, "PRINT_CONFIG": False})
    raw = {seq: dataset.get_raw_seq_data("t", seq) for seq in dataset.seq_list}
    per_class = {
        cls: metric.combine_sequences(
            {seq: metric.eval_sequence(dataset.get_preprocessed_seq_data(raw[seq], cls)) for seq in raw})
        for cls in dataset.class_list
    }

    def ours(r):
        return {"TrackAP": r["AP_all"].mean(), "TrackAP50": r["AP_all"][0], "TrackAP75": r["AP_all"][5],
                "TrackAPs": r["AP_area_s"].mean(), "TrackAPm": r["AP_area_m"].mean(),
                "TrackAPl": r["AP_area_l"].mean(), "TrackAR": r["AR_all"].mean()}

    return ours(metric.combine_classes_class_averaged(per_class)), {c: ours(r) for c, r in per_class.items()}


@pytest.mark.parametrize(
    "seed,max_dets,empty",
    [(0, 300, False), (1, 300, False), (2, 300, False), (3, 300, False), (4, 1, False), (5, 300, True)],
)
def test_matches_trackeval(tmp_path, seed, max_dets, empty):
    gt, results = generated_case(seed)
    gt_path, results_path = tmp_path / "gt.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps(gt))
    write_tao_results(results_path, [] if empty else results)
    if max_dets == TAO_MAX_DETS:
        ours = evaluate_tao_files(gt_path, results_path)
    else:
        ours = evaluate_tao(gt, results, max_dets=max_dets)
    combined, per_class = trackeval_reference(gt_path, results_path, tmp_path, max_dets)
    assert ours["combined"] == pytest.approx(combined, abs=1e-6)
    for name, metrics in ours["per_class"].items():  # TrackEval lists only categories with gt
        assert metrics == pytest.approx(per_class.get(name, dict.fromkeys(TAO_METRICS, -1.0)), abs=1e-6), name
    if max_dets == TAO_MAX_DETS and not empty:  # a non-trivial case
        assert 0 < ours["combined"]["TrackAP"] < 1


def test_eval_modules_import_neither_torch_nor_trackers():
    code = (
        "import sys, eval.tao, eval.lvis, eval.results_io; "
        "print(sorted(m for m in ('torch', 'trackers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
