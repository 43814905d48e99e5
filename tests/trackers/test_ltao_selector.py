import numpy as np
import pytest
from pycocotools import mask as mask_utils

from trackers import Detections, LtaoSelector, track_sequence

A, B, C = [0, 0, 50, 50], [200, 0, 250, 50], [400, 0, 450, 50]  # three far-apart places


def cands(*box_scores, masks=None):
    boxes = [b for b, _ in box_scores]
    scores = [s for _, s in box_scores]
    return Detections(boxes=boxes, scores=scores, labels=np.zeros(len(boxes)), masks=masks)


def picks(out):
    return [ft.det_indices.tolist() for ft in out]


def test_without_smoothing_picks_highest_score():
    frames = [cands((A, 0.8), (B, 0.9))] * 3
    out = track_sequence(LtaoSelector(smoothing=False), frames)
    assert picks(out) == [[1]] * 3
    assert [ft.track_ids.tolist() for ft in out] == [[1]] * 3
    np.testing.assert_allclose(out[0].scores, [0.9])


def test_smoothing_keeps_previous_location():
    # frame 0 picks A (only candidate); then A 0.8 vs distractor B 0.9:
    # 0.6 * 0.8 + 0.4 * IoU 1 = 0.88 > 0.6 * 0.9 + 0 = 0.54
    frames = [cands((A, 0.8))] + [cands((A, 0.8), (B, 0.9))] * 3
    assert picks(track_sequence(LtaoSelector(), frames)) == [[0]] * 4
    # with alpha = 0.9 the score dominates: A 0.9 * 0.8 + 0.1 = 0.82 < B 0.9 * 0.95 = 0.855
    frames = [cands((A, 0.8))] + [cands((A, 0.8), (B, 0.95))]
    assert picks(track_sequence(LtaoSelector(alpha=0.9), frames))[1] == [1]


def broken_then_smooth(smooth_frames):
    """A is tracked, then only B is detected (IoU 0: the track breaks), then B stays put
    for ``smooth_frames`` frames (IoU 1 each), then a test frame with B 0.8 and C 0.85."""
    return ([cands((A, 0.9))] * 3 + [cands((B, 0.9))] + [cands((B, 0.9))] * smooth_frames
            + [cands((B, 0.8), (C, 0.85))])


def test_break_disables_smoothing_and_30_smooth_frames_reenable_it():
    sel = LtaoSelector()
    out = track_sequence(sel, broken_then_smooth(29))
    assert picks(out)[3] == [0]  # the break (only B)
    assert picks(out)[-1] == [1]  # still off after 29 smooth frames: highest score C
    assert not sel.smoothing_active
    sel = LtaoSelector()
    out = track_sequence(sel, broken_then_smooth(30))
    assert picks(out)[-1] == [0]  # back on after 30: stays on B (0.88 vs 0.51)
    assert sel.smoothing_active


def at(x):
    return [x, 0, x + 50, 50]


def test_recovery_needs_consecutive_smooth_frames():
    # a 50 px box shifted by 35 px has IoU 15 / 85 = 0.18: in [0.1, 0.3], neither a break
    # nor a smooth frame, so it restarts the count
    sel = LtaoSelector(recover_frames=3)
    track_sequence(sel, [cands((A, 0.9)), cands((at(200), 0.9)), cands((at(200), 0.9)), cands((at(200), 0.9))])
    assert sel.smooth_frames == 2 and not sel.smoothing_active
    sel.update(cands((at(235), 0.9)))
    assert sel.smooth_frames == 0 and not sel.smoothing_active
    sel.update(cands((at(235), 0.9)))
    sel.update(cands((at(235), 0.9)))
    assert sel.smooth_frames == 2 and not sel.smoothing_active
    sel.update(cands((at(235), 0.9)))
    assert sel.smoothing_active
    sel.update(cands((at(270), 0.9)))  # in between again: smoothing stays on
    assert sel.smoothing_active and sel.smooth_frames == 0


def test_frame_without_candidates_breaks_the_track():
    sel = LtaoSelector()
    out = track_sequence(sel, [cands((A, 0.9)), Detections.empty(), cands((A, 0.8), (B, 0.9))])
    assert picks(out) == [[0], [], [1]]
    assert not sel.smoothing_active


def rle(x0, x1, y0=0, y1=50, size=(100, 500)):
    m = np.zeros(size, np.uint8, order="F")
    m[y0:y1, x0:x1] = 1
    return mask_utils.encode(m)


def test_mask_iou_used_when_masks_exist():
    # the candidate at A has A's box but a disjoint mask: by mask IoU it gets no bonus
    same_box = [cands((A, 0.9), masks=[rle(0, 25)]),
                cands((A, 0.7), (B, 0.8), masks=[rle(25, 50), rle(200, 250)])]
    assert picks(track_sequence(LtaoSelector(), same_box))[1] == [1]  # 0.42 + 0 < 0.48 + 0
    boxes_only = [cands((A, 0.9)), cands((A, 0.7), (B, 0.8))]
    assert picks(track_sequence(LtaoSelector(), boxes_only))[1] == [0]  # 0.42 + 0.4 > 0.48


def test_validation():
    with pytest.raises(ValueError):
        LtaoSelector(recover_frames=0)
