import numpy as np
import pytest

from trackers import IoUTracker, track_sequence
from trackers.types import Detections
from tracker_scenes import dets, ids_by_det


def box(x, y=0.0, w=10.0, h=10.0):
    return [x, y, x + w, y + h]


def test_slow_objects_keep_ids():
    frames = [dets([box(2 * t), box(50 - 2 * t, 30)]) for t in range(10)]
    out = track_sequence(IoUTracker(), frames)
    for ft in out:
        assert ids_by_det(ft) == {0: 1, 1: 2}
        assert ft.track_ids.dtype == np.int64
    np.testing.assert_array_equal(out[3].boxes, frames[3].boxes)
    np.testing.assert_array_equal(out[3].scores, frames[3].scores)


def test_jump_further_than_size_gets_new_id():
    out = track_sequence(IoUTracker(), [dets([box(0)]), dets([box(3)]), dets([box(20)])])
    assert [ft.track_ids.tolist() for ft in out] == [[1], [1], [2]]


def test_iou_threshold_inclusive_and_respected():
    # IoU([0,0,10,10], [5,0,15,10]) = 1/3
    out = track_sequence(IoUTracker(iou_threshold=1 / 3), [dets([box(0)]), dets([box(5)])])
    assert out[1].track_ids.tolist() == [1]
    out = track_sequence(IoUTracker(iou_threshold=0.34), [dets([box(0)]), dets([box(5)])])
    assert out[1].track_ids.tolist() == [2]


def test_greedy_highest_iou_wins():
    # two detections overlap the single track; the higher-IoU one continues it
    out = track_sequence(IoUTracker(), [dets([box(0)]), dets([box(4), box(1)])])
    assert ids_by_det(out[1]) == {0: 2, 1: 1}


def test_max_age():
    seq = lambda gap: [dets([box(0)])] + [Detections.empty()] * gap + [dets([box(0)])]
    out = track_sequence(IoUTracker(max_age=1), seq(1))
    assert out[1].track_ids.tolist() == [] and out[-1].track_ids.tolist() == [1]
    out = track_sequence(IoUTracker(max_age=1), seq(2))
    assert out[-1].track_ids.tolist() == [2]
    out = track_sequence(IoUTracker(max_age=0), seq(1))
    assert out[-1].track_ids.tolist() == [2]
    out = track_sequence(IoUTracker(max_age=5), seq(5))
    assert out[-1].track_ids.tolist() == [1]


def test_class_aware():
    frames = [dets([box(0)], labels=[0]), dets([box(0)], labels=[1])]
    assert track_sequence(IoUTracker(class_aware=True), frames)[1].track_ids.tolist() == [2]
    out = track_sequence(IoUTracker(class_aware=False), frames)
    assert out[1].track_ids.tolist() == [1]
    assert out[1].labels.tolist() == [1]  # reported label is the detection's


def test_min_score_and_det_indices_point_into_input():
    frame = dets([box(0), box(50), box(100)], scores=np.array([0.2, 0.8, 0.6]))
    ft = IoUTracker(min_score=0.5).update(frame)
    assert ft.det_indices.tolist() == [1, 2]
    assert ft.track_ids.tolist() == [1, 2]
    np.testing.assert_array_equal(ft.boxes, frame.boxes[[1, 2]])


def test_ids_never_repeat_and_reset_restarts():
    tracker = IoUTracker(max_age=0)
    frames = [dets([box(0)]), Detections.empty(), dets([box(0)]), Detections.empty(), dets([box(0)])]
    out = track_sequence(tracker, frames)
    assert [ft.track_ids.tolist() for ft in out] == [[1], [], [2], [], [3]]
    out = track_sequence(tracker, frames)
    assert out[0].track_ids.tolist() == [1]


def test_invalid_max_age():
    with pytest.raises(ValueError):
        IoUTracker(max_age=-1)
