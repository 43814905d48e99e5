"""ByteTrack's second association (``low_score``) in the IoU tracker and the RetinaTrack
store: low-score detections extend tracks the first association left unmatched, by box
IoU alone, and never start tracks."""
import numpy as np
import pytest

from trackers import IoUTracker, RetinaTrackTracker, track_sequence
from trackers.matching import low_score_association
from tracker_scenes import dets, ids_by_det

A, B = [1.0, 0.0], [0.0, 1.0]
# max_age=0: a track that misses one frame is gone, so every extension shows in the ids
TRACKERS = {
    "retinatrack": lambda **kw: RetinaTrackTracker(score_threshold=0.5, max_age=0, **kw),
    "iou": lambda **kw: IoUTracker(min_score=0.5, max_age=0, **kw),
}


def box(x, y=0.0, size=40.0):
    return [x, y, x + size, y + size]


def half_hidden_scene():
    """One object moving right, scored 0.9, 0.3, 0.9; in the low-score frame its
    appearance flips (B), as an occluded object's embedding would."""
    return [
        dets([box(0)], [A], scores=np.array([0.9])),
        dets([box(4)], [B], scores=np.array([0.3])),
        dets([box(8)], [A], scores=np.array([0.9])),
    ]


@pytest.mark.parametrize("name", TRACKERS)
def test_low_score_detection_carries_the_track_through(name):
    out = track_sequence(TRACKERS[name](low_score=0.2), half_hidden_scene())
    assert [ids_by_det(ft) for ft in out] == [{0: 1}, {0: 1}, {0: 1}]
    # off (default): the low-score frame is dropped and the object comes back as a new track
    out = track_sequence(TRACKERS[name](), half_hidden_scene())
    assert [ids_by_det(ft) for ft in out] == [{0: 1}, {}, {0: 2}]
    # below low_score: dropped as before
    out = track_sequence(TRACKERS[name](low_score=0.35), half_hidden_scene())
    assert [ids_by_det(ft) for ft in out] == [{0: 1}, {}, {0: 2}]


@pytest.mark.parametrize("name", TRACKERS)
def test_first_association_wins_and_low_scores_start_nothing(name):
    trk = TRACKERS[name](low_score=0.2)
    trk.update(dets([box(0)], [A], scores=np.array([0.9])))
    # det 0 (high) takes the track; det 1 (low duplicate) and det 2 (lone, low) are dropped
    frame = dets([box(2), box(3), box(300)], [A, A, A], scores=np.array([0.9, 0.3, 0.3]))
    assert ids_by_det(trk.update(frame)) == {0: 1}
    assert trk.num_tracks == 1


@pytest.mark.parametrize("name", TRACKERS)
def test_second_association_needs_overlap_and_the_class(name):
    first = dets([box(0), box(200)], [A, A], labels=np.array([0, 1]), scores=np.array([0.9, 0.9]))
    # det 0 overlaps track 1 with IoU 15/65 = 0.23; det 1 sits on track 2 with another label
    low = dets([box(25), box(202)], [A, A], labels=np.array([0, 0]), scores=np.array([0.3, 0.3]))
    for kw, expected in [
        ({}, {}),
        ({"low_iou_threshold": 0.2}, {0: 1}),
        ({"class_aware": False}, {1: 2}),
    ]:
        trk = TRACKERS[name](low_score=0.2, **kw)
        trk.update(first)
        assert ids_by_det(trk.update(low)) == expected, kw


def test_low_score_association_skips_matched_tracks_and_indexes_the_inputs():
    tracks = np.array([box(0), box(100), box(200)], np.float32)
    labels = np.zeros(3, np.int64)
    # detection 0 (high) took track 0 in the first association; 1 and 2 are low-score
    det_boxes = np.array([box(0), box(201), box(1)], np.float32)
    low = np.array([1, 2])
    first = (np.array([0]), np.array([0]))
    rows, cols = low_score_association(tracks, labels, first, det_boxes, np.zeros(3, np.int64), low, 0.5)
    assert rows.tolist() == [0, 2] and cols.tolist() == [0, 1]  # track 0 was matched already
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    rows, cols = low_score_association(tracks, labels, none, det_boxes, np.zeros(3, np.int64), low, 0.5)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 2), (2, 1)]
