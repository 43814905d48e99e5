import numpy as np
import pytest

from trackers import IoUTracker, RetinaTrackTracker, track_sequence
from trackers.types import Detections
from tracker_scenes import dets, ids_by_det


def unit(deg):
    r = np.deg2rad(deg)
    return [np.cos(r), np.sin(r)]


def box(x, y=0.0, w=10.0, h=10.0):
    return [x, y, x + w, y + h]


A, B = [1.0, 0.0], [0.0, 1.0]


def crossing_frames():
    """Two same-size boxes crossing: A moves right 0->20, B moves left 20->0.

    Det 0 is always object A, det 1 object B. At frame 3 A is where B was at frame 2 (IoU 1)
    and vice versa, so IoU alone swaps them.
    """
    return [dets([box(4 * t), box(20 - 4 * t)], [A, B]) for t in range(6)]


def test_crossing_lookalikes_keep_ids_with_embeddings():
    out = track_sequence(RetinaTrackTracker(), crossing_frames())
    assert [ids_by_det(ft) for ft in out] == [{0: 1, 1: 2}] * 6


def test_crossing_lookalikes_swap_with_iou_tracker():
    out = track_sequence(IoUTracker(), crossing_frames())
    assert ids_by_det(out[2]) == {0: 1, 1: 2}
    assert ids_by_det(out[3]) == {0: 2, 1: 1}  # the identity switch RetinaTrack avoids


def test_iou_truncation():
    tracker = RetinaTrackTracker()
    tracker.update(dets([[0, 0, 100, 100]], [A]))
    # IoU with [0,0,100,100] = 0.39, 0.41, 0.0; embeddings identical (cos 1)
    cand = np.array([[0, 0, 100, 39], [0, 0, 100, 41], [500, 500, 600, 600]], np.float32)
    score, valid = tracker.similarity(cand, np.array([A, A, A], np.float32), np.zeros(3, np.int64))
    np.testing.assert_allclose(score, [[1.0, 1.41, 1.0]], rtol=1e-6)
    assert valid.tolist() == [[True, True, True]]
    # truncation changes the decision: IoU 0.39 with cos 0.9 loses to IoU 0 with cos 0.95
    t = RetinaTrackTracker()
    t.update(dets([[0, 0, 100, 100]], [A]))
    ft = t.update(dets([[0, 0, 100, 39], [500, 500, 600, 600]], [unit(np.rad2deg(np.arccos(0.9))), unit(np.rad2deg(np.arccos(0.95)))]))
    assert ids_by_det(ft) == {0: 2, 1: 1}
    t = RetinaTrackTracker(iou_truncation=0.0)  # untruncated: 0.39 + 0.9 > 0.95
    t.update(dets([[0, 0, 100, 100]], [A]))
    ft = t.update(dets([[0, 0, 100, 39], [500, 500, 600, 600]], [unit(np.rad2deg(np.arccos(0.9))), unit(np.rad2deg(np.arccos(0.95)))]))
    assert ids_by_det(ft) == {0: 1, 1: 2}


def cos_deg(c):
    return np.rad2deg(np.arccos(c))


def test_cosine_gate_forbids_match_even_at_iou_one():
    for c, expected in [(0.49, [2]), (0.51, [1])]:
        out = track_sequence(RetinaTrackTracker(), [dets([box(0)], [A]), dets([box(0)], [unit(cos_deg(c))])])
        assert out[1].track_ids.tolist() == expected, c
    # a custom epsilon moves the gate
    out = track_sequence(RetinaTrackTracker(epsilon=0.3), [dets([box(0)], [A]), dets([box(0)], [unit(cos_deg(0.4))])])
    assert out[1].track_ids.tolist() == [1]
    # epsilon -1 (make demo's setting) switches the gate off: opposite embeddings still match
    # on IoU; among two candidates the higher IoU + cos wins
    out = track_sequence(RetinaTrackTracker(epsilon=-1.0), [dets([box(0)], [A]), dets([box(0)], [unit(180)])])
    assert out[1].track_ids.tolist() == [1]
    out = track_sequence(RetinaTrackTracker(epsilon=-1.0),
                         [dets([box(0)], [A]), dets([box(2), box(0, 30)], [unit(180), A])])
    assert ids_by_det(out[1]) == {0: 2, 1: 1}  # far look-alike 0 + 1 beats overlapping 0.67 - 1


def test_far_away_match_by_appearance_alone():
    # no IoU term at all, cos 1 >= epsilon: RetinaTrack re-identifies by appearance
    out = track_sequence(RetinaTrackTracker(), [dets([box(0)], [A]), dets([box(500)], [A])])
    assert out[1].track_ids.tolist() == [1]


def absent_then_back(gap):
    # Detections.empty() without embeddings: empty frames need none (and trackers/types.py's
    # Detections.empty(embedding_dim) currently fails to reshape a (0, D) array)
    return [dets([box(0)], [A])] + [Detections.empty()] * gap + [dets([box(0)], [A])]


def test_max_age_40():
    out = track_sequence(RetinaTrackTracker(), absent_then_back(40))
    assert out[-1].track_ids.tolist() == [1]
    assert all(len(ft) == 0 for ft in out[1:-1])
    out = track_sequence(RetinaTrackTracker(), absent_then_back(41))
    assert out[-1].track_ids.tolist() == [2]


def test_max_age_counts_frames_where_object_is_filtered_out():
    low = dets([box(0)], [A], scores=np.array([0.1]))  # below score_threshold
    tracker = RetinaTrackTracker(max_age=2)
    out = track_sequence(tracker, [dets([box(0)], [A]), low, low, dets([box(0)], [A])])
    assert out[-1].track_ids.tolist() == [1]
    out = track_sequence(tracker, [dets([box(0)], [A]), low, low, low, dets([box(0)], [A])])
    assert out[-1].track_ids.tolist() == [2]
    assert tracker.num_tracks == 1


def test_history_matches_older_observation():
    # frame 0: appearance at 0 deg; frame 1: 55 deg (cos 0.57 >= 0.5, matched);
    # frame 2: -10 deg: cos 0.98 to the frame-0 observation, cos 0.42 < 0.5 to the latest.
    frames = [dets([box(0)], [unit(0)]), dets([box(0)], [unit(55)]), dets([box(0)], [unit(-10)])]
    out = track_sequence(RetinaTrackTracker(history=8), frames)
    assert [ft.track_ids.tolist() for ft in out] == [[1], [1], [1]]
    out = track_sequence(RetinaTrackTracker(history=1), frames)
    assert [ft.track_ids.tolist() for ft in out] == [[1], [1], [2]]
    # H=2 still covers it; with 2 newer observations in between H=2 no longer does
    out = track_sequence(RetinaTrackTracker(history=2), frames)
    assert out[2].track_ids.tolist() == [1]
    frames4 = frames[:2] + [dets([box(0)], [unit(55)])] + frames[2:]
    out = track_sequence(RetinaTrackTracker(history=2), frames4)
    assert out[3].track_ids.tolist() == [2]
    out = track_sequence(RetinaTrackTracker(history=3), frames4)
    assert out[3].track_ids.tolist() == [1]


def test_top_k_and_score_threshold():
    frame = dets(
        [box(0), box(100), box(200), box(300)],
        [A, A, A, A],
        scores=np.array([0.9, 0.4, 0.8, 0.7]),
    )
    ft = RetinaTrackTracker(top_k=2).update(frame)
    assert ft.det_indices.tolist() == [0, 2]
    ft = RetinaTrackTracker(top_k=100).update(frame)
    assert ft.det_indices.tolist() == [0, 2, 3]  # 0.4 < score_threshold 0.5
    ft = RetinaTrackTracker(score_threshold=0.3).update(frame)
    assert ft.det_indices.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(ft.scores, frame.scores)


def test_class_aware():
    frames = [dets([box(0)], [A], labels=[0]), dets([box(0)], [A], labels=[1])]
    assert track_sequence(RetinaTrackTracker(), frames)[1].track_ids.tolist() == [2]
    assert track_sequence(RetinaTrackTracker(class_aware=False), frames)[1].track_ids.tolist() == [1]


def test_embeddings_required():
    tracker = RetinaTrackTracker()
    with pytest.raises(ValueError, match="embeddings"):
        tracker.update(Detections(boxes=[box(0)], scores=[0.9], labels=[0]))
    assert len(tracker.update(Detections.empty())) == 0  # empty frames need none


def test_ids_unique_and_reset():
    tracker = RetinaTrackTracker()
    frames = [dets([box(0), box(100)], [A, B]), dets([box(0), box(100), box(200)], [A, B, [1.0, 1.0]])]
    out = track_sequence(tracker, frames)
    assert [sorted(ft.track_ids.tolist()) for ft in out] == [[1, 2], [1, 2, 3]]
    assert track_sequence(tracker, frames)[0].track_ids.tolist() == [1, 2]
