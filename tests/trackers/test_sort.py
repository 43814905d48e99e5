import numpy as np
import pytest

from trackers import Detections, IoUTracker, SortTracker, track_sequence
from tracker_scenes import dets


def box(x, y=0.0, w=40.0, h=40.0):
    return [x, y, x + w, y + h]


def ids(out):
    return [ft.track_ids.tolist() for ft in out]


def moving_with_gap(speed, gap_at=6, gap=1, frames=12):
    """One 40 px box moving right at ``speed`` px/frame, undetected during ``gap`` frames."""
    return [Detections.empty() if gap_at <= t < gap_at + gap else dets([box(speed * t)]) for t in range(frames)]


def test_bridges_short_occlusion_by_prediction():
    # 20 px/frame (IoU 1/3 between frames): after the gap the box is 40 px from its last
    # detection (IoU 0) but overlaps the Kalman prediction, which has learned the velocity
    frames = moving_with_gap(20)
    sort = track_sequence(SortTracker(min_hits=1), frames)
    assert all(ft.track_ids.tolist() == [1] for t, ft in enumerate(sort) if t != 6)
    assert ids(sort)[6] == []
    iou = track_sequence(IoUTracker(), frames)
    assert ids(iou)[7] == [2]  # without motion the track is lost


def test_max_age_one_frame():
    out = track_sequence(SortTracker(min_hits=1), moving_with_gap(10, gap=2))
    assert ids(out)[8] == [2]  # two missed frames: deleted at max_age + 1
    out = track_sequence(SortTracker(min_hits=1, max_age=2), moving_with_gap(10, gap=2))
    assert ids(out)[8] == [1]


def test_min_hits_only_delays_output():
    frames = [dets([box(100)])] * 5 + [dets([box(100), box(300)])] * 4
    out = track_sequence(SortTracker(min_hits=3), frames)
    # first min_hits frames of the sequence are shown at once; the late object after 3 hits
    assert ids(out)[:5] == [[1]] * 5
    assert ids(out)[5:] == [[1], [1], [1, 2], [1, 2]]
    # after an occlusion the hit streak restarts, the id does not
    out = track_sequence(SortTracker(min_hits=3), moving_with_gap(10, frames=12))
    assert ids(out)[7:] == [[], [], [1], [1], [1]]


def test_hungarian_matches_more_than_greedy():
    # tracks at x=0 (id 1) and x=12 (id 2); detections at x=4 and x=-10. IoU:
    # track 1: .82, .60; track 2: .67, .29 (< 0.3). Greedy takes the .82 pair first and
    # leaves track 2 without a valid detection; Hungarian matches both tracks.
    frames = [dets([box(0), box(12)]), dets([box(4), box(-10)])]
    ft = track_sequence(SortTracker(min_hits=1), frames)[1]
    assert dict(zip(ft.det_indices.tolist(), ft.track_ids.tolist())) == {0: 2, 1: 1}
    ft = track_sequence(IoUTracker(), frames)[1]
    assert dict(zip(ft.det_indices.tolist(), ft.track_ids.tolist())) == {0: 1, 1: 3}


def test_outputs_filtered_boxes_and_detection_fields():
    frame = dets([box(0), box(200)], labels=[3, 5], scores=np.array([0.4, 0.8]))
    ft = SortTracker(min_score=0.5).update(frame)
    assert ft.det_indices.tolist() == [1] and ft.labels.tolist() == [5]
    np.testing.assert_allclose(ft.scores, [0.8])
    np.testing.assert_allclose(ft.boxes, frame.boxes[[1]], atol=1e-4)  # a new track's state is its box
    # a track that moved is reported between prediction and detection, near the detection
    sort = SortTracker(min_hits=1)
    sort.update(dets([box(0)]))
    ft = sort.update(dets([box(10)]))
    assert 5 < ft.boxes[0, 0] < 10


def test_class_aware():
    frames = [dets([box(0)], labels=[0]), dets([box(0)], labels=[1])]
    assert ids(track_sequence(SortTracker(min_hits=1), frames))[1] == [2]
    assert ids(track_sequence(SortTracker(min_hits=1, class_aware=False), frames))[1] == [1]


def test_reset_and_validation():
    sort = SortTracker()
    track_sequence(sort, [dets([box(0)])] * 3)
    assert sort.num_tracks == 1
    assert ids(track_sequence(sort, [dets([box(500)])])) == [[1]]
    with pytest.raises(ValueError):
        SortTracker(min_hits=0)
    with pytest.raises(ValueError):
        SortTracker(max_age=-1)
