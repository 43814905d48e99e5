from pathlib import Path

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from trackers.aoa import AOATracker, concatenate_features, frame_stride
from trackers.appearance_cascade import AppearanceCascadeTracker, gated_min_cost_matching
from trackers.base import track_sequence
from trackers.iou_tracker import IoUTracker
from trackers.matching import hungarian_assignment
from trackers.post_association import link_tracklets
from trackers.tracklets import Tracklets
from trackers.types import Detections, FrameTracks

CONF = Path(__file__).resolve().parents[2] / "conf"


def unit_at(degrees, dim=4):
    """Unit vector in the plane of the first two axes, at an angle (cos distance 1 - cos)."""
    v = np.zeros(dim)
    v[:2] = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return v


A, B, C = np.eye(4)[:3]  # mutually orthogonal appearances


def box(x, w=10.0):
    return [x, 0.0, x + w, 10.0]


def dets(embs, xs=None, labels=None):
    embs = np.asarray(embs, np.float32).reshape(-1, 4)
    n = len(embs)
    xs = range(0, 20 * n, 20) if xs is None else xs
    return Detections([box(x) for x in xs], np.full(n, 0.9), np.zeros(n) if labels is None else labels, embs)


def ids(ft: FrameTracks) -> list[int]:
    """Track id of each detection row, in row order."""
    return [dict(zip(ft.det_indices.tolist(), ft.track_ids.tolist()))[i] for i in sorted(ft.det_indices.tolist())]


# --- appearance cascade -------------------------------------------------------------


def test_appearance_reidentifies_a_swap_that_iou_gets_wrong():
    # two overlapping objects exchange places: positions say "stay", appearance says "swap"
    frames = [dets([A, B], xs=[0, 4]), dets([B, A], xs=[0, 4])]
    iou_out = track_sequence(IoUTracker(iou_threshold=0.3), frames)
    assert ids(iou_out[0]) == [1, 2] and ids(iou_out[1]) == [1, 2]  # IoU keeps positions
    out = track_sequence(AppearanceCascadeTracker(), frames)
    assert ids(out[0]) == [1, 2] and ids(out[1]) == [2, 1]  # appearance follows objects
    aoa = AOATracker(video_fps=1.0, tracking_fps=1.0, post_association=False).track(frames)
    assert ids(aoa[1]) == [2, 1]


def test_cascade_matches_recently_seen_tracks_first():
    # track 1 (A) seen last frame, track 2 (at 30 deg) missed one frame; the detection at
    # 22 deg is closer to track 2 (cos distance 0.01) than to track 1 (0.073), both within
    # the gate: the cascade gives it to the younger track, a plain min-cost matching would not
    frames = [dets([unit_at(0), unit_at(30)]), dets([unit_at(0)]), dets([unit_at(22)])]
    out = track_sequence(AppearanceCascadeTracker(max_cosine_distance=0.4), frames)
    assert ids(out[2]) == [1]
    linker = AppearanceCascadeTracker()
    [linker.update(f) for f in frames[:2]]
    distance = linker.gallery_distance(np.array([0, 1]), frames[2].embeddings)
    assert distance[1, 0] < distance[0, 0]  # so the cascade, not the distance, decided


def test_gate_and_max_age():
    near, far = unit_at(0), unit_at(60)  # cos distance 0.5
    out = track_sequence(AppearanceCascadeTracker(max_cosine_distance=0.4), [dets([near]), dets([far])])
    assert ids(out[1]) == [2]
    out = track_sequence(AppearanceCascadeTracker(max_cosine_distance=0.5), [dets([near]), dets([far])])
    assert ids(out[1]) == [1]  # the gate is inclusive
    gap = lambda n: [dets([A])] + [Detections.empty(4)] * n + [dets([A])]
    assert ids(track_sequence(AppearanceCascadeTracker(max_age=2), gap(2))[-1]) == [1]
    assert ids(track_sequence(AppearanceCascadeTracker(max_age=2), gap(3))[-1]) == [2]


def test_gallery_keeps_the_last_gallery_size_features():
    # appearance drifts 40 deg per frame (each step within the gate), then the first look returns
    frames = [dets([unit_at(a)]) for a in (0, 40, 80, 120, 0)]
    assert ids(track_sequence(AppearanceCascadeTracker(gallery_size=4), frames)[-1]) == [1]
    assert ids(track_sequence(AppearanceCascadeTracker(gallery_size=2), frames)[-1]) == [2]


def test_class_aware_cascade():
    frames = [dets([A], labels=[0]), dets([A], labels=[1])]
    assert ids(track_sequence(AppearanceCascadeTracker(class_aware=True), frames)[1]) == [2]
    assert ids(track_sequence(AppearanceCascadeTracker(class_aware=False), frames)[1]) == [1]


def test_gated_min_cost_matching_prefers_one_close_pair_like_deepsort():
    cost = np.array([[0.1, 0.35], [0.35, 0.9]])
    rows, cols = gated_min_cost_matching(cost, max_cost=0.4)
    assert rows.tolist() == [0] and cols.tolist() == [0]
    rows, _ = hungarian_assignment(cost, cost <= 0.4)  # the toolbox's most-pairs matching
    assert len(rows) == 2


# --- frame rate ---------------------------------------------------------------------


def test_frame_stride():
    assert frame_stride(30, 1) == 30 and frame_stride(29.97, 1) == 30
    assert frame_stride(25, 1) == 25 and frame_stride(10, 2) == 5 and frame_stride(1, 1) == 1
    assert frame_stride(5, 10) == 1
    with pytest.raises(ValueError):
        frame_stride(0, 1)


def test_one_fps_links_every_kth_frame_only():
    tracker = AOATracker(video_fps=3.0, tracking_fps=1.0, max_age=0)
    frames = [dets([A]) for _ in range(10)]
    out = tracker.track(frames)
    assert [len(ft) for ft in out] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    # max_age counts processed frames: 0 misses between frames 0, 3, 6, 9 -> one track
    assert {i for ft in out for i in ft.track_ids.tolist()} == {1}
    assert tracker.processed_frames(10).tolist() == [0, 3, 6, 9]
    # the per-video rate overrides the configured one
    assert [len(ft) for ft in tracker.track(frames, video_fps=5.0)] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]


def test_skipped_frames_do_not_count_as_misses():
    # the object is detected only on frames 0 and 30 of a 30 FPS video: at 1 FPS those are
    # consecutive processed frames, so even max_age=0 keeps the id
    frames = [dets([A]) if t in (0, 30) else Detections.empty(4) for t in range(31)]
    out = AOATracker(max_age=0, post_association=False).track(frames)
    assert ids(out[0]) == [1] and ids(out[30]) == [1]


# --- PA -----------------------------------------------------------------------------


def tracklets(spans, embs, labels=None):
    """Tracklets with track id k+1 spanning frames spans[k] = (first, last), one
    observation per frame with embedding embs[k]."""
    frames, members, emb = [], [], []
    for k, (first, last) in enumerate(spans):
        n = last - first + 1
        frames += range(first, last + 1)
        members += [k] * n
        emb += [embs[k]] * n
    labels = np.zeros(len(spans), np.int64) if labels is None else np.asarray(labels)
    return Tracklets(np.arange(1, len(spans) + 1), np.asarray(frames), np.asarray(members),
                     np.asarray(emb, np.float64), labels)


def test_pa_links_non_overlapping_and_never_overlapping_tracklets():
    same = [A, A, A]
    groups = link_tracklets(tracklets([(0, 2), (3, 5), (1, 4)], same), min_similarity=0.7)
    assert groups[0] == groups[1] and groups[2] not in (groups[0], groups[1])
    # a linked group keeps its members' constraints: T3 overlaps T2 only, and is similar to T1
    t3 = unit_at(25)  # cos 0.906 with A
    groups = link_tracklets(tracklets([(5, 6), (0, 3), (2, 4)], [A, A, t3]), min_similarity=0.7)
    assert groups[0] == groups[1] and groups[2] != groups[1]
    # below the similarity, or across labels, nothing links
    assert len(set(link_tracklets(tracklets([(0, 1), (2, 3)], [A, unit_at(50)]), 0.7))) == 2
    assert len(set(link_tracklets(tracklets([(0, 1), (2, 3)], [A, A], labels=[0, 1]), 0.7))) == 2


def test_pa_uses_mean_features_of_whole_tracklets():
    # tracklet 1 alternates 0/60 deg (mean at 30 deg); tracklet 2 sits at 30 deg
    t = tracklets([(0, 3), (5, 6)], [A, unit_at(30)])
    embs = t.embeddings.copy()
    embs[[1, 3]] = unit_at(60)
    t = Tracklets(t.track_ids, t.frames, t.members, embs, t.labels)
    assert len(set(link_tracklets(t, min_similarity=0.99))) == 1  # mean-to-mean cosine 1


def test_aoa_pa_relinks_an_object_after_a_long_absence():
    # A is lost for longer than max_age, B is always there; PA brings A's id back
    frames = [dets([A, B]) if t < 3 or t > 6 else dets([B]) for t in range(10)]
    no_pa = AOATracker(video_fps=1, max_age=1, post_association=False).track(frames)
    assert ids(no_pa[0]) == [1, 2] and ids(no_pa[9]) == [3, 2]
    out = AOATracker(video_fps=1, max_age=1).track(frames)
    assert ids(out[0]) == [1, 2] and ids(out[9]) == [1, 2]


def test_aoa_pa_never_merges_simultaneous_lookalikes():
    frames = [dets([A, A]) for _ in range(4)]
    for ft in AOATracker(video_fps=1).track(frames):
        assert sorted(ft.track_ids.tolist()) == [1, 2]


# --- two detection sources ----------------------------------------------------------


def test_two_sources_are_mixed_then_post_associated():
    # source 0 sees A (frames 0-2) and B; source 1 sees A too (duplicate) and C, and sees A
    # again on frames 7-9 after a gap longer than max_age
    src0 = [dets([A, B], xs=[0, 40]) if t < 3 else dets([B], xs=[40]) for t in range(10)]
    src1 = [dets([A, C], xs=[1, 80]) if t < 3 or t > 6 else dets([C], xs=[80]) for t in range(10)]
    out = AOATracker(video_fps=1, max_age=1).track_sources([src0, src1])
    first = out[0]
    # rows index the concatenation [source 0 rows, source 1 rows]; nothing de-duplicated
    assert first.det_indices.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(first.boxes[2], src1[0].boxes[0])
    a0, b, a1, c = ids(first)
    assert len({a0, b, a1, c}) == 4  # the duplicate of A overlaps in time: separate tracks
    # source 1's late A has no temporal overlap with source 1's early A: PA relinks it
    late = dict(zip(out[9].det_indices.tolist(), out[9].track_ids.tolist()))
    assert late[len(src0[9])] in (a0, a1) and late[len(src0[9]) + 1] == c
    with pytest.raises(ValueError, match="length"):
        AOATracker().track_sources([src0, src1[:5]])


def test_concatenate_features_averages_model_similarities():
    rng = np.random.default_rng(0)
    f1, f2 = rng.normal(size=(5, 8)), rng.normal(size=(5, 3)) * 100
    joint = concatenate_features(f1, f2).astype(np.float64)
    cos = lambda f: (f / np.linalg.norm(f, axis=1, keepdims=True)) @ (f / np.linalg.norm(f, axis=1, keepdims=True)).T
    np.testing.assert_allclose(np.linalg.norm(joint, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(joint @ joint.T, (cos(f1) + cos(f2)) / 2, atol=1e-6)


def test_config_builds_the_paper_tracker():
    tracker = instantiate(OmegaConf.load(CONF / "tracker" / "aoa.yaml"))
    assert isinstance(tracker, AOATracker)
    assert tracker.tracking_fps == 1.0 and tracker.post_association
    assert tracker.processed_frames(61).tolist() == [0, 30, 60]
