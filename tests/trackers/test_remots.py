import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from pycocotools import mask as mask_utils

from trackers.mask_fusion import fuse_mask_detections, iom_nms, mask_iom
from trackers.matching import mask_iou
from trackers.optical_flow import FarnebackFlow, warp_masks
from trackers.remots import ReMOTSTracker
from trackers.remots_thresholds import appearance_gate, histogram_boundary, intra_frame_similarities
from trackers.tracklet_merging import FORBIDDEN, merge_tracklets, tracklet_distances
from trackers.tracklets import Tracklets
from trackers.types import Detections

CONF = Path(__file__).resolve().parents[2] / "conf"
H, W = 64, 96
E = np.eye(6)


def unit(v):
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def rect(x, y, w, h):
    m = np.zeros((H, W), np.uint8)
    m[y : y + h, x : x + w] = 1
    return mask_utils.encode(np.asfortranarray(m))


def frame(embs, xs=None, scores=None, width=10):
    """One detection per embedding, masks ``width`` px wide at x = xs (default 2, 22, ...)."""
    n = len(embs)
    xs = [2 + 20 * i for i in range(n)] if xs is None else xs
    return Detections(
        boxes=[[x, 4, x + width, 14] for x in xs],
        scores=np.full(n, 0.9) if scores is None else scores,
        labels=np.zeros(n),
        embeddings=np.asarray(embs, np.float32).reshape(n, -1),
        masks=[rect(x, 4, width, 10) for x in xs],
    )


def ids(ft):
    return dict(zip(ft.det_indices.tolist(), ft.track_ids.tolist()))


# --- mask fusion --------------------------------------------------------------------


def test_iom_nms_suppresses_a_mask_inside_another_that_iou_nms_keeps():
    big, inside, elsewhere = rect(10, 10, 20, 20), rect(14, 14, 4, 4), rect(60, 10, 10, 10)
    masks = [big, inside, elsewhere]
    assert mask_iou([big], [inside])[0, 0] == pytest.approx(16 / 400)  # IoU NMS keeps both
    assert mask_iom([big], [inside])[0, 0] == pytest.approx(1.0)
    assert iom_nms(masks, np.array([0.9, 0.8, 0.7]), iom_threshold=0.5).tolist() == [0, 2]
    # score order decides: the inner mask wins when it is more confident
    assert iom_nms(masks, np.array([0.6, 0.8, 0.7]), iom_threshold=0.5).tolist() == [1, 2]


def test_fusion_of_two_detectors_keeps_each_pixel_once():
    a = Detections([[10, 10, 30, 30]], [0.9], [0], masks=[rect(10, 10, 20, 20)])
    # detector b: a fragment inside a's mask, and a mask overlapping a's by 5 of its 20 columns
    b = Detections([[14, 14, 18, 18], [25, 10, 45, 30]], [0.85, 0.8], [0, 0],
                   masks=[rect(14, 14, 4, 4), rect(25, 10, 20, 20)])
    fused = fuse_mask_detections([a, b], iom_threshold=0.5)
    assert fused.scores.tolist() == pytest.approx([0.9, 0.8])  # the fragment (IoM 1) is gone
    assert mask_utils.area(fused.masks).tolist() == [400, 300]  # shared 5 x 20 px kept by 0.9
    np.testing.assert_allclose(fused.boxes, [[10, 10, 30, 30], [30, 10, 45, 30]])


# --- short-term tracker -------------------------------------------------------------


def test_gate_is_mean_minus_three_sigma_of_intra_frame_similarities():
    frames = [frame([E[0], E[1] + E[0], E[2] - E[1]]), frame([E[3] + E[2], E[0] + 2 * E[4]])]
    sims = [unit(a) @ unit(b) for f in frames for a, b in itertools.combinations(f.embeddings, 2)]
    assert len(sims) == 4
    np.testing.assert_allclose(sorted(intra_frame_similarities(frames)), sorted(sims), atol=1e-6)
    mean = sum(sims) / len(sims)
    std = (sum((s - mean) ** 2 for s in sims) / len(sims)) ** 0.5
    default_sigmas = ReMOTSTracker().sigmas
    assert appearance_gate(intra_frame_similarities(frames), default_sigmas) == pytest.approx(mean - 3 * std, abs=1e-6)
    assert appearance_gate(intra_frame_similarities(frames), 3.0) == pytest.approx(mean + 3 * std, abs=1e-6)
    assert appearance_gate(np.zeros(0), 3.0) == -1.0  # no intra-frame pair: no gate


@pytest.mark.parametrize("angle, linked", [(1.1, True), (1.2, False)])
def test_short_term_association_obeys_the_data_driven_gate(angle, linked):
    # three objects that do not move; object 0's look turns by `angle` rad between frames
    b, c = unit(E[1] + 0.3 * E[0]), unit(E[2] + 0.3 * E[0] + 0.2 * E[1])
    a1 = np.cos(angle) * E[0] + np.sin(angle) * E[3]
    frames = [frame([E[0], b, c]), frame([a1, b, c])]
    sims = [unit(x) @ unit(y) for f in frames for x, y in itertools.combinations(f.embeddings, 2)]
    gate = np.mean(sims) + 3 * np.std(sims)
    assert (np.cos(angle) >= gate) == linked  # the case sits on the stated side of the gate
    out = ReMOTSTracker(sigmas=3.0).short_term(frames)  # the strict reading puts the gate near these pairs
    assert ids(out[1])[0] == (1 if linked else 4)
    assert ids(out[1])[1] == 2 and ids(out[1])[2] == 3


def test_short_term_needs_warped_masks_to_overlap():
    # a 4 px wide mask moves 12 px: no overlap unwarped, full overlap warped by the flow
    frames = [frame([E[0]], xs=[10], width=4), frame([E[0]], xs=[22], width=4)]
    backward = np.zeros((H, W, 2), np.float32)
    backward[..., 0] = -12.0  # pixel x of frame 1 came from x - 12 of frame 0
    assert ids(ReMOTSTracker().short_term(frames)[1]) == {0: 2}
    assert ids(ReMOTSTracker().short_term(frames, flows=[backward])[1]) == {0: 1}
    with pytest.raises(ValueError, match="flows"):
        ReMOTSTracker().short_term(frames, flows=[backward, backward])


def test_farneback_flow_from_images_warps_masks_onto_the_moved_object():
    rng = np.random.default_rng(0)
    texture = cv2.resize((rng.random((6, 6)) * 200 + 40).astype(np.uint8), (24, 24), interpolation=cv2.INTER_CUBIC)

    def image(x):
        im = np.full((H, W), 20, np.uint8)
        im[20:44, x : x + 24] = texture
        return np.repeat(im[..., None], 3, axis=2)  # RGB

    flow = FarnebackFlow()(image(20), image(26))
    np.testing.assert_allclose(flow[30, 28:48, 0], -6.0, atol=0.5)
    moved = warp_masks([rect(30, 24, 4, 16)], flow)
    assert mask_iou(moved, [rect(36, 24, 4, 16)])[0, 0] > 0.9
    frames = [frame([E[0]], xs=[30], width=4), frame([E[0]], xs=[36], width=4)]
    frames = [Detections(f.boxes, f.scores, f.labels, f.embeddings, [rect(x, 24, 4, 16)])
              for f, x in zip(frames, (30, 36))]
    assert ids(ReMOTSTracker().short_term(frames)[1]) == {0: 2}
    assert ids(ReMOTSTracker().short_term(frames, images=[image(20), image(26)])[1]) == {0: 1}


# --- merging ------------------------------------------------------------------------


def tracklets(spans, embs):
    frames, members, emb = [], [], []
    for k, (first, last) in enumerate(spans):
        frames += range(first, last + 1)
        members += [k] * (last - first + 1)
        emb += [embs[k]] * (last - first + 1)
    return Tracklets(np.arange(1, len(spans) + 1), np.asarray(frames), np.asarray(members),
                     np.asarray(emb, np.float64), np.zeros(len(spans), np.int64))


def test_hierarchical_merge_respects_the_temporal_constraints():
    same = [E[0]] * 4
    # T0 [0,4] and T1 [3,8] overlap; T2 [10,12] follows both closely; T3 starts 16 frames after T2
    t = tracklets([(0, 4), (3, 8), (10, 12), (28, 30)], same)
    dist = tracklet_distances(t, max_gap=15)
    assert dist[0, 1] == FORBIDDEN and dist[2, 3] == FORBIDDEN and dist[0, 2] == pytest.approx(0)
    groups = merge_tracklets(t, cut=0.5, max_gap=15)
    assert groups[0] != groups[1]  # identical looks, but simultaneous
    assert groups[2] in (groups[0], groups[1])
    assert groups[3] not in groups[:3]  # gap 16 > θ_t = 15
    pair = tracklets([(10, 12), (28, 30)], same[:2])
    assert len(set(merge_tracklets(pair, cut=0.5, max_gap=15))) == 2
    assert len(set(merge_tracklets(pair, cut=0.5, max_gap=16))) == 1


def test_merged_clusters_never_contain_overlapping_tracklets():
    # T0-T1 and T1-T2 may merge (distance 0), T0-T2 overlap: centroid linkage keeps the
    # whole cluster away from T2 once T0 and T1 merged (and vice versa)
    t = tracklets([(0, 4), (6, 8), (3, 5)], [E[0]] * 3)
    groups = merge_tracklets(t, cut=0.5, max_gap=15)
    assert groups[0] != groups[2]
    assert len(set(groups.tolist())) == 2


def test_merge_cut_separates_the_histograms():
    negatives = np.array([-0.2, -0.1, 0.0, 0.1])
    positives = np.array([0.6, 0.7, 0.9])
    assert histogram_boundary(negatives, positives, bins=200) == pytest.approx(0.355, abs=0.01)
    # overlapping histograms: the edge with the fewest misclassified (normalised) pairs
    # edges 0.2..0.4 misclassify one of four negatives (error 0.25), edges 0.6..0.8 one of three positives
    negatives, positives = np.array([-0.05, 0.05, 0.15, 0.55]), np.array([0.45, 0.85, 0.95])
    assert histogram_boundary(negatives, positives, bins=20) == pytest.approx(0.3)
    assert histogram_boundary(np.zeros(0), positives, bins=10) is None


def test_track_merges_short_tracklets_of_a_missed_object():
    # A is missed on frame 4 (short tracklets 0-3 and 5-8); B, a different look, stays
    a, b = unit(E[0] + 0.1 * E[2]), unit(E[1] + 0.1 * E[3])
    frames = [frame([a, b]) if t != 4 else frame([b], xs=[22]) for t in range(9)]
    short = ReMOTSTracker().short_term(frames)
    assert ids(short[0]) == {0: 1, 1: 2} and ids(short[5]) == {0: 3, 1: 2}
    out = ReMOTSTracker().track(frames)
    assert all(ids(out[t]) == {0: 1, 1: 2} for t in (0, 3, 5, 8))
    assert ids(out[4]) == {0: 2}
    # too long an absence for θ_t: no merge
    out = ReMOTSTracker(max_gap=1).track(frames)
    assert ids(out[5]) == {0: 3, 1: 2}


def test_config_builds_the_paper_tracker():
    tracker = instantiate(OmegaConf.load(CONF / "tracker" / "remots.yaml"))
    assert isinstance(tracker, ReMOTSTracker) and isinstance(tracker.flow, FarnebackFlow)
    assert tracker.max_gap == 15 and tracker.sigmas == -3.0
