import numpy as np
import pytest

from trackers import IoUTracker, RetinaTrackTracker, SortTracker, track_sequence
from trackers.base import births
from tracker_scenes import dets, ids_by_det

A, B = [1.0, 0.0], [0.0, 1.0]
TRACKERS = {
    "sort": lambda **kw: SortTracker(min_hits=1, **kw),
    "retinatrack": lambda **kw: RetinaTrackTracker(score_threshold=0.1, **kw),
    "iou": lambda **kw: IoUTracker(**kw),
}


def box(x, y=0.0, size=40.0):
    return [x, y, x + size, y + size]


def low_score_scene():
    """Det 0: an object (appearance A) moving right, scored 0.9, 0.3, 0.9; det 1 (frames
    0-1): a lone low-score (0.3) false positive far away (appearance B)."""
    return [
        dets([box(0), box(300)], [A, B], scores=np.array([0.9, 0.3])),
        dets([box(2), box(300)], [A, B], scores=np.array([0.3, 0.3])),
        dets([box(4)], [A], scores=np.array([0.9])),
    ]


@pytest.mark.parametrize("name", TRACKERS)
def test_low_score_detection_extends_a_track_but_starts_none(name):
    out = track_sequence(TRACKERS[name](birth_score=0.6), low_score_scene())
    assert [ids_by_det(ft) for ft in out] == [{0: 1}, {0: 1}, {0: 1}]
    # default (None): every kept detection starts a track, as in the papers
    out = track_sequence(TRACKERS[name](), low_score_scene())
    assert [ids_by_det(ft) for ft in out] == [{0: 1, 1: 2}, {0: 1, 1: 2}, {0: 1}]


@pytest.mark.parametrize("name", TRACKERS)
def test_birth_score_is_inclusive(name):
    frame = dets([box(0), box(300)], [A, B], scores=np.array([0.6, 0.59]))
    assert ids_by_det(TRACKERS[name](birth_score=0.6).update(frame)) == {0: 1}


def test_births():
    scores = np.array([0.9, 0.3, 0.6, 0.2])
    assert births(scores, np.array([3]), 0.6).tolist() == [0, 2]
    assert births(scores, np.array([3]), None).tolist() == [0, 1, 2]
    assert births(scores[:0], np.zeros(0, np.int64), 0.6).dtype == np.int64
