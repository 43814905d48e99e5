"""eval.mot: hand-computed cases, classes, preprocessing, bad input, the folder entry point,
the table, and the MOTChallenge text I/O it reads."""
import logging
import shutil

import numpy as np
import pytest

from eval.mot import METRIC_NAMES, evaluate_mot, evaluate_mot_dirs, format_table
from eval.mot_io import frame_tracks_to_mot_rows, read_mot_txt, write_mot_txt
from trackers.types import FrameTracks


def row(frame, tid, x, w=10.0, h=10.0, cls=1, conf=1.0):
    return [frame, tid, x, 0.0, w, h, conf, cls]


def two_sequences():
    """Seq "a": 2 objects x 4 frames; the tracker switches id on object 2 at frame 3 (IDSW 1)
    and emits one false positive at frame 2 (FP 1). Seq "b": 1 object x 3 frames, missed at
    frame 2, where the tracker reports nothing (FN 1); the frame-1 match has IoU 0.8."""
    gt_a = [row(f, 1, 0) for f in range(1, 5)] + [row(f, 2, 100) for f in range(1, 5)]
    pr_a = (
        [row(f, 11, 0) for f in range(1, 5)]
        + [row(f, 12, 100) for f in (1, 2)]
        + [row(f, 13, 100) for f in (3, 4)]
        + [row(2, 14, 200)]
    )
    gt_b = [row(f, 1, 0) for f in range(1, 4)]
    pr_b = [row(1, 21, 0, h=8.0), row(3, 21, 0)]
    return {"a": np.array(gt_a), "b": np.array(gt_b)}, {"a": np.array(pr_a), "b": np.array(pr_b)}


def test_hand_built_two_sequences():
    gt, pred = two_sequences()
    res = evaluate_mot(gt, pred)
    a, b, c = res["per_sequence"]["a"], res["per_sequence"]["b"], res["combined"]
    assert tuple(a) == METRIC_NAMES
    assert (a["GT"], a["FP"], a["FN"], a["IDSW"], a["num_frames"]) == (8, 1, 0, 1, 4)
    assert (b["GT"], b["FP"], b["FN"], b["IDSW"], b["num_frames"]) == (3, 0, 1, 0, 3)
    assert (c["GT"], c["FP"], c["FN"], c["IDSW"], c["num_frames"]) == (11, 1, 1, 1, 7)
    assert a["MOTA"] == pytest.approx(1 - 2 / 8) and b["MOTA"] == pytest.approx(1 - 1 / 3)
    assert c["MOTA"] == pytest.approx(1 - 3 / 11)
    # IDF1: a: gt1<->11 (4 IDTP), gt2<->12 (2 IDTP); 9 predicted, 8 true boxes.
    assert a["IDF1"] == pytest.approx(2 * 6 / (8 + 9))
    assert a["IDP"] == pytest.approx(6 / 9) and a["IDR"] == pytest.approx(6 / 8)
    assert b["IDF1"] == pytest.approx(2 * 2 / (3 + 2)) and c["IDF1"] == pytest.approx(2 * 8 / (11 + 11))
    # MOTP = mean IoU of matches: a all exact; b (0.8 + 1) / 2; combined over 10 matches
    assert a["MOTP"] == pytest.approx(1.0) and b["MOTP"] == pytest.approx(0.9)
    assert c["MOTP"] == pytest.approx((8 + 1.8) / 10)
    assert (b["MT"], b["PT"], b["ML"]) == (0, 1, 0) and (a["MT"], a["PT"], a["ML"]) == (2, 0, 0)
    # TrackEval skips frame 2 of "b" (no tracker box): the track is not fragmented there;
    # motmetrics counts the miss between two matched frames as one fragmentation.
    assert b["Frag"] == 0
    assert evaluate_mot(gt, pred, conventions="motmetrics")["per_sequence"]["b"]["Frag"] == 1
    assert isinstance(c["MOTA"], float) and isinstance(c["FP"], int)


def test_id_switch_depends_on_the_continuation_rule():
    """Gt 1 matches tracker 1 in frame 1 and nothing in frame 2 (the tracker reports a box
    elsewhere). In frame 3 tracker 1 overlaps it with IoU 0.6, tracker 2 with IoU 0.9.
    TrackEval continues only pairs of the previous frame: it takes 2 (an ID switch);
    motmetrics keeps the last pair of any earlier frame: it takes 1."""
    gt = {"s": np.array([row(1, 1, 0), row(2, 1, 0), row(3, 1, 0)])}
    pred = {"s": np.array([row(1, 1, 0), row(2, 9, 500), row(3, 1, 0, h=6.0), row(3, 2, 0, h=9.0)])}
    te = evaluate_mot(gt, pred)["combined"]
    mm = evaluate_mot(gt, pred, conventions="motmetrics")["combined"]
    assert (te["IDSW"], te["FP"], te["MOTP"]) == (1, 2, pytest.approx(0.95))
    assert (mm["IDSW"], mm["FP"], mm["MOTP"]) == (0, 2, pytest.approx(0.8))


def test_perfect_prediction():
    gt, _ = two_sequences()
    pred = {k: v.copy() for k, v in gt.items()}
    pred["a"][:, 1] += 100  # ids need not be equal, only consistent
    res = evaluate_mot(gt, pred)
    for m in [*res["per_sequence"].values(), res["combined"]]:
        assert m["MOTA"] == m["IDF1"] == m["HOTA"] == m["AssA"] == 1.0 and m["MOTP"] == pytest.approx(1.0)
        assert m["FP"] == m["FN"] == m["IDSW"] == 0


def test_empty_prediction_for_a_sequence():
    gt, pred = two_sequences()
    for p in ({"a": pred["a"]}, {"a": pred["a"], "b": np.zeros((0, 8))}):
        res = evaluate_mot(gt, p)
        b = res["per_sequence"]["b"]
        assert b["MOTA"] == b["MOTP"] == b["IDF1"] == b["HOTA"] == 0.0 and b["FN"] == b["GT"] == 3
        assert b["ML"] == 1 and res["combined"]["FN"] == 3
        assert res["combined"]["MOTP"] == pytest.approx(1.0)  # b has no matches
    b = evaluate_mot(gt, {"a": pred["a"]}, conventions="motmetrics")["per_sequence"]["b"]
    assert np.isnan(b["MOTP"]) and np.isnan(b["IDP"]) and b["IDF1"] == 0.0 and b["MOTA"] == 0.0


def test_sequence_without_ground_truth():
    """TrackEval reports MOTA 0 for a sequence without gt; the combined row counts its FPs."""
    gt = {"a": np.array([row(1, 1, 0)]), "empty": np.zeros((0, 8))}
    pred = {"a": np.array([row(1, 1, 0)]), "empty": np.array([row(1, 1, 0), row(2, 1, 0)])}
    res = evaluate_mot(gt, pred)
    e = res["per_sequence"]["empty"]
    assert (e["FP"], e["GT"], e["MOTA"], e["IDF1"], e["HOTA"]) == (2, 0, 0.0, 0.0, 0.0)
    assert res["combined"]["MOTA"] == pytest.approx(1 - 2 / 1)
    mm = evaluate_mot(gt, pred, conventions="motmetrics")["per_sequence"]["empty"]
    assert mm["MOTA"] == -np.inf


def test_classes():
    gt = {"s": np.array([row(1, 1, 0, cls=1), row(1, 2, 100, cls=2)])}
    pred = {"s": np.array([row(1, 5, 0, cls=2), row(1, 6, 100, cls=2)])}
    res = evaluate_mot(gt, pred, class_names={1: "person"})
    assert (res["combined"]["FP"], res["combined"]["FN"], res["combined"]["TP"]) == (1, 1, 1)
    assert set(res["per_class"]) == {"person", "2"}
    assert res["per_class"]["person"]["combined"]["FN"] == 1 and res["per_class"]["2"]["combined"]["FP"] == 1
    assert res["class_averaged"]["MOTA"] == pytest.approx((0.0 + 0.0) / 2)  # person: 0 TP of 1; 2: 1 TP, 1 FP
    agnostic = evaluate_mot(gt, pred, class_aware=False)
    assert agnostic["combined"]["TP"] == 2 and "per_class" not in agnostic and "class_averaged" not in agnostic
    # predictions without class column: they take the single evaluated class ...
    one = {"s": gt["s"][:1]}
    assert evaluate_mot(one, {"s": pred["s"][:, :6]})["combined"]["TP"] == 1
    assert evaluate_mot(one, {"s": np.c_[pred["s"][:, :7], -np.ones(2)]})["combined"]["TP"] == 1
    # ... and are ambiguous with several
    with pytest.raises(ValueError, match="pred\\['s'\\].*2 classes"):
        evaluate_mot(gt, {"s": pred["s"][:, :6]})


def test_explicit_classes_leave_others_out(caplog):
    gt = {"s": np.array([row(1, 1, 0, cls=1), row(1, 2, 100, cls=2)])}
    pred = {"s": np.array([row(1, 5, 0, cls=1), row(1, 6, 300, cls=3)])}
    with caplog.at_level(logging.WARNING):
        res = evaluate_mot(gt, pred, classes=[1])
    assert set(res["per_class"]) == {"1"} and res["combined"]["GT"] == 1 and res["combined"]["FP"] == 0
    assert "1 predicted boxes of classes other than [1]" in caplog.text


def test_iou_threshold_inclusive():
    gt = {"s": np.array([row(1, 1, 0)])}
    m = evaluate_mot(gt, {"s": np.array([row(1, 5, 0, h=5.0)])})["combined"]  # IoU 0.5
    assert (m["FP"], m["FN"], m["IDTP"]) == (0, 0, 1)
    m = evaluate_mot(gt, {"s": np.array([row(1, 5, 0, h=4.9)])})["combined"]  # IoU 0.49
    assert (m["FP"], m["FN"]) == (1, 1)
    m = evaluate_mot(gt, {"s": np.array([row(1, 5, 0, h=4.9)])}, iou_threshold=0.4)["combined"]
    assert (m["FP"], m["FN"]) == (0, 0)


def test_preprocessing_distractors_consider_flag_and_ignore_regions():
    """Frame 1: pedestrian A (evaluated), static person B (distractor, class 7), pedestrian C
    marked not to consider, two ignore regions R, S (class 99, both id -1). Tracker boxes: on
    A (TP), on B (removed), on C (FP: C is not evaluated but absorbs nothing), fully inside R
    (removed), half inside R (kept: FP), and one far away (FP)."""
    gt = {"s": np.array([
        row(1, 1, 0), row(1, 2, 100, cls=7), row(1, 3, 200, conf=0), [1, -1, 300, 0, 40, 40, 1, 99],
        [1, -1, 400, 0, 40, 40, 1, 99],
    ])}
    pred = {"s": np.array([
        row(1, 11, 0), row(1, 12, 100), row(1, 13, 200), row(1, 14, 310), row(1, 15, 335), row(1, 16, 600),
    ])}
    options = dict(classes=[1], distractor_classes=[7], ignore_classes=[99], use_consider_flag=True)
    m = evaluate_mot(gt, pred, **options)["combined"]
    assert (m["GT"], m["TP"], m["FP"], m["FN"], m["Dets"]) == (1, 1, 3, 0, 4)
    plain = evaluate_mot({"s": gt["s"][:3]}, pred, classes=[1])["combined"]  # no preprocessing: C counts
    assert (plain["GT"], plain["TP"], plain["FP"]) == (2, 2, 4)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("bad, message", [
    (row(2, 1, 0, w=-1.0), "row 1: negative box width"),
    ([2.5, 1, 0, 0, 10, 10, 1, 1], "row 1: frame is not an integer"),
    ([0, 1, 0, 0, 10, 10, 1, 1], "row 1: frame numbers start at 1"),
    ([2, 1.5, 0, 0, 10, 10, 1, 1], "row 1: id is not an integer"),
    (row(1, 1, 50), "row 1: id 1 occurs twice in frame 1 \\(also at gt\\['s'\\] row 0\\)"),
    (row(2, 1, 0, cls=1.5), "row 1: class \\(column 8\\) is not an integer"),
    (row(9, 1, 0), "row 1: frame beyond the sequence length 5"),
    ([2, 1, np.nan, 0, 10, 10, 1, 1], "row 1: non-finite"),
])
def test_bad_rows_are_named(bad, message):
    gt = {"s": np.array([row(1, 1, 0), bad])}
    with pytest.raises(ValueError, match=f"gt\\['s'\\] {message}"):
        evaluate_mot(gt, {}, seq_lengths={"s": 5})


def test_zero_size_boxes_are_counted_and_logged(caplog):
    gt = {"s": np.array([row(1, 1, 0), row(1, 2, 100, w=0.0)])}
    with caplog.at_level(logging.WARNING):
        m = evaluate_mot(gt, {"s": np.array([row(1, 1, 0), row(1, 2, 100, w=0.0)])})["combined"]
    assert (m["TP"], m["FP"], m["FN"]) == (1, 1, 1)
    assert "s gt: 1 boxes of zero width or height" in caplog.text


def test_unknown_prediction_sequence_rejected():
    gt, pred = two_sequences()
    with pytest.raises(ValueError, match="zzz"):
        evaluate_mot(gt, {**pred, "zzz": pred["a"]})


# ------------------------------------------------------------------ folders


def mot_folders(tmp_path, gt, pred, seq_lengths):
    for seq, rows in gt.items():
        write_mot_txt(tmp_path / "gt" / seq / "gt" / "gt.txt", rows)
        if seq in seq_lengths:
            ini = f"[Sequence]\nname={seq}\nseqLength={seq_lengths[seq]}\n"
            (tmp_path / "gt" / seq / "seqinfo.ini").write_text(ini)
    for seq, rows in pred.items():
        write_mot_txt(tmp_path / "pred" / f"{seq}.txt", rows)
    return tmp_path / "gt", tmp_path / "pred"


def test_dirs_equal_arrays_and_report_missing_predictions(tmp_path, caplog):
    gt, pred = two_sequences()
    gt_dir, pred_dir = mot_folders(tmp_path, gt, {"a": pred["a"]}, {"a": 6})
    with caplog.at_level(logging.WARNING):
        res = evaluate_mot_dirs(gt_dir, pred_dir)
    assert res.pop("missing_predictions") == ["b"] and "1 of 2 sequences have no prediction file" in caplog.text
    assert res == evaluate_mot(gt, {"a": pred["a"]}, seq_lengths={"a": 6})
    assert res["per_sequence"]["a"]["num_frames"] == 6 and res["per_sequence"]["b"]["FN"] == 3


def test_dirs_name_file_and_line(tmp_path):
    gt, pred = two_sequences()
    gt_dir, pred_dir = mot_folders(tmp_path, gt, pred, {"a": 4, "b": 3})
    path = pred_dir / "a.txt"
    path.write_text("\n" + path.read_text() + "5,11,0,0,10,10,1,1\n")  # a blank first line, then a frame too far
    with pytest.raises(ValueError, match=f"{path}:11: frame beyond the sequence length 4"):
        evaluate_mot_dirs(gt_dir, pred_dir)
    path.write_text("1,11,0,0,10,10,1,1\n1,11,5,0,10,10,1,1\n")
    with pytest.raises(ValueError, match=f"{path}:2: id 11 occurs twice in frame 1"):
        evaluate_mot_dirs(gt_dir, pred_dir)
    write_mot_txt(pred_dir / "c.txt", pred["a"])
    with pytest.raises(ValueError, match="c.txt: prediction file for a sequence without ground truth"):
        evaluate_mot_dirs(gt_dir, pred_dir)


def test_synthetic_world_ground_truth_scores_perfectly(data_dir, tmp_path):
    gt_dir = data_dir / "synthetic" / "mot" / "val"
    for seq_dir in gt_dir.iterdir():
        shutil.copy(seq_dir / "gt" / "gt.txt", tmp_path / f"{seq_dir.name}.txt")
    c = evaluate_mot_dirs(gt_dir, tmp_path)["combined"]
    assert c["GT"] > 0 and c["HOTA"] == pytest.approx(1.0) and c["MOTA"] == 1.0 and c["IDF1"] == 1.0


# ------------------------------------------------------------------ table


def test_format_table():
    gt, pred = two_sequences()
    text = format_table(evaluate_mot(gt, pred), metrics=["MOTA", "IDSW", "GT"])
    lines = text.splitlines()
    assert lines[0].split() == ["sequence", "MOTA", "IDSW", "GT"]
    rows = [line.split() for line in lines if line and not line.startswith("-")][1:]
    assert rows == [["a", "75.0", "1", "8"], ["b", "66.7", "0", "3"], ["COMBINED", "72.7", "1", "11"]]
    assert len({len(line) for line in lines}) == 1  # aligned
    assert "HOTA" in format_table(evaluate_mot(gt, pred)).splitlines()[0]


# ------------------------------------------------------------------ MOTChallenge text I/O


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
        "import sys, eval.mot, eval.mots, eval.mot_io, eval.mots_io; "
        "print(sorted(m for m in ('torch', 'trackers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
