import numpy as np
import pytest

from trackers import DMTrackLinker, Detections, IoUTracker, RetinaTrackTracker, SortTracker, track_sequence
from tracker_scenes import dets

A, B = [1.0, 0.0], [0.0, 1.0]


def box(x, y=0.0, size=100.0):
    return [x, y, x + size, y + size]


def crossing(emb_a=A, emb_b=B):
    """Det 0 is object A moving right (0, 20, 40, ...), det 1 object B moving left
    (100, 80, 60, ...): at frame 3 each is where the other was at frame 2 (IoU 1)."""
    return [dets([box(20 * t), box(100 - 20 * t)], [emb_a, emb_b]) for t in range(7)]


def follow(tracker, frames, target_box=None):
    tracker.reset(target_box=target_box)
    return [tracker.update(f) for f in frames]


def test_single_target_follows_first_frame_identity_through_crossing():
    out = follow(DMTrackLinker(single_target=True), crossing(), target_box=box(0))
    assert [ft.det_indices.tolist() for ft in out] == [[0]] * 7
    assert [ft.track_ids.tolist() for ft in out] == [[1]] * 7
    # the target annotation picks the identity: B when the box is B's
    out = follow(DMTrackLinker(single_target=True), crossing(), target_box=box(100))
    assert [ft.det_indices.tolist() for ft in out] == [[1]] * 7


def test_iou_or_motion_alone_swap_in_the_same_crossing():
    for tracker in (IoUTracker(), SortTracker(min_hits=1)):
        out = track_sequence(tracker, crossing())
        assert out[2].track_ids.tolist() == [1, 2] and out[3].track_ids.tolist() == [2, 1]
    # with identical embeddings the linker has only IoU + motion left and swaps too
    out = follow(DMTrackLinker(single_target=True), crossing(A, A), target_box=box(0))
    assert [ft.det_indices.tolist() for ft in out][2:4] == [[0], [1]]


def test_multi_object_mode_outputs_every_confirmed_track():
    out = track_sequence(DMTrackLinker(), crossing())
    assert [ft.track_ids.tolist() for ft in out] == [[1, 2]] * 7
    assert all(ft.det_indices.tolist() == [0, 1] for ft in out)


def test_target_defaults_to_highest_score():
    frames = [dets([box(0), box(300)], [A, B], scores=np.array([0.5, 0.8]))] * 3
    out = track_sequence(DMTrackLinker(single_target=True), frames)
    assert [ft.det_indices.tolist() for ft in out] == [[1]] * 3


def test_kalman_gate_rejects_far_detection_with_same_appearance():
    frames = [dets([box(0)], [A]), dets([box(500)], [A]), dets([box(500)], [A])]
    out = track_sequence(DMTrackLinker(), frames)
    assert [ft.track_ids.tolist() for ft in out] == [[1], [], [2]]  # id 2 confirmed on its 2nd frame
    # appearance alone (RetinaTrack) re-identifies it
    assert track_sequence(RetinaTrackTracker(), frames)[1].track_ids.tolist() == [1]
    # a near one (30 px on a 100 px box) passes the gate
    assert track_sequence(DMTrackLinker(), [frames[0], dets([box(30)], [A])])[1].track_ids.tolist() == [1]


def test_appearance_threshold_then_iou_stage():
    # same place, the appearance turns: cosine distance 0.3 (<= 0.4) links in the
    # appearance stage, 0.5 does not
    def turned(cos):
        return [dets([box(0)], [A])] + [dets([box(0)], [[cos, np.sqrt(1 - cos**2)]])] * 2

    def ids(tracker, frames):
        return [ft.track_ids.tolist() for ft in track_sequence(tracker, frames)]

    appearance_only = DMTrackLinker(iou_threshold=1.1)  # IoU stage can never match
    assert ids(appearance_only, turned(0.7)) == [[1], [1], [1]]
    assert ids(appearance_only, turned(0.5)) == [[1], [], [2]]
    # the IoU stage (IoU 1 >= 0.5) links a tracked track that looks too different
    assert ids(DMTrackLinker(), turned(0.5)) == [[1], [1], [1]]


def test_unconfirmed_tracks_need_a_second_detection():
    t = DMTrackLinker()
    frames = [dets([box(0)], [A]), dets([box(0), box(400)], [A, B]), dets([box(0), box(405)], [A, B])]
    out = track_sequence(t, frames)
    assert out[1].track_ids.tolist() == [1]  # id 2 born unconfirmed: not output
    assert out[2].track_ids.tolist() == [1, 2]
    # an unconfirmed track not matched on the next frame is deleted
    out = track_sequence(t, frames[:2] + [dets([box(0)], [A]), dets([box(0), box(400)], [A, B])])
    assert out[3].track_ids.tolist() == [1]
    assert t.num_tracks == 2  # 1 and the newborn 3


def test_lost_track_reidentified_by_appearance_then_deleted_after_max_age():
    def gap(n):
        return [dets([box(0)], [A])] * 2 + [Detections.empty()] * n + [dets([box(0)], [A])]
    assert track_sequence(DMTrackLinker(), gap(30))[-1].track_ids.tolist() == [1]
    assert track_sequence(DMTrackLinker(), gap(31))[-1].track_ids.tolist() == []  # new, unconfirmed
    # the single target never expires
    out = follow(DMTrackLinker(single_target=True), gap(31))
    assert out[-1].track_ids.tolist() == [1]


def test_score_filter_and_det_indices():
    frame = dets([box(0), box(300), box(600)], [A, B, A], scores=np.array([0.3, 0.9, 0.5]))
    ft = DMTrackLinker().update(frame)
    assert ft.det_indices.tolist() == [1, 2]
    np.testing.assert_allclose(ft.scores, [0.9, 0.5])


def test_output_box_kalman_or_detection():
    frames = [dets([box(20 * t + 3 * (t % 2))], [A]) for t in range(4)]  # jittered motion
    kalman = track_sequence(DMTrackLinker(), frames)
    detection = track_sequence(DMTrackLinker(output_box="detection"), frames)
    assert [ft.track_ids.tolist() for ft in detection] == [ft.track_ids.tolist() for ft in kalman] == [[1]] * 4
    for ft, f in zip(detection, frames):
        np.testing.assert_array_equal(ft.boxes, f.boxes)
    assert all(np.abs(ft.boxes - f.boxes).max() > 0.5 for ft, f in zip(kalman[1:], frames[1:]))
    with pytest.raises(ValueError, match="output_box"):
        DMTrackLinker(output_box="mean")


def test_embeddings_required():
    with pytest.raises(ValueError, match="embeddings"):
        DMTrackLinker().update(Detections(boxes=[box(0)], scores=[0.9], labels=[0]))
    assert len(DMTrackLinker().update(Detections.empty())) == 0
