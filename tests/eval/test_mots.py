"""MOTS: text I/O, input checks, and the metrics against TrackEval's MOTSChallenge and
KittiMOTS datasets on generated non-overlapping masks with ignore regions."""
import logging
import shutil

import numpy as np
import pytest
import trackeval
from pycocotools import mask as mask_utils

from eval.mots import KITTI_MOTS, METRIC_NAMES, MOTS_CHALLENGE, evaluate_mots, evaluate_mots_dirs
from eval.mots_io import MotsRows, read_mots_txt, write_mots_txt

CONFIG = {"PRINT_CONFIG": False}
HOTA = trackeval.metrics.HOTA(CONFIG)
CLEAR = trackeval.metrics.CLEAR(CONFIG)
IDENTITY = trackeval.metrics.Identity(CONFIG)
H, W = 48, 64


def rle(mask: np.ndarray) -> bytes:
    return mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"]


def rect(y, x, h, w) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[max(y, 0):max(y + h, 0), max(x, 0):max(x + w, 0)] = True
    return m


def paint(layers):
    """Visible masks of ``(key, mask)`` layers painted back to front (later layers on top)."""
    label = np.full((H, W), -1)
    for k, (_, m) in enumerate(layers):
        label[m] = k
    return [(key, label == k) for k, (key, _) in enumerate(layers) if (label == k).any()]


def mask_scene(rng, num_frames=12, num_objects=6, classes=(1, 2), first_frame=1, p_switch=0.1):
    """``(gt, pred)`` lists of MOTS records; class 10 ignore regions, some predictions in them."""
    pos = rng.uniform([0, 0], [H - 12, W - 12], (num_objects, 2))
    size = rng.integers(8, 18, (num_objects, 2))
    cls = rng.choice(classes, num_objects)
    tracker_id = np.arange(num_objects) + 1
    next_id = 100
    gt, pred = [], []
    for t in range(num_frames):
        frame = first_frame + t
        pos += rng.normal(0, 2, pos.shape)
        y, x = pos.astype(int).T
        region = ("ignore", rect(0, W - 14, 14, 14))
        objects = [(o, rect(y[o], x[o], *size[o])) for o in range(num_objects) if rng.random() > 0.15]
        for key, m in paint([region, *objects]):
            cid = 10 if key == "ignore" else cls[key]
            gt.append((frame, 10000 if key == "ignore" else cid * 1000 + key, cid, H, W, rle(m)))
        switch = rng.random(num_objects) < p_switch
        tracker_id[switch] = next_id + np.arange(switch.sum())
        next_id += switch.sum()
        dy, dx = rng.integers(-2, 3, (2, num_objects))
        layers = [((tracker_id[o], cls[o]), rect(y[o] + dy[o], x[o] + dx[o], *size[o]))
                  for o, _ in objects if rng.random() > 0.1]
        layers.append(((next_id, rng.choice(classes)), rect(2, W - 12, 8, 8)))  # inside the ignore region
        layers.append(((next_id + 1, rng.choice(classes)), rect(*rng.integers(0, 30, 2), 10, 10)))  # FP
        next_id += 2
        for (tid, cid), m in paint(layers):
            pred.append((frame, tid, cid, H, W, rle(m)))
    return gt, pred


def write_records(path, records):
    write_mots_txt(path, MotsRows.from_records(records))


def trackeval_row(h, c, i):
    return {
        **{k: float(np.mean(h[k])) for k in ("HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr")},
        "sMOTSA": c["sMOTA"], "MOTSA": c["MOTA"], "MOTSP": c["MOTP"], "MODSA": c["MODA"],
        "TP": c["CLR_TP"], "FP": c["CLR_FP"], "FN": c["CLR_FN"], "IDSW": c["IDSW"], "Frag": c["Frag"],
        "MT": c["MT"], "ML": c["ML"], "IDF1": i["IDF1"], "IDP": i["IDP"], "IDR": i["IDR"],
    }


def trackeval_results(dataset, seqs, cls):
    out = {}
    for seq in seqs:
        data = dataset.get_preprocessed_seq_data(dataset.get_raw_seq_data("tr", seq), cls)
        out[seq] = {"HOTA": HOTA.eval_sequence(data), "CLEAR": CLEAR.eval_sequence(data),
                    "Identity": IDENTITY.eval_sequence(data)}
    combined = {name: metric.combine_sequences({s: r[name] for s, r in out.items()})
                for name, metric in (("HOTA", HOTA), ("CLEAR", CLEAR), ("Identity", IDENTITY))}
    return {s: trackeval_row(r["HOTA"], r["CLEAR"], r["Identity"]) for s, r in out.items()}, trackeval_row(
        combined["HOTA"], combined["CLEAR"], combined["Identity"])


def assert_rows_equal(ours, reference, where):
    for name, expected in reference.items():
        assert abs(ours[name] - expected) <= 1e-6, (where, name, ours[name], expected)


def test_equals_trackeval_mots_challenge(tmp_path):
    rng = np.random.default_rng(0)
    seq_info = {}
    for k in range(2):
        seq = f"MOTS20-0{k}"
        gt, pred = mask_scene(rng, classes=(2,), first_frame=1)
        write_records(tmp_path / "gt" / seq / "gt" / "gt.txt", gt)
        (tmp_path / "gt" / seq / "seqinfo.ini").write_text("[Sequence]\nseqLength=12\n")
        write_records(tmp_path / "trackers" / "tr" / "data" / f"{seq}.txt", pred)
        seq_info[seq] = 12
    dataset = trackeval.datasets.MOTSChallenge({
        "GT_FOLDER": str(tmp_path / "gt"), "TRACKERS_FOLDER": str(tmp_path / "trackers"), "TRACKERS_TO_EVAL": ["tr"],
        "SEQ_INFO": seq_info, "SKIP_SPLIT_FOL": True, "PRINT_CONFIG": False,
    })
    per_seq, combined = trackeval_results(dataset, seq_info, "pedestrian")
    result = evaluate_mots_dirs(tmp_path / "gt", tmp_path / "trackers" / "tr" / "data", **MOTS_CHALLENGE)
    for seq in seq_info:
        assert_rows_equal(result["per_sequence"][seq], per_seq[seq], seq)
    assert_rows_equal(result["combined"], combined, "combined")
    assert set(result["combined"]) == set(METRIC_NAMES)
    assert result["combined"]["FP"] > 0 and result["combined"]["IDSW"] > 0
    # the masks inside the ignore region were removed: without the region they are false positives
    no_ignore = evaluate_mots_dirs(tmp_path / "gt", tmp_path / "trackers" / "tr" / "data", ignore_class=99,
                                   **MOTS_CHALLENGE)
    assert no_ignore["combined"]["FP"] >= result["combined"]["FP"] + 2 * len(seq_info)


def test_equals_trackeval_kitti_mots_zero_based_flat_layout(tmp_path):
    rng = np.random.default_rng(1)
    seq_info = {}
    for k in range(2):
        seq = f"{k:04d}"
        gt, pred = mask_scene(rng, classes=(1, 2), first_frame=0)
        write_records(tmp_path / "gt" / f"{seq}.txt", gt)
        write_records(tmp_path / "trackers" / "tr" / "data" / f"{seq}.txt", pred)
        seq_info[seq] = 12
    dataset = trackeval.datasets.KittiMOTS({
        "GT_FOLDER": str(tmp_path / "gt"), "TRACKERS_FOLDER": str(tmp_path / "trackers"), "TRACKERS_TO_EVAL": ["tr"],
        "SEQ_INFO": seq_info, "GT_LOC_FORMAT": "{gt_folder}/{seq}.txt", "PRINT_CONFIG": False,
    })
    result = evaluate_mots_dirs(tmp_path / "gt", tmp_path / "trackers" / "tr" / "data", **KITTI_MOTS)
    for name in ("car", "pedestrian"):
        per_seq, combined = trackeval_results(dataset, seq_info, name)
        for seq in seq_info:
            assert_rows_equal(result["per_class"][name]["per_sequence"][seq], per_seq[seq], (name, seq))
        assert_rows_equal(result["per_class"][name]["combined"], combined, name)


def test_synthetic_world_ground_truth_scores_perfectly(data_dir, tmp_path):
    gt_dir = data_dir / "synthetic" / "mots" / "val"
    shutil.copytree(gt_dir, tmp_path / "pred")
    result = evaluate_mots_dirs(gt_dir, tmp_path / "pred")
    c = result["combined"]
    assert c["GT"] > 0 and result["missing_predictions"] == []
    assert c["HOTA"] == pytest.approx(1.0) and c["sMOTSA"] == pytest.approx(1.0) and c["IDF1"] == 1.0
    assert set(result["per_class"]) <= {"1", "2", "3"}


def test_missing_and_unknown_prediction_files(tmp_path, caplog):
    gt, pred = mask_scene(np.random.default_rng(2), num_frames=3, first_frame=0)
    write_records(tmp_path / "gt" / "a.txt", gt)
    write_records(tmp_path / "gt" / "b.txt", gt)
    write_records(tmp_path / "pred" / "a.txt", pred)
    with caplog.at_level(logging.WARNING):
        result = evaluate_mots_dirs(tmp_path / "gt", tmp_path / "pred")
    assert result["missing_predictions"] == ["b"] and "b" in caplog.text
    b = result["per_sequence"]["b"]
    assert b["TP"] == 0 and b["FN"] == b["GT"] > 0
    write_records(tmp_path / "pred" / "zzz.txt", pred)
    with pytest.raises(ValueError, match="zzz.txt"):
        evaluate_mots_dirs(tmp_path / "gt", tmp_path / "pred")


# ------------------------------------------------------------------ text I/O and bad input


def test_mots_txt_round_trip(tmp_path):
    records = [(0, 2001, 2, H, W, rle(rect(1, 1, 5, 5))), (3, 1002, 1, H, W, rle(rect(10, 10, 4, 6)))]
    write_records(tmp_path / "x.txt", records)
    (tmp_path / "y.txt").write_text("\n" + (tmp_path / "x.txt").read_text())
    rows = read_mots_txt(tmp_path / "y.txt")
    assert rows.frame.tolist() == [0, 3] and rows.ids.tolist() == [2001, 1002] and rows.classes.tolist() == [2, 1]
    assert rows.lines.tolist() == [2, 3]
    assert mask_utils.area(rows.rle(1)) == 24


@pytest.mark.parametrize("bad", ["1 2 3 4 5", "1 2 x 48 64 abc", "1 2 3 0 64 abc", "-1 2 3 48 64 abc"])
def test_read_mots_txt_malformed_names_file_and_line(tmp_path, bad):
    path = tmp_path / "bad.txt"
    path.write_text(f"0 1 1 {H} {W} {rle(rect(0, 0, 3, 3)).decode()}\n\n{bad}\n")
    with pytest.raises(ValueError, match=f"{path}:3:"):
        read_mots_txt(path)


def one_frame(*masks, cls=1, frame=0, size=(H, W)):
    return [(frame, k + 1, cls, *size, rle(m)) for k, m in enumerate(masks)]


def test_bad_input_is_named(tmp_path):
    gt_path = tmp_path / "gt" / "s.txt"
    write_records(gt_path, one_frame(rect(0, 0, 5, 5), rect(3, 3, 5, 5)))  # overlapping masks
    write_records(tmp_path / "pred" / "s.txt", one_frame(rect(0, 0, 5, 5)))
    with pytest.raises(ValueError, match=f"{gt_path}:2: mask overlaps"):
        evaluate_mots_dirs(tmp_path / "gt", tmp_path / "pred")
    write_records(gt_path, one_frame(rect(0, 0, 5, 5)) + [(0, 1, 1, H, W, rle(rect(9, 9, 2, 2)))])
    with pytest.raises(ValueError, match=f"{gt_path}:2: id 1 occurs twice"):
        evaluate_mots_dirs(tmp_path / "gt", tmp_path / "pred")
    write_records(gt_path, one_frame(rect(0, 0, 5, 5)) + one_frame(rect(0, 0, 5, 5), frame=3, size=(H, W + 1)))
    with pytest.raises(ValueError, match=f"{gt_path}:2: image size"):
        evaluate_mots_dirs(tmp_path / "gt", tmp_path / "pred")
    gt = {"s": MotsRows.from_records(one_frame(rect(0, 0, 5, 5), frame=4))}
    with pytest.raises(ValueError, match="row 0: frame 4 outside 0 .. 2"):
        evaluate_mots(gt, {}, first_frame=0, seq_lengths={"s": 3})


def test_hand_computed_small_case():
    """One object over two frames; the tracker's mask covers 20 of its 25 pixels, then
    switches id. sMOTSA = (0.8 + 1 - 0 FP - 1 IDSW) / 2."""
    obj = rect(0, 0, 5, 5)
    gt = {"s": MotsRows.from_records(one_frame(obj, frame=0) + one_frame(obj, frame=1))}
    pred = {"s": MotsRows.from_records([(0, 7, 1, H, W, rle(rect(0, 0, 4, 5))), (1, 8, 1, H, W, rle(obj))])}
    c = evaluate_mots(gt, pred, first_frame=0)["combined"]
    assert (c["TP"], c["FP"], c["FN"], c["IDSW"]) == (2, 0, 0, 1)
    assert c["MOTSP"] == pytest.approx(0.9) and c["MOTSA"] == pytest.approx(0.5)
    assert c["sMOTSA"] == pytest.approx((0.8 + 1.0 - 1) / 2)
    assert c["IDF1"] == pytest.approx(0.5)
