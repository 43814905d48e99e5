"""DAVIS 2017 J and F on hand-computed masks, the statistics, and the PNG directory layout."""
import numpy as np
import pytest
from PIL import Image

from eval.davis import (
    DAVIS_METRICS,
    boundary_map,
    contour_accuracy,
    davis_statistics,
    disk,
    evaluate_davis,
    evaluate_davis_dirs,
    region_similarity,
    sequence_scores,
)
from eval.davis_io import davis_palette, read_label_png, write_label_png


def stripe(h=8, w=12, cols=5):
    """Mask of the first ``cols`` columns; its boundary is column ``cols - 1`` (h pixels)."""
    mask = np.zeros((h, w), bool)
    mask[:, :cols] = True
    return mask


# ---------------------------------------------------------------- J


def test_region_similarity_by_hand():
    gt, pred = np.zeros((4, 4), bool), np.zeros((4, 4), bool)
    gt[1:3, 1:3] = True  # 4 px
    pred[1:3, 1:4] = True  # 6 px, 4 of them on gt
    assert region_similarity(gt, pred) == pytest.approx(4 / 6)
    void = np.zeros((4, 4), bool)
    void[:, 3] = True  # the 2 extra predicted pixels are void
    assert region_similarity(gt, pred, void) == 1.0
    empty = np.zeros((4, 4), bool)
    assert region_similarity(empty, empty) == 1.0  # DAVIS: two empty masks agree
    assert region_similarity(gt, empty) == 0.0


# ---------------------------------------------------------------- F


def test_boundary_map_by_hand():
    mask = np.zeros((4, 4), bool)
    mask[1:3, 1:3] = True
    # a pixel is on the boundary when it differs from its right, lower or lower-right
    # neighbour; last row: right only; last column: lower only
    expected = np.array([
        [1, 1, 1, 0],
        [1, 0, 1, 0],
        [1, 1, 1, 0],
        [0, 0, 0, 0],
    ], bool)
    np.testing.assert_array_equal(boundary_map(mask), expected)
    np.testing.assert_array_equal(np.nonzero(boundary_map(stripe()))[1], [4] * 8)


def test_disk():
    np.testing.assert_array_equal(disk(1), [[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    np.testing.assert_array_equal(disk(2), [
        [0, 0, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [1, 1, 1, 1, 1],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 0, 0],
    ])


def test_contour_accuracy_by_hand():
    # 8x12 image: radius = ceil(0.008 * hypot(8, 12)) = ceil(0.115) = 1 px
    gt, pred = stripe(), stripe()
    pred[2, 9] = True  # an isolated pixel adds 4 boundary pixels: (2, 9), (2, 8), (1, 9), (1, 8)
    # predicted boundary: 8 (column 4, all matched) + 4 (4+ px away, unmatched) -> P = 8/12;
    # every gt boundary pixel is matched -> R = 1; F = 2 * (2/3) / (5/3) = 0.8
    assert contour_accuracy(gt, pred) == pytest.approx(0.8)
    assert region_similarity(gt, pred) == pytest.approx(40 / 41)


@pytest.mark.parametrize("shift, expected", [(0, 1.0), (1, 1.0), (2, 1.0), (3, 0.0)])
def test_contour_accuracy_tolerates_shifts_up_to_the_radius(shift, expected):
    # bound_th >= 1 is a radius in pixels; the shifted stripe's boundary is `shift` columns off
    assert contour_accuracy(stripe(cols=5), stripe(cols=5 + shift), bound_th=2) == expected


def test_contour_accuracy_empty_masks():
    empty = np.zeros((8, 12), bool)
    assert contour_accuracy(empty, empty) == 1.0
    assert contour_accuracy(stripe(), empty) == 0.0  # P = 1, R = 0
    assert contour_accuracy(empty, stripe()) == 0.0  # P = 0, R = 1


def test_contour_accuracy_void_cuts_both_masks():
    gt, pred = stripe(), stripe()
    pred[2, 9] = True
    void = np.zeros_like(gt)
    void[2, 9] = True  # the stray pixel is void: only column 4 is left on both sides
    assert contour_accuracy(gt, pred, void) == 1.0


def ellipse(shape, cx, cy, ax, ay):
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 <= 1


def test_matches_the_davis_toolkit():
    # expected values computed once with davis2017-evaluation's db_eval_iou / f_measure
    # (scikit-image disk) on these masks; radius ceil(0.008 * hypot(120, 200)) = 2 px
    gt, pred = ellipse((120, 200), 100, 60, 60, 35), ellipse((120, 200), 104, 57, 57, 38)
    assert region_similarity(gt, pred) == pytest.approx(0.8683622135271101)
    assert contour_accuracy(gt, pred) == pytest.approx(0.44918478260869565)
    assert contour_accuracy(gt, pred, bound_th=3) == pytest.approx(0.5402861445783133)


# ---------------------------------------------------------------- statistics


def test_davis_statistics_by_hand():
    values = np.array([1, 1, 0.5, 0, 0, 0, 0, 0])
    s = davis_statistics(values)
    assert s["Mean"] == pytest.approx(2.5 / 8)
    assert s["Recall"] == 2 / 8  # 0.5 is not > 0.5
    # bin edges round(linspace(1, 8, 5) + 1e-10) - 1 = [0, 2, 4, 5, 7]; first bin v[0:3],
    # last bin v[5:8]: decay = 2.5/3 - 0 (np.array_split would give v[0:2] and 1.0)
    assert s["Decay"] == pytest.approx(5 / 6)
    flat = davis_statistics(np.ones(3))
    assert flat == {"Mean": 1.0, "Recall": 1.0, "Decay": 0.0}


# ---------------------------------------------------------------- sequences


def two_object_sequence():
    """4 frames (2 evaluated) of 6x6 label maps: object 1 left, object 2 right."""
    gt = np.zeros((4, 6, 6), np.uint8)
    gt[:, 1:3, 0:2] = 1
    gt[:, 1:3, 4:6] = 2
    pred = gt.copy()
    pred[1][pred[1] == 2] = 0  # object 2 missed in frame 1
    return gt, pred


def test_sequence_scores_skip_first_and_last_frame():
    gt, pred = two_object_sequence()
    pred[0] = pred[3] = 0  # never read
    j, f = sequence_scores(gt, pred)
    np.testing.assert_array_equal(j, [[1, 1], [0, 1]])
    np.testing.assert_array_equal(f, [[1, 1], [0, 1]])


def test_void_is_background_unless_ignored():
    gt = np.zeros((3, 4, 4), np.uint8)
    gt[:, 0:2, 0:2] = 1
    gt[1, 2:4, 0:2] = 255  # void below the object in the evaluated frame
    pred = gt.copy()
    pred[1, 2:4, 0:2] = 1  # the prediction also covers the void region
    assert sequence_scores(gt, pred)[0][0, 0] == pytest.approx(4 / 8)
    assert sequence_scores(gt, pred, ignore_void=True)[0][0, 0] == 1.0


def test_sequence_scores_errors():
    gt, pred = two_object_sequence()
    pred[2, 0, 0] = 3
    with pytest.raises(ValueError, match="frame 2: predicted label 3 but the first ground-truth frame has 2 objects"):
        sequence_scores(gt, pred, name="seq")
    with pytest.raises(ValueError, match="at least 3 frames"):
        sequence_scores(gt[:2], gt[:2])
    with pytest.raises(ValueError, match="must be equal"):
        sequence_scores(gt, gt[:, :5])


def test_evaluate_davis_by_hand():
    gt_a, pred_a = two_object_sequence()
    gt_b = gt_a.copy()
    gt_b[gt_b == 2] = 0  # one object, predicted perfectly
    res = evaluate_davis({"a": gt_a, "b": gt_b}, {"a": pred_a, "b": gt_b})
    # object a_2 scores [0, 1] in J and F: mean 0.5, recall 0.5; with 2 frames the edges are
    # [0, 0, 1, 1, 1], first bin [0], last bin [1] -> decay -1
    a2 = res["per_object"]["a_2"]
    assert (a2["J-Mean"], a2["J-Recall"], a2["J-Decay"]) == (0.5, 0.5, -1.0)
    assert (a2["F-Mean"], a2["F-Recall"], a2["F-Decay"]) == (0.5, 0.5, -1.0)
    assert res["per_object"]["a_1"]["J-Mean"] == 1.0 and res["per_object"]["b_1"]["F-Decay"] == 0.0
    assert res["per_sequence"]["a"]["J-Mean"] == 0.75 and res["per_sequence"]["a"]["num_objects"] == 2
    c = res["combined"]  # over the 3 objects
    assert list(c) == list(DAVIS_METRICS)
    assert c["J-Mean"] == pytest.approx(2.5 / 3) and c["J-Decay"] == pytest.approx(-1 / 3)
    assert c["J&F-Mean"] == pytest.approx((c["J-Mean"] + c["F-Mean"]) / 2)


def test_evaluate_davis_perfect():
    gt, _ = two_object_sequence()
    c = evaluate_davis({"s": gt}, {"s": gt})["combined"]
    assert c["J&F-Mean"] == 1.0 and c["J-Recall"] == 1.0 and c["F-Decay"] == 0.0


def test_evaluate_davis_sequence_mismatch():
    gt, pred = two_object_sequence()
    with pytest.raises(ValueError, match=r"unknown sequences \['x'\]; missing predictions for \['s'\]"):
        evaluate_davis({"s": gt}, {"x": pred})


# ---------------------------------------------------------------- PNG files and directories


def test_label_png_round_trip(tmp_path):
    labels = np.array([[0, 1, 2], [255, 3, 0]], np.uint8)
    write_label_png(tmp_path / "a" / "00000.png", labels)
    with Image.open(tmp_path / "a" / "00000.png") as image:
        assert image.mode == "P" and image.getpalette()[3:6] == [128, 0, 0]
    np.testing.assert_array_equal(read_label_png(tmp_path / "a" / "00000.png"), labels)
    assert davis_palette()[6:9] == [0, 128, 0] and len(davis_palette()) == 768
    Image.fromarray(np.zeros((2, 3, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match="rgb.png: expected an indexed or greyscale label PNG"):
        read_label_png(tmp_path / "rgb.png")


def write_sequence(root, frames, skip=()):
    for t, labels in enumerate(frames):
        if t not in skip:
            write_label_png(root / f"{t:05d}.png", labels)


def test_evaluate_davis_dirs(tmp_path):
    gt_a, pred_a = two_object_sequence()
    gt_b = gt_a.copy()
    gt_b[gt_b == 2] = 0
    write_sequence(tmp_path / "gt" / "a", gt_a)
    write_sequence(tmp_path / "gt" / "b", gt_b)
    write_sequence(tmp_path / "pred" / "a", pred_a, skip=(0, 3))  # first/last frame optional
    pred_b = gt_b.copy()
    pred_b[0] = 9  # the first frame is never scored, so an out-of-range label there is fine
    write_sequence(tmp_path / "pred" / "b", pred_b)
    res = evaluate_davis_dirs(tmp_path / "gt", tmp_path / "pred")
    assert res == evaluate_davis({"a": gt_a, "b": gt_b}, {"a": pred_a, "b": gt_b})
    only_b = evaluate_davis_dirs(tmp_path / "gt", tmp_path / "pred", sequences=["b"])
    assert list(only_b["per_sequence"]) == ["b"] and only_b["combined"]["J&F-Mean"] == 1.0


def test_evaluate_davis_dirs_errors(tmp_path):
    gt, pred = two_object_sequence()
    write_sequence(tmp_path / "gt" / "a", gt)
    write_sequence(tmp_path / "pred" / "a", pred, skip=(2,))
    with pytest.raises(ValueError, match=r"00002\.png: missing predicted frame"):
        evaluate_davis_dirs(tmp_path / "gt", tmp_path / "pred")
    write_label_png(tmp_path / "pred" / "a" / "00002.png", np.zeros((5, 6), np.uint8))
    with pytest.raises(ValueError, match=r"00002\.png: size \(6, 5\) differs"):
        evaluate_davis_dirs(tmp_path / "gt", tmp_path / "pred")
    write_label_png(tmp_path / "pred" / "a" / "00002.png", pred[2])
    write_sequence(tmp_path / "pred" / "zzz", pred)
    with pytest.raises(ValueError, match="zzz"):
        evaluate_davis_dirs(tmp_path / "gt", tmp_path / "pred")
    with pytest.raises(ValueError, match="missing prediction folder"):
        evaluate_davis_dirs(tmp_path / "pred", tmp_path / "gt")
