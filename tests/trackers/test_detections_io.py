"""Detection files: MOTChallenge det.txt (+ embeddings) and the cache's sequence files."""
from __future__ import annotations

import numpy as np
import pytest

from trackers.detections_io import load_sequence_detections, read_mot_detections, save_sequence_detections
from trackers.types import Detections


def test_sequence_file_round_trip_keeps_every_field(tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for n in (3, 0, 2):
        xy = rng.uniform(0, 50, (n, 2))
        frames.append(Detections(np.hstack([xy, xy + 10]), rng.uniform(size=n), rng.integers(0, 3, n),
                                 rng.normal(size=(n, 8)), [{"size": [4, 4], "counts": f"0{i}"} for i in range(n)]))
    save_sequence_detections(tmp_path / "seq.npz", [0, 2, 4], frames)
    indices, loaded = load_sequence_detections(tmp_path / "seq.npz")
    assert indices == [0, 2, 4]
    for a, b in zip(frames, loaded):
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.scores, b.scores)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.embeddings, b.embeddings)
        assert a.masks == b.masks


def test_mot_detections_with_aligned_embeddings(tmp_path):
    (tmp_path / "det.txt").write_text("1,-1,10,20,5,6,0.9\n3,-1,0,0,2,2,0.4\n1,-1,30,30,4,4,0.8\n")
    np.save(tmp_path / "emb.npy", np.arange(6, dtype=np.float32).reshape(3, 2))
    frames = read_mot_detections(tmp_path / "det.txt", tmp_path / "emb.npy", num_frames=4)
    assert [len(f) for f in frames] == [2, 0, 1, 0]
    np.testing.assert_allclose(frames[0].boxes, [[10, 20, 15, 26], [30, 30, 34, 34]])
    np.testing.assert_allclose(frames[0].embeddings, [[0, 1], [4, 5]])  # rows 1 and 3 of det.txt
    np.testing.assert_allclose(frames[2].scores, [0.4])


@pytest.mark.parametrize(
    "text, embeddings, message",
    [
        ("1,-1,10,20,0,6,0.9\n", None, "det.txt:1: box width and height"),
        ("1,-1,10,20,5,6,0.9\n9,-1,1,1,1,1,0.5\n", None, "det.txt:2: frame 9 outside"),
        ("1,-1,10,20,5,6,0.9\n", np.zeros((2, 4)), "emb.npy: expected (1, D)"),
    ],
)
def test_bad_detection_files_name_file_and_line(tmp_path, text, embeddings, message):
    (tmp_path / "det.txt").write_text(text)
    emb = None
    if embeddings is not None:
        emb = tmp_path / "emb.npy"
        np.save(emb, embeddings)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_mot_detections(tmp_path / "det.txt", emb, num_frames=3)
