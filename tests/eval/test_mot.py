import numpy as np
import pytest

from eval.mot import METRIC_NAMES, evaluate_mot, format_table
from eval.mot_io import frame_tracks_to_mot_rows, read_mot_txt, write_mot_txt
from trackers.types import FrameTracks


def row(frame, tid, x, w=10.0, h=10.0, cls=1):
    return [frame, tid, x, 0.0, w, h, 1.0, cls]


def two_sequences():
    """Seq "a": 2 objects x 4 frames; the tracker switches id on object 2 at frame 3 (IDSW 1)
    and emits one false positive at frame 2 (FP 1). Seq "b": 1 object x 3 frames, missed at
    frame 2 (FN 1, Frag 1); the frame-1 match has IoU 0.8."""
    gt_a = [row(f, 1, 0) for f in range(1, 5)] + [row(f, 2, 100) for f in range(1, 5)]
    pr_a = (
        [row(f, 11, 0) for f in range(1, 5)]
        + [row(f, 12, 100) for f in (1, 2)]
        + [row(f, 13, 100) for f in (3, 4)]
        + [row(2, 14, 200)]
    )
    gt_b = [row(f, 1, 0) for f in range(1, 4)]
    pr_b = [row(1, 21, 0, h=8.0), row(3, 21, 0)]
    gt = {"a": np.array(gt_a), "b": np.array(gt_b)}
    pred = {"a": np.array(pr_a), "b": np.array(pr_b)}
    return gt, pred


def test_hand_built_two_sequences():
    gt, pred = two_sequences()
    res = evaluate_mot(gt, pred)
    a, b, c = res["per_sequence"]["a"], res["per_sequence"]["b"], res["combined"]
    assert set(a) == set(METRIC_NAMES)
    assert (a["GT"], a["FP"], a["FN"], a["IDSW"], a["num_frames"]) == (8, 1, 0, 1, 4)
    assert (b["GT"], b["FP"], b["FN"], b["IDSW"], b["num_frames"]) == (3, 0, 1, 0, 3)
    assert (c["GT"], c["FP"], c["FN"], c["IDSW"], c["num_frames"]) == (11, 1, 1, 1, 7)
    assert a["MOTA"] == pytest.approx(1 - 2 / 8)
    assert b["MOTA"] == pytest.approx(1 - 1 / 3)
    assert c["MOTA"] == pytest.approx(1 - (1 + 1 + 1) / 11)
    # IDF1 by hand. a: gt1<->11 (4 IDTP), gt2<->12 (2 IDTP); 9 predicted, 8 true boxes.
    assert a["IDF1"] == pytest.approx(2 * 6 / (8 + 9))
    assert a["IDP"] == pytest.approx(6 / 9) and a["IDR"] == pytest.approx(6 / 8)
    assert b["IDF1"] == pytest.approx(2 * 2 / (3 + 2))
    assert c["IDF1"] == pytest.approx(2 * 8 / (11 + 11))
    # MOTP = mean IoU of matches: a all exact; b (0.8 + 1) / 2; combined over 10 matches
    assert a["MOTP"] == pytest.approx(1.0)
    assert b["MOTP"] == pytest.approx(0.9)
    assert c["MOTP"] == pytest.approx((8 + 1.8) / 10)
    assert (b["Frag"], b["MT"], b["PT"], b["ML"]) == (1, 0, 1, 0)  # tracked 2/3 < 80%
    assert (a["MT"], a["PT"], a["ML"]) == (2, 0, 0)
    assert isinstance(c["MOTA"], float) and isinstance(c["FP"], int)


def test_perfect_prediction():
    gt, _ = two_sequences()
    pred = {k: v.copy() for k, v in gt.items()}
    pred["a"][:, 1] += 100  # ids need not be equal, only consistent
    res = evaluate_mot(gt, pred)
    for m in [*res["per_sequence"].values(), res["combined"]]:
        assert m["MOTA"] == 1.0 and m["IDF1"] == 1.0 and m["MOTP"] == pytest.approx(1.0)
        assert m["FP"] == m["FN"] == m["IDSW"] == 0


def test_empty_prediction_for_a_sequence():
    gt, pred = two_sequences()
    for p in ({"a": pred["a"]}, {"a": pred["a"], "b": np.zeros((0, 8))}):
        res = evaluate_mot(gt, p)
        b = res["per_sequence"]["b"]
        assert b["MOTA"] == 0.0 and b["FN"] == b["GT"] == 3 and b["IDF1"] == 0.0
        assert np.isnan(b["MOTP"])
        assert res["combined"]["FN"] == 3
        assert res["combined"]["MOTP"] == pytest.approx(1.0)  # not NaN: b has no matches


def test_class_aware():
    gt = {"s": np.array([row(1, 1, 0, cls=1)])}
    pred = {"s": np.array([row(1, 5, 0, cls=2)])}
    m = evaluate_mot(gt, pred)["combined"]
    assert (m["FP"], m["FN"], m["MOTA"]) == (1, 1, -1.0)
    m = evaluate_mot(gt, pred, class_aware=False)["combined"]
    assert (m["FP"], m["FN"], m["MOTA"]) == (0, 0, 1.0)
    m = evaluate_mot(gt, {"s": pred["s"][:, :6]})["combined"]  # no class column: ignored
    assert (m["FP"], m["FN"]) == (0, 0)


def test_iou_threshold_inclusive():
    gt = {"s": np.array([row(1, 1, 0)])}
    m = evaluate_mot(gt, {"s": np.array([row(1, 5, 0, h=5.0)])})["combined"]  # IoU 0.5
    assert (m["FP"], m["FN"]) == (0, 0)
    m = evaluate_mot(gt, {"s": np.array([row(1, 5, 0, h=4.9)])})["combined"]  # IoU 0.49
    assert (m["FP"], m["FN"]) == (1, 1)
    m = evaluate_mot(gt, {"s": np.array([row(1, 5, 0, h=4.9)])}, iou_threshold=0.4)["combined"]
    assert (m["FP"], m["FN"]) == (0, 0)


def test_unknown_prediction_sequence_rejected():
    gt, pred = two_sequences()
    with pytest.raises(ValueError, match="zzz"):
        evaluate_mot(gt, {**pred, "zzz": pred["a"]})


def test_format_table():
    gt, pred = two_sequences()
    text = format_table(evaluate_mot(gt, pred), metrics=["MOTA", "IDSW", "GT"])
    lines = text.splitlines()
    assert lines[0].split() == ["sequence", "MOTA", "IDSW", "GT"]
    rows = [l.split() for l in lines if l and not l.startswith("-")][1:]
    assert rows == [["a", "75.0", "1", "8"], ["b", "66.7", "0", "3"], ["COMBINED", "72.7", "1", "11"]]
    assert len({len(l) for l in lines}) == 1  # aligned


# ---------------------------------------------------------------- MOTChallenge text I/O


def test_mot_txt_round_trip(tmp_path):
    rows = np.array([[1, 3, 10.126, 20.5, 30.0, 40.25, 0.875, 2], [2, 4, 0.0, 1.0, 2.0, 3.0, 1.0, -1]])
    path = tmp_path / "sub" / "seq.txt"
    write_mot_txt(path, rows)
    text = path.read_text().splitlines()
    assert text[0] == "1,3,10.13,20.50,30.00,40.25,0.875,2"
    back = read_mot_txt(path)
    assert back.shape == (2, 8)
    np.testing.assert_allclose(back, np.round(rows, 2) * [1, 1, 1, 1, 1, 1, 0, 1] + rows * [0, 0, 0, 0, 0, 0, 1, 0])
    write_mot_txt(path, np.zeros((0, 6)))
    assert read_mot_txt(path).shape == (0, 6)


@pytest.mark.parametrize(
    "bad_line",
    ["3,1,0,0,10", "3,1,0,0,10,10,1", "3,x,0,0,10,10,1,1", "3,1,nan,0,10,10,1,1"],
)
def test_read_mot_txt_malformed_names_file_and_line(tmp_path, bad_line):
    path = tmp_path / "bad.txt"
    path.write_text("1,1,0,0,10,10,1,1\n\n2,1,0,0,10,10,1,1\n" + bad_line + "\n")
    with pytest.raises(ValueError) as err:
        read_mot_txt(path)
    assert f"{path}:4:" in str(err.value)


def test_frame_tracks_to_mot_rows():
    ft = FrameTracks(
        track_ids=np.array([7, 3]),
        boxes=np.array([[10, 20, 40, 60], [0, 0, 5, 5]], np.float32),
        scores=np.array([0.9, 0.5], np.float32),
        labels=np.array([0, 1]),
        det_indices=np.array([0, 1]),
    )
    rows = frame_tracks_to_mot_rows([FrameTracks.empty(), ft])
    np.testing.assert_allclose(rows, [[2, 7, 10, 20, 30, 40, 0.9, 0], [2, 3, 0, 0, 5, 5, 0.5, 1]], rtol=1e-6)
    rows = frame_tracks_to_mot_rows([ft], frame_numbers=[17], label_to_class=[1, 7])
    assert rows[:, 0].tolist() == [17, 17] and rows[:, 7].tolist() == [1, 7]
    assert frame_tracks_to_mot_rows([FrameTracks.empty()]).shape == (0, 8)
    with pytest.raises(ValueError):
        frame_tracks_to_mot_rows([ft], frame_numbers=[1, 2])


def test_eval_imports_neither_torch_nor_trackers():
    import subprocess
    import sys

    code = (
        "import sys, eval.mot, eval.mot_io, eval.coco; "
        "print(sorted(m for m in ('torch', 'trackers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
