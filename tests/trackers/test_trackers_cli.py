"""`python -m trackers run`: precomputed detections in, MOTChallenge results + timing out."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from eval.mot_io import frame_tracks_to_mot_rows, read_mot_txt, write_mot_txt
from trackers import IoUTracker, track_sequence
from trackers.detections_io import read_mot_detections

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trackers", "run", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def _public_detections(data_dir: Path, det_dir: Path) -> list[str]:
    """The tiny world's val ground truth as MOTChallenge det.txt files (score 0.9, class kept)."""
    names = []
    for seq in sorted((data_dir / "synthetic" / "mot" / "val").iterdir()):
        gt = read_mot_txt(seq / "gt" / "gt.txt")
        det = np.column_stack([gt[:, 0], -np.ones(len(gt)), gt[:, 2:6], np.full(len(gt), 0.9), gt[:, 7]])
        write_mot_txt(det_dir / seq.name / "det" / "det.txt", det)
        (det_dir / seq.name / "seqinfo.ini").write_text((seq / "seqinfo.ini").read_text())
        names.append(seq.name)
    return names


def test_run_writes_the_trackers_output_and_timing(data_dir, tmp_path):
    names = _public_detections(data_dir, tmp_path / "det")
    proc = _run("tracker=iou", "tracker.max_age=3", f"detections={tmp_path / 'det'}", f"out={tmp_path / 'out'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in names:
        frames = read_mot_detections(tmp_path / "det" / name / "det" / "det.txt", num_frames=10)
        expected = frame_tracks_to_mot_rows(track_sequence(IoUTracker(max_age=3), frames), None, [1, 2, 3, 4])
        np.testing.assert_allclose(read_mot_txt(tmp_path / "out" / f"{name}.txt"), expected, atol=0.01)
        assert len(expected) > 0
    timing = json.loads((tmp_path / "out" / "timing.json").read_text())
    assert timing["tracker"] == "iou" and timing["all"]["frames"] == 10 * len(names)
    assert timing["all"]["mean_ms"] > 0


def test_a_tracker_needing_embeddings_says_what_is_missing(data_dir, tmp_path):
    _public_detections(data_dir, tmp_path / "det")
    proc = _run("tracker=retinatrack", f"detections={tmp_path / 'det'}", f"out={tmp_path / 'out'}")
    assert proc.returncode != 0 and "needs embeddings" in proc.stderr
