"""Preparing detections for trackers: class-agnostic NMS, and track.py applying it."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from torchvision.ops import nms

from trackers.detection_sources import class_agnostic_nms
from trackers.types import Detections


def frame() -> Detections:
    # rows 0 and 1: one object reported under two labels (IoU 90 / 100 = 0.9); row 2
    # elsewhere; row 3 overlaps row 1 with IoU 80 / 200 = 0.4 (and row 0 with 0.45).
    return Detections(
        boxes=np.array([[0, 0, 10, 10], [0, 0, 10, 9], [50, 50, 60, 60], [0, 1, 10, 20]], np.float32),
        scores=np.array([0.6, 0.7, 0.4, 0.5], np.float32),
        labels=np.array([1, 2, 1, 1]),
        embeddings=np.arange(8, dtype=np.float32).reshape(4, 2),
    )


def test_drops_the_lower_scoring_label_of_one_object():
    kept = class_agnostic_nms(frame(), iou_threshold=0.7)
    # row 0 (label 1, 0.6) goes: row 1 (label 2, 0.7) overlaps it with IoU 0.9
    np.testing.assert_array_equal(kept.labels, [2, 1, 1])
    np.testing.assert_allclose(kept.scores, [0.7, 0.4, 0.5])
    np.testing.assert_array_equal(kept.embeddings, [[2, 3], [4, 5], [6, 7]])  # embeddings follow rows


def test_only_kept_rows_suppress():
    # row 3 overlaps the suppressed row 0 by 0.45 but the kept row 1 only by 0.4
    assert len(class_agnostic_nms(frame(), iou_threshold=0.42)) == 3
    assert len(class_agnostic_nms(frame(), iou_threshold=0.39)) == 2


def test_matches_torchvision_nms_on_random_frames():
    rng = np.random.default_rng(0)
    for _ in range(20):
        xy = rng.uniform(0, 80, (30, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(5, 40, (30, 2))], 1).astype(np.float32)
        dets = Detections(boxes=boxes, scores=rng.uniform(size=30), labels=rng.integers(0, 3, 30))
        expected = nms(torch.from_numpy(dets.boxes), torch.from_numpy(dets.scores), 0.5).numpy()
        kept = class_agnostic_nms(dets, 0.5)
        np.testing.assert_array_equal(kept.boxes, dets.boxes[np.sort(expected)])


def test_empty_frame_passes_through():
    empty = Detections(boxes=np.zeros((0, 4), np.float32), scores=np.zeros(0, np.float32),
                       labels=np.zeros(0, np.int64), embeddings=np.zeros((0, 2), np.float32))
    assert len(class_agnostic_nms(empty, 0.5)) == 0


def test_track_py_applies_it_only_when_configured():
    from track import tracker_input, tracking_nms_iou

    assert len(tracker_input(frame(), tracking_nms_iou(OmegaConf.create({"tracking_nms_iou": None})))) == 4
    assert len(tracker_input(frame(), tracking_nms_iou(OmegaConf.create({"tracking_nms_iou": 0.7})))) == 3
    with pytest.raises(ValueError, match="tracking_nms_iou must be a box IoU"):
        tracking_nms_iou(OmegaConf.create({"tracking_nms_iou": 1.5}))
