"""Single-object-tracking metrics on hand-computed cases and properties."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from eval.sot import PROTOCOLS, evaluate_sot, evaluate_sot_dirs
from eval.sot_data import SotGroundTruth
from eval.sot_geometry import center_error, clip_boxes_got10k, iou, normalized_center_error
from eval.sot_io import write_sot_txt
from eval.sot_oxuva import max_geometric_mean
from eval.sot_vot_lt import vot_thresholds

NAN = [np.nan] * 4
BOX = [0.0, 0.0, 10.0, 10.0]
THIRD = [5.0, 0.0, 10.0, 10.0]  # IoU with BOX: 50 / 150 = 1/3, centre 5 px right
HALF = [0.0, 0.0, 10.0, 5.0]  # IoU with BOX: 50 / 100 = 1/2 exactly
FAR = [30.0, 0.0, 10.0, 10.0]  # IoU 0, centre 30 px right


def gt_of(rows, absent=None, image_size=None):
    return SotGroundTruth.from_boxes(np.array(rows, float), absent, image_size)


def pred_of(rows, scores=None):
    rows = np.array(rows, float)
    return rows if scores is None else np.column_stack([rows, scores])


# ---------------------------------------------------------------- geometry


def test_iou_and_center_errors_by_hand():
    a = np.array([BOX, BOX, BOX, BOX, BOX])
    b = np.array([THIRD, [5, 5, 10, 10], FAR, NAN, BOX])
    # overlaps 50/150, 25/175, 0, NaN box -> 0, identical -> exactly 1
    np.testing.assert_allclose(iou(a, b), [1 / 3, 1 / 7, 0, 0, 1])
    awkward = np.array([[0.1, 0.7, 3.3, 1e-3 + 0.2]])
    assert iou(awkward, awkward)[0] == 1.0  # not 1 + 2e-16
    # centres (5, 5) vs (8, 9): 5 px; (5, 5) vs (10, 10): sqrt(50); NaN -> inf
    pred = np.array([[3, 4, 10, 10], [0, 0, 20, 20], NAN])
    np.testing.assert_allclose(center_error(pred, np.array([BOX] * 3)), [5, math.sqrt(50), np.inf])
    # normalised by the gt size (10, 20): dx = 3/10, dy = -1/20 (centres (8, 9) vs (5, 10))
    norm = normalized_center_error(np.array([[3, 4, 10, 10]]), np.array([[0, 0, 10, 20]]))
    np.testing.assert_allclose(norm, [math.sqrt(0.3**2 + 0.05**2)])


def test_got10k_clipping_shifts_rather_than_cuts():
    boxes = np.array([[-10, 5, 30, 20], [90, 90, 30, 30], NAN])
    np.testing.assert_array_equal(clip_boxes_got10k(boxes, (100, 100))[:2], [[0, 5, 30, 20], [90, 90, 10, 10]])
    assert np.isnan(clip_boxes_got10k(boxes, (100, 100))[2]).all()


# ---------------------------------------------------------------- OPE (OTB / LaSOT)

# frame 0 is replaced by the gt box; IoUs [1, 1/3, 1, 0]; centre errors [0, 5, 0, 30];
# normalised errors [0, 0.5, 0, 3]
HAND_GT = [BOX] * 4
HAND_PRED = [[99, 99, 1, 1], THIRD, BOX, FAR]
# success (IoU > t): 3/4 for t = 0 .. 0.30 (7 thresholds; IoU 0 is not > 0), 2/4 for
# t = 0.35 .. 0.95 (13), 0 at t = 1
HAND_AUC = (7 * 0.75 + 13 * 0.5 + 0) / 21
# normalised precision (err <= t): 2/4 below 0.5 (50 thresholds), 3/4 at 0.5
HAND_NORM_AUC = (50 * 0.5 + 0.75) / 51


def test_ope_hand_computed():
    res = evaluate_sot({"s": gt_of(HAND_GT)}, {"s": pred_of(HAND_PRED)}, "ope")
    m = res["per_sequence"]["s"]
    assert m["success_auc"] == pytest.approx(HAND_AUC)
    assert m["precision_20px"] == 0.75
    assert m["norm_precision_0.2"] == 0.5
    assert m["norm_precision_auc"] == pytest.approx(HAND_NORM_AUC)
    assert m["num_frames"] == 4
    curves = res["curves"]
    assert len(curves["success"]["thresholds"]) == 21 and len(curves["precision"]["thresholds"]) == 51
    assert curves["norm_precision"]["thresholds"][-1] == 0.5
    assert curves["precision"]["per_sequence"]["s"][4] == 0.5 and curves["precision"]["per_sequence"]["s"][5] == 0.75
    assert res["combined"] == m


def test_ope_absent_frames_are_excluded():
    # appended frames: NaN gt, flagged absent (full occlusion), zero-size gt -- all ignored
    gt = gt_of(HAND_GT + [NAN, BOX, [0, 0, 0, 0]], absent=[0, 0, 0, 0, 0, 1, 0])
    pred = pred_of(HAND_PRED + [FAR, FAR, NAN])
    m = evaluate_sot({"s": gt}, {"s": pred}, "ope")["per_sequence"]["s"]
    assert m["success_auc"] == pytest.approx(HAND_AUC) and m["precision_20px"] == 0.75
    assert m["num_frames"] == 4


@pytest.mark.parametrize("invalid", [NAN, [50, 50, 0, 10], [50, 50, 10, 0]])
def test_ope_invalid_prediction_takes_the_previous_box(invalid, caplog):
    pred = pred_of([[99, 99, 1, 1], THIRD, invalid, FAR])  # frame 2 repeats THIRD
    with caplog.at_level("INFO", logger="eval.sot_ope"):
        m = evaluate_sot({"s": gt_of(HAND_GT)}, {"s": pred}, "ope")["per_sequence"]["s"]
    assert "s: 1 frame(s) without a valid box take the previous box" in caplog.text
    # IoUs [1, 1/3, 1/3, 0]: 3/4 for 7 thresholds, 1/4 for 13, 0 at t = 1
    assert m["success_auc"] == pytest.approx((7 * 0.75 + 13 * 0.25) / 21)


def test_ope_perfect_prediction_follows_the_toolkits():
    gt = gt_of([[float(i), 2.0 * i, 10 + i, 20.0] for i in range(6)])
    m = evaluate_sot({"s": gt}, {"s": gt.boxes.copy()}, "ope")["per_sequence"]["s"]
    # IoU 1 is not > 1: the last of the 21 success points is 0, so the AUC is 20/21
    assert m["success_auc"] == pytest.approx(20 / 21)
    assert m["precision_20px"] == 1.0 and m["norm_precision_auc"] == 1.0 and m["norm_precision_0.2"] == 1.0


@pytest.mark.parametrize("d, expected", [(19.0, 1.0), (20.0, 1.0), (20.0 + 1e-9, 0.2), (21.0, 0.2)])
def test_ope_precision_switches_exactly_at_20px(d, expected):
    gt = gt_of([BOX] * 5)
    pred = gt.boxes + [d, 0, 0, 0]  # frame 0 becomes the gt box, frames 1..4 are d px off
    m = evaluate_sot({"s": gt}, {"s": pred}, "ope")["per_sequence"]["s"]
    assert m["precision_20px"] == expected


def test_ope_combined_averages_sequences():
    gt = {"hand": gt_of(HAND_GT), "perfect": gt_of([BOX] * 9)}
    pred = {"hand": pred_of(HAND_PRED), "perfect": pred_of([BOX] * 9)}
    res = evaluate_sot(gt, pred, "ope")
    c = res["combined"]
    assert c["success_auc"] == pytest.approx((HAND_AUC + 20 / 21) / 2)  # not frame-weighted
    assert c["precision_20px"] == pytest.approx((0.75 + 1) / 2)
    assert c["num_frames"] == 13
    np.testing.assert_allclose(
        res["curves"]["success"]["combined"],
        np.mean([res["curves"]["success"]["per_sequence"][k] for k in gt], axis=0),
    )


# ---------------------------------------------------------------- GOT-10k


def test_got10k_hand_computed(caplog):
    # seq a: frame 0 excluded, frame 3 covered (absent): IoUs [1, 1/3, 1/2]
    a_gt = gt_of([BOX] * 5, absent=[0, 0, 0, 1, 0])
    a_pred = pred_of([FAR, BOX, THIRD, FAR, HALF])
    # seq b: IoU 1, then predicted absent (NaN) on a present frame -> 0
    b_gt, b_pred = gt_of([BOX] * 3), pred_of([BOX, BOX, NAN])
    with caplog.at_level("INFO", logger="eval.sot_got10k"):
        res = evaluate_sot({"a": a_gt, "b": b_gt}, {"a": a_pred, "b": b_pred}, "got10k")
    assert "b: 1 present frame(s) predicted absent (NaN) score IoU 0" in caplog.text
    a, b, c = res["per_sequence"]["a"], res["per_sequence"]["b"], res["combined"]
    assert a["AO"] == pytest.approx((1 + 1 / 3 + 0.5) / 3)
    assert a["SR0.5"] == pytest.approx(1 / 3)  # IoU exactly 0.5 is not a success (> 0.5)
    assert a["SR0.75"] == pytest.approx(1 / 3) and a["num_frames"] == 3
    assert (b["AO"], b["SR0.5"], b["num_frames"]) == (0.5, 0.5, 2)
    # combined pools the 5 frames; AO_sequence_mean averages the two AOs
    assert c["AO"] == pytest.approx((1 + 1 / 3 + 0.5 + 1 + 0) / 5)
    assert c["SR0.5"] == pytest.approx(2 / 5) and c["num_frames"] == 5
    assert c["AO_sequence_mean"] == pytest.approx(((1 + 1 / 3 + 0.5) / 3 + 0.5) / 2)
    curve = res["curves"]["success"]
    assert len(curve["thresholds"]) == 101 and curve["combined"][0] == pytest.approx(4 / 5)  # IoU > 0


def test_got10k_clamps_to_the_image_when_its_size_is_known():
    gt_rows, pred = [BOX, [10, 10, 10, 10]], pred_of([BOX, [15, 10, 10, 10]])
    # unclamped: 50 / 150; in a 20x20 image the prediction becomes [15, 10, 5, 10]: 50 / 100
    free = evaluate_sot({"s": gt_of(gt_rows)}, {"s": pred}, "got10k")
    clamped = evaluate_sot({"s": gt_of(gt_rows, image_size=(20, 20))}, {"s": pred}, "got10k")
    assert free["combined"]["AO"] == pytest.approx(1 / 3)
    assert clamped["combined"]["AO"] == pytest.approx(1 / 2)


# ---------------------------------------------------------------- OxUvA

# frame 0 init; frames 1-4 present, 5-6 absent. Predictions: 1 TP (IoU 1), 2 FN (IoU 1/3),
# 3 FN (said absent), 4 TP (IoU exactly 0.5, inclusive), 5 TN (said absent), 6 FP
OX_GT = [BOX, BOX, BOX, BOX, BOX, NAN, NAN]
OX_PRED = [BOX, BOX, THIRD, NAN, HALF, NAN, BOX]
OX_SCORES = [1.0, 0.9, 0.8, 0.0, 0.6, 0.0, 0.7]


def test_oxuva_hand_computed():
    res = evaluate_sot({"s": gt_of(OX_GT)}, {"s": pred_of(OX_PRED)}, "oxuva")
    m = res["per_sequence"]["s"]
    assert (m["TPR"], m["TNR"], m["num_present"], m["num_absent"]) == (0.5, 0.5, 4, 2)
    assert m["GM"] == pytest.approx(0.5) and m["MaxGM"] == pytest.approx(0.5)  # TNR >= 1/2: p* = 0
    assert res["curves"] == {}  # no scores, no curve
    strict = evaluate_sot({"s": gt_of(OX_GT)}, {"s": pred_of(OX_PRED)}, "oxuva", iou_threshold=0.51)
    assert strict["combined"]["TPR"] == 0.25


def test_oxuva_pools_counts_and_traces_the_score_curve():
    gt = {"s": gt_of(OX_GT), "t": gt_of([BOX, BOX, NAN])}
    pred = {"s": pred_of(OX_PRED, OX_SCORES), "t": pred_of([BOX, BOX, NAN], [1, 0.5, 0])}
    res = evaluate_sot(gt, pred, "oxuva")
    c = res["combined"]
    assert (c["TPR"], c["TNR"], c["num_present"], c["num_absent"]) == (3 / 5, 2 / 3, 5, 3)
    assert c["GM"] == pytest.approx(math.sqrt(3 / 5 * 2 / 3))
    curve = res["curves"]["tpr_tnr"]
    # reported present when score >= t: 0.9 adds a TP, 0.8 a miss (IoU 1/3), 0.7 the FP,
    # 0.6 a TP, 0.5 seq t's TP
    assert curve["thresholds"] == [math.inf, 0.9, 0.8, 0.7, 0.6, 0.5]
    np.testing.assert_allclose(curve["TPR"], [0, 1 / 5, 1 / 5, 1 / 5, 2 / 5, 3 / 5])
    np.testing.assert_allclose(curve["TNR"], [1, 1, 1, 2 / 3, 2 / 3, 2 / 3])


def test_max_geometric_mean_by_hand_and_against_a_grid():
    # TPR 0.8, TNR 0.2: q* = 1 / (2 * 0.8) = 0.625, GM^2 = 0.8 * 0.625 * (1 - 0.625 * 0.8) = 0.25
    assert max_geometric_mean(0.8, 0.2) == pytest.approx((0.5, 0.375))
    assert max_geometric_mean(0.3, 0.7) == pytest.approx((math.sqrt(0.21), 0.0))
    p = np.linspace(0, 1, 100001)
    rng = np.random.default_rng(0)
    for tpr, tnr in [*rng.random((40, 2)), (0.5, 0.0), (0.5, 1.0), (0.0, 0.3), (1.0, 0.5)]:
        brute = np.sqrt((1 - p) * tpr * ((1 - p) * tnr + p))
        best, p_star = max_geometric_mean(tpr, tnr)
        assert best == pytest.approx(brute.max(), abs=1e-8) and best >= brute.max() - 1e-12
        assert best == pytest.approx(math.sqrt((1 - p_star) * tpr * ((1 - p_star) * tnr + p_star)))
    assert all(math.isnan(v) for v in max_geometric_mean(0.5, float("nan")))


# ---------------------------------------------------------------- VOT-LT

# frame 0 init; frames 1-3 visible, 4-5 absent. Reported: f1 IoU 1 @0.9, f2 IoU 1/3 @0.6,
# f4 on an absent frame (IoU 0) @0.8; f3, f5 not reported (NaN)
LT_GT = [BOX, BOX, BOX, BOX, NAN, NAN]
LT_PRED = pred_of([BOX, BOX, THIRD, NAN, BOX, NAN], [1, 0.9, 0.6, 0.5, 0.8, 0.1])


def test_vot_lt_hand_computed():
    res = evaluate_sot({"a": gt_of(LT_GT)}, {"a": LT_PRED}, "vot_lt")
    curve = res["curves"]["pr_re"]
    assert curve["thresholds"] == [math.inf, 0.9, 0.8, 0.6, -math.inf]
    # t=inf: nothing reported (Pr 1, Re 0); 0.9: {f1}; 0.8: {f1, f4}; 0.6 and -inf: {f1, f4, f2}
    np.testing.assert_allclose(curve["Pr"], [1, 1, 0.5, 4 / 9, 4 / 9])
    np.testing.assert_allclose(curve["Re"], [0, 1 / 3, 1 / 3, 4 / 9, 4 / 9])
    np.testing.assert_allclose(curve["F"], [0, 0.5, 0.4, 4 / 9, 4 / 9])
    m = res["per_sequence"]["a"]
    assert (m["F"], m["Pr"], m["tau"], m["num_visible"]) == (0.5, 1.0, 0.9, 3)
    assert m["Re"] == pytest.approx(1 / 3)


def test_vot_lt_averages_curves_over_sequences():
    gt = {"a": gt_of(LT_GT), "b": gt_of([BOX] * 3)}
    pred = {"a": LT_PRED, "b": pred_of([BOX] * 3, [1, 0.7, 0.7])}
    res = evaluate_sot(gt, pred, "vot_lt")
    curve = res["curves"]["pr_re"]
    assert curve["thresholds"] == [math.inf, 0.9, 0.8, 0.7, 0.6, -math.inf]
    # b: Pr 1 everywhere, Re 0 above 0.7 and 1 from 0.7 on; a at 0.7 equals a at 0.8
    np.testing.assert_allclose(curve["Pr"], [1, 1, 0.75, 0.75, 13 / 18, 13 / 18])
    np.testing.assert_allclose(curve["Re"], [0, 1 / 6, 1 / 6, 2 / 3, 13 / 18, 13 / 18])
    c = res["combined"]
    assert c["F"] == pytest.approx(13 / 18) and c["tau"] == 0.6  # first maximum
    assert c["Pr"] == pytest.approx(13 / 18) and c["Re"] == pytest.approx(13 / 18)
    assert c["num_visible"] == 5


def test_vot_lt_without_scores_uses_confidence_one():
    res = evaluate_sot({"a": gt_of(LT_GT)}, {"a": LT_PRED[:, :4]}, "vot_lt")
    assert res["curves"]["pr_re"]["thresholds"] == [math.inf, 1.0, -math.inf]
    assert res["combined"]["F"] == pytest.approx(4 / 9)


def test_vot_thresholds():
    scores = np.arange(200.0)
    t = vot_thresholds(np.append(scores, np.nan))
    assert len(t) == 100 and t[0] == np.inf and t[-1] == -np.inf and (np.diff(t) < 0).all()
    # delta = 200 // 98 = 2: descending indices round(linspace(2, 198, 98)), values 197 .. 1
    assert (t[1], t[-2]) == (197.0, 1.0)
    np.testing.assert_array_equal(vot_thresholds([0.2, 0.5, 0.2]), [np.inf, 0.5, 0.2, -np.inf])
    assert len(vot_thresholds(scores, resolution=None)) == 202
    with pytest.raises(ValueError):
        vot_thresholds(scores, resolution=2)


# ---------------------------------------------------------------- reference toolkits

# Two sequences in a 64x48 image: fractional boxes, boxes leaving the image, covered frames.
# The expected numbers were computed once with the reference code on this input (got10k
# 0.1.3: rect_iou with the image bound and ExperimentGOT10k.report's frame rules;
# vot-toolkit 0.9.0: determine_thresholds and compute_tpr_curves's Pr/Re).
REF_GT = {
    "a": [[10, 10, 20, 15], [12.5, 11, 20, 15], [-4, 30, 18, 20], [50, 40, 20, 12], [30, 5, 8.5, 9], [33, 6, 8, 9]],
    "b": [[5, 5, 10, 10], [6, 5, 10, 10], [7, 6, 11, 10], [8, 6, 11, 11]],
}
REF_PRED = {
    "a": [[0, 0, 1, 1], [14, 9.5, 19, 16], [-6, 28, 20, 22], [48, 38, 25, 15], [80, 5, 8, 9], [31.2, 6.7, 9.1, 8.3]],
    "b": [[5, 5, 10, 10], [6.5, 5.5, 9, 10], [2, 2, 5, 5], [8, 6, 11, 11]],
}
REF_COVER = {"a": [8, 8, 5, 3, 0, 8], "b": [8, 1, 8, 8]}
REF_CONF = {"a": [1, 0.9, 0.35, 0.6, 0.8, 0.55], "b": [1, 0.72, 0.2, 0.9]}


def reference_input(with_scores):
    gt = {k: gt_of(v, absent=np.array(REF_COVER[k]) == 0, image_size=(64, 48)) for k, v in REF_GT.items()}
    pred = {k: pred_of(v, REF_CONF[k] if with_scores else None) for k, v in REF_PRED.items()}
    return gt, pred


def test_got10k_matches_the_got10k_toolkit():
    res = evaluate_sot(*reference_input(False), "got10k")
    a, b, c = res["per_sequence"]["a"], res["per_sequence"]["b"], res["combined"]
    assert (a["AO"], a["SR0.5"], a["SR0.75"]) == pytest.approx((0.7514687430038363, 1.0, 0.5))
    assert (b["AO"], b["SR0.5"], b["SR0.75"]) == pytest.approx((0.6060606060606061, 2 / 3, 2 / 3))
    assert (c["AO"], c["SR0.5"], c["SR0.75"]) == pytest.approx((0.6891509700281662, 6 / 7, 4 / 7))


def test_vot_lt_matches_the_vot_toolkit():
    res = evaluate_sot(*reference_input(True), "vot_lt")
    c = res["combined"]
    assert (c["F"], c["Pr"], c["Re"], c["tau"]) == pytest.approx(
        (0.7089987882152239, 0.749951133565171, 0.6722874018049485, 0.35))
    assert res["curves"]["pr_re"]["thresholds"] == [math.inf, 0.9, 0.8, 0.72, 0.6, 0.55, 0.35, 0.2, -math.inf]


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    "pred, match",
    [
        ({"s": pred_of(HAND_PRED), "zzz": pred_of(HAND_PRED)}, "zzz"),
        ({}, "no prediction"),
        ({"s": pred_of(HAND_PRED[:3])}, "3 frames"),
        ({"s": pred_of([BOX, [np.nan, 0, 1, 1], BOX, BOX])}, "frame 2"),
        ({"s": pred_of([BOX, BOX, [0, 0, -1, 5], BOX])}, "frame 3: negative"),
        ({"s": pred_of(HAND_PRED, [1, np.nan, 1, 1])}, "frame 2: a present box needs a finite score"),
        ({"s": np.zeros((4, 6))}, r"\(N, 4\) or \(N, 5\)"),
    ],
)
@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_bad_predictions_rejected(pred, match, protocol):
    with pytest.raises(ValueError, match=match):
        evaluate_sot({"s": gt_of(HAND_GT)}, pred, protocol)


def test_bad_ground_truth_and_protocol_rejected():
    with pytest.raises(ValueError, match="unknown SOT protocol"):
        evaluate_sot({"s": gt_of(HAND_GT)}, {"s": pred_of(HAND_PRED)}, "vot")
    with pytest.raises(ValueError, match="ground-truth frame 2: a present box needs finite values and w, h > 0"):
        gt_of([BOX, [0, 0, -3, 4]])
    with pytest.raises(ValueError, match="no frame"):
        gt_of(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="at least one"):
        evaluate_sot({}, {}, "ope")


# ---------------------------------------------------------------- directories


def write_benchmark(root):
    """GT/PRED folders with an OTB-style (tabs), a GOT-10k-style and a LaSOT-style sequence."""
    gt, pred = root / "gt", root / "pred"
    (gt / "otb").mkdir(parents=True)
    (gt / "otb" / "groundtruth.txt").write_text("".join("\t".join(map(str, r)) + "\n" for r in HAND_GT) + "\n")
    write_sot_txt(pred / "otb.txt", np.array(HAND_PRED, float))
    write_sot_txt(gt / "got" / "groundtruth.txt", np.array([BOX] * 5))
    (gt / "got" / "absence.label").write_text("0\n0\n0\n1\n0\n")
    (gt / "got" / "cover.label").write_text("8\n8\n7\n0\n8\n")
    (gt / "got" / "meta_info.ini").write_text("[METAINFO]\nurl: x\nresolution: (20, 20)\n")
    write_sot_txt(pred / "got.txt", np.array([FAR, BOX, THIRD, FAR, HALF], float), [1, 0.9, 0.8, 0.1, 0.6])
    write_sot_txt(gt / "lasot" / "groundtruth.txt", np.array(OX_GT[:5] + [BOX, BOX]))
    (gt / "lasot" / "full_occlusion.txt").write_text("0,0,0,0,0,1,0")
    (gt / "lasot" / "out_of_view.txt").write_text("0,0,0,0,0,0,1")
    write_sot_txt(pred / "lasot.txt", np.array(OX_PRED, float), OX_SCORES)
    return gt, pred


def in_memory():
    gt = {
        "got": gt_of([BOX] * 5, absent=[0, 0, 0, 1, 0], image_size=(20, 20)),
        "lasot": gt_of(OX_GT),
        "otb": gt_of(HAND_GT),
    }
    pred = {
        "got": pred_of([FAR, BOX, THIRD, FAR, HALF], [1, 0.9, 0.8, 0.1, 0.6]),
        "lasot": pred_of(OX_PRED, OX_SCORES),
        "otb": pred_of(HAND_PRED),
    }
    return gt, pred


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_evaluate_sot_dirs_matches_in_memory(tmp_path, protocol):
    gt_dir, pred_dir = write_benchmark(tmp_path)
    res = evaluate_sot_dirs(gt_dir, pred_dir, protocol)
    np.testing.assert_equal(res, evaluate_sot(*in_memory(), protocol))
    assert list(res["per_sequence"]) == ["got", "lasot", "otb"]
    json.dumps(res)  # plain numbers and lists


def test_evaluate_sot_dirs_reads_absence_files(tmp_path):
    gt_dir, pred_dir = write_benchmark(tmp_path)
    res = evaluate_sot_dirs(gt_dir, pred_dir, "got10k", sequences=["got"])
    assert res["per_sequence"]["got"]["num_frames"] == 3  # frames 0 (init) and 3 (absent) out
    res = evaluate_sot_dirs(gt_dir, pred_dir, "oxuva", sequences=["lasot"])
    assert (res["combined"]["num_present"], res["combined"]["num_absent"]) == (4, 2)


def test_evaluate_sot_dirs_errors(tmp_path):
    gt_dir, pred_dir = write_benchmark(tmp_path)
    write_sot_txt(pred_dir / "stranger.txt", np.array([BOX]))
    with pytest.raises(ValueError, match="stranger"):
        evaluate_sot_dirs(gt_dir, pred_dir, "ope")
    (pred_dir / "stranger.txt").unlink()
    (pred_dir / "otb.txt").unlink()
    with pytest.raises(ValueError, match=r"otb\.txt: missing prediction"):
        evaluate_sot_dirs(gt_dir, pred_dir, "ope")
    write_sot_txt(pred_dir / "otb.txt", np.array(HAND_PRED[:3], float))
    with pytest.raises(ValueError, match=r"otb\.txt: 3 frames, ground truth has 4"):
        evaluate_sot_dirs(gt_dir, pred_dir, "ope")
    (gt_dir / "empty").mkdir()
    with pytest.raises(ValueError, match="no groundtruth.txt"):
        evaluate_sot_dirs(gt_dir, pred_dir, "ope", sequences=["empty"])
    with pytest.raises(ValueError, match="unknown SOT protocol"):
        evaluate_sot_dirs(gt_dir, pred_dir, "lasot")


def test_eval_sot_and_davis_import_neither_torch_nor_trackers():
    code = (
        "import sys, eval.sot, eval.sot_io, eval.davis, eval.davis_io; "
        "print(sorted(m for m in ('torch', 'trackers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
