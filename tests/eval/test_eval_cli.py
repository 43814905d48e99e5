"""`python -m eval`: same numbers as the library functions, tables, JSON, bad input."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eval.__main__ import main
from eval.davis import evaluate_davis_dirs
from eval.davis_io import write_label_png
from eval.mot import evaluate_mot_dirs
from eval.mot_io import read_mot_txt, write_mot_txt
from eval.mots import evaluate_mots_dirs
from eval.results_io import write_coco_results
from eval.sot import evaluate_sot_dirs
from eval.sot_io import write_sot_txt

REPO = Path(__file__).resolve().parents[2]


def _same(a, b) -> bool:
    """Equality of JSON-read values and in-memory results (NaN written as null)."""
    if isinstance(a, dict):
        return a.keys() == {str(k) for k in b} and all(_same(a[str(k)], v) for k, v in b.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if a is None:
        return isinstance(b, float) and math.isnan(b)
    return a == pytest.approx(b, abs=1e-12)


@pytest.fixture
def mot_prediction(data_dir, tmp_path) -> tuple[Path, Path]:
    """The tiny world's val ground truth and a tracker output: gt with one identity
    switched half-way and every 4th box dropped."""
    gt_dir = data_dir / "synthetic" / "mot" / "val"
    pred_dir = tmp_path / "pred"
    for seq_dir in sorted(gt_dir.iterdir()):
        rows = read_mot_txt(seq_dir / "gt" / "gt.txt")
        rows = rows[np.arange(len(rows)) % 4 != 0].copy()
        first_id = rows[0, 1]
        rows[(rows[:, 1] == first_id) & (rows[:, 0] > rows[:, 0].max() / 2), 1] = 999
        write_mot_txt(pred_dir / f"{seq_dir.name}.txt", rows)
    return gt_dir, pred_dir


def test_mot_cli_writes_the_library_numbers(mot_prediction, tmp_path, capsys):
    gt_dir, pred_dir = mot_prediction
    out = tmp_path / "mot.json"
    main(["mot", "--gt", str(gt_dir), "--pred", str(pred_dir), "--out", str(out)])
    expected = evaluate_mot_dirs(gt_dir, pred_dir)
    written = json.loads(out.read_text())
    assert _same(written, expected)
    assert 0 < written["combined"]["MOTA"] < 1 and written["combined"]["FN"] > 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["sequence", "HOTA", "DetA", "AssA"]
    assert table[-1].split()[0] == "COMBINED"
    assert float(table[-1].split()[1]) == pytest.approx(100 * expected["combined"]["HOTA"], abs=0.05)


def test_mot_cli_options_reach_the_evaluator(mot_prediction, tmp_path):
    gt_dir, pred_dir = mot_prediction
    strict = main(["mot", "--gt", str(gt_dir), "--pred", str(pred_dir), "--iou-threshold", "0.99",
                   "--conventions", "motmetrics"])
    default = main(["mot", "--gt", str(gt_dir), "--pred", str(pred_dir)])
    # prediction boxes equal gt boxes, so IoU is 1 and a stricter threshold changes nothing
    # for matches; conventions change zero-denominator and tie rules, not these counts
    assert strict["combined"]["FN"] == default["combined"]["FN"]
    shifted = tmp_path / "shifted"
    for path in pred_dir.iterdir():
        rows = read_mot_txt(path)
        rows[:, 2] += 0.3 * rows[:, 4]  # IoU of a box shifted by 30% of its width: 0.54
        write_mot_txt(shifted / path.name, rows)
    loose = main(["mot", "--gt", str(gt_dir), "--pred", str(shifted)])
    tight = main(["mot", "--gt", str(gt_dir), "--pred", str(shifted), "--iou-threshold", "0.6"])
    assert loose["combined"]["TP"] == default["combined"]["TP"]
    assert tight["combined"]["TP"] == 0


def test_mots_cli_on_the_synthetic_world(data_dir, tmp_path):
    gt_dir = data_dir / "synthetic" / "mots" / "val"
    out = tmp_path / "mots.json"
    result = main(["mots", "--gt", str(gt_dir), "--pred", str(gt_dir), "--out", str(out)])
    assert result["combined"]["sMOTSA"] == pytest.approx(1.0)
    assert _same(json.loads(out.read_text()), evaluate_mots_dirs(gt_dir, gt_dir))


def test_coco_cli_per_class_table(data_dir, tmp_path, capsys):
    gt_json = data_dir / "synthetic" / "annotations" / "val.json"
    gt = json.loads(gt_json.read_text())
    records = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 0.9}
        for a in gt["annotations"][::2]
    ]
    write_coco_results(tmp_path / "res.json", records)
    result = main(["coco", "--gt", str(gt_json), "--pred", str(tmp_path / "res.json")])
    assert 0.3 < result["combined"]["AR100"] < 0.7  # half of the boxes, found exactly
    names = {c["name"] for c in gt["categories"]}
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "class" and {ln.split()[0] for ln in lines[2:-2]} <= names


def test_sot_and_davis_cli(tmp_path):
    gt_boxes = np.array([[10, 10, 20, 20], [12, 10, 20, 20], [14, 10, 20, 20]], np.float64)
    write_sot_txt(tmp_path / "sot_gt" / "seq" / "groundtruth.txt", gt_boxes)
    write_sot_txt(tmp_path / "sot_pred" / "seq.txt", gt_boxes + [5, 0, 0, 0])
    sot = main(["sot", "--gt", str(tmp_path / "sot_gt"), "--pred", str(tmp_path / "sot_pred"),
                "--protocol", "got10k"])
    assert sot == evaluate_sot_dirs(tmp_path / "sot_gt", tmp_path / "sot_pred", protocol="got10k")
    assert sot["combined"]["AO"] == pytest.approx(15 * 20 / (2 * 20 * 20 - 15 * 20))  # overlap 15x20 of two 20x20 boxes

    labels = np.zeros((4, 16, 16), np.uint8)
    labels[:, 4:12, 4:12] = 1
    for frame, image in enumerate(labels):
        write_label_png(tmp_path / "davis_gt" / "seq" / f"{frame:05d}.png", image)
        write_label_png(tmp_path / "davis_pred" / "seq" / f"{frame:05d}.png", image)
    davis = main(["davis", "--gt", str(tmp_path / "davis_gt"), "--pred", str(tmp_path / "davis_pred")])
    assert davis == evaluate_davis_dirs(tmp_path / "davis_gt", tmp_path / "davis_pred")
    assert davis["combined"]["J&F-Mean"] == pytest.approx(1.0)


def test_bad_input_exits_with_the_file_and_line(mot_prediction, tmp_path):
    gt_dir, pred_dir = mot_prediction
    bad = tmp_path / "bad"
    shutil.copytree(pred_dir, bad)
    victim = sorted(bad.iterdir())[0]
    victim.write_text(victim.read_text() + "1,2,three,4,5,6,1,1,1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "eval", "mot", "--gt", str(gt_dir), "--pred", str(bad)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    line_number = len(victim.read_text().splitlines())
    assert f"{victim}:{line_number}" in proc.stderr
