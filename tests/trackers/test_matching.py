import numpy as np
import pytest

from trackers.matching import box_iou, cosine_similarity, greedy_assignment, hungarian_assignment


def test_box_iou_known_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    b = np.array([[5, 0, 15, 10], [0, 0, 10, 10], [0, 0, 5, 5], [20, 20, 30, 30]], np.float32)
    iou = box_iou(a, b)
    assert iou.shape == (2, 4)
    np.testing.assert_allclose(iou[0], [1 / 3, 1.0, 0.25, 0.0])
    np.testing.assert_allclose(iou[1], iou[0])


def test_box_iou_empty_and_degenerate():
    assert box_iou(np.zeros((0, 4)), np.zeros((3, 4))).shape == (0, 3)
    assert box_iou(np.zeros((2, 4)), np.zeros((0, 4))).shape == (2, 0)
    point = np.array([[5, 5, 5, 5]], np.float32)
    iou = box_iou(point, np.array([[0, 0, 10, 10], [5, 5, 5, 5]]))
    assert np.all(np.isfinite(iou))
    np.testing.assert_array_equal(iou, [[0.0, 0.0]])


def test_cosine_similarity_orthogonal_parallel_zero():
    a = np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 2.0]])
    b = np.array([[3.0, 0.0], [0.0, 5.0], [-1.0, 0.0]])
    cos = cosine_similarity(a, b)
    assert cos.shape == (3, 3)
    np.testing.assert_allclose(cos[0], [1.0, 0.0, -1.0])  # parallel (scaled), orthogonal, opposite
    np.testing.assert_array_equal(cos[1], [0.0, 0.0, 0.0])  # zero vector: 0, not NaN
    np.testing.assert_allclose(cos[2], [np.sqrt(0.5), np.sqrt(0.5), -np.sqrt(0.5)])


def test_cosine_similarity_rejects_mismatched_dims():
    with pytest.raises(ValueError):
        cosine_similarity(np.ones((2, 3)), np.ones((2, 4)))


def test_greedy_takes_global_max_first_where_hungarian_differs():
    score = np.array([[0.9, 0.8], [0.8, 0.1]])
    rows, cols = greedy_assignment(score)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]  # total 1.0
    rows, cols = hungarian_assignment(-score)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]  # total 1.6


def test_greedy_respects_gating_and_nan():
    score = np.array([[0.9, 0.8], [0.8, 0.1]])
    valid = np.array([[False, True], [True, False]])
    rows, cols = greedy_assignment(score, valid)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]
    rows, cols = greedy_assignment(np.array([[5.0]]), np.array([[False]]))
    assert len(rows) == 0 and len(cols) == 0
    rows, cols = greedy_assignment(np.array([[np.nan, 0.2]]))
    assert rows.tolist() == [0] and cols.tolist() == [1]


def test_greedy_tie_breaking_row_then_column():
    rows, cols = greedy_assignment(np.ones((2, 3)))
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 0), (1, 1)]
    rows, cols = greedy_assignment(np.array([[0.1, 0.5, 0.5], [0.5, 0.0, 0.0]]))
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]


def test_greedy_empty_inputs():
    for shape in [(0, 3), (3, 0), (0, 0)]:
        rows, cols = greedy_assignment(np.zeros(shape))
        assert rows.dtype == np.int64 and len(rows) == 0 and len(cols) == 0


def test_hungarian_respects_gating():
    cost = np.array([[0.0, 10.0], [10.0, 1.0]])
    rows, cols = hungarian_assignment(cost)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 0), (1, 1)]
    valid = np.array([[True, True], [True, False]])
    rows, cols = hungarian_assignment(cost, valid)  # (1, 1) forbidden
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]
    rows, cols = hungarian_assignment(np.array([[1.0, 2.0]]), np.array([[False, True]]))
    assert rows.tolist() == [0] and cols.tolist() == [1]
    # the solver must pad row 1 with an invalid pair, which is dropped
    rows, cols = hungarian_assignment(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[True, False], [False, False]]))
    assert rows.tolist() == [0] and cols.tolist() == [0]
    rows, cols = hungarian_assignment(np.array([[1.0]]), np.array([[False]]))
    assert len(rows) == 0
    rows, cols = hungarian_assignment(np.array([[np.inf, 3.0], [2.0, np.inf]]))
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]


def test_trackers_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, trackers, trackers.iou_tracker, trackers.retinatrack, trackers.sort, trackers.dmtrack, "
            "trackers.ltao_selector; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def rle_rect(x0, x1, y0, y1, size=(20, 20)):
    from pycocotools import mask as mask_utils

    m = np.zeros(size, np.uint8, order="F")
    m[y0:y1, x0:x1] = 1
    return mask_utils.encode(m)


def test_mask_iou_known_values():
    from trackers.matching import mask_iou

    top = rle_rect(0, 10, 0, 5)  # 50 px
    left = rle_rect(0, 5, 0, 10)  # 50 px, 25 shared with top
    empty = rle_rect(0, 0, 0, 0)
    iou = mask_iou([top, left], [top, left, empty])
    assert iou.shape == (2, 3) and iou.dtype == np.float64
    np.testing.assert_allclose(iou, [[1, 25 / 75, 0], [25 / 75, 1, 0]])
    assert mask_iou([], [top]).shape == (0, 1)
    assert mask_iou([top], []).shape == (1, 0)


def test_thresholds_of_assignments():
    score = np.array([[0.9, 0.2], [0.25, 0.1]])
    rows, cols = greedy_assignment(score, min_score=0.25)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 0)]  # (1, 1) below the floor
    rows, cols = greedy_assignment(score, min_score=0.2)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 0)]  # 0.25 pair blocked by row/col 0
    cost = 1 - score
    rows, cols = hungarian_assignment(cost, max_cost=0.75)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 0)]
    rows, cols = hungarian_assignment(cost, max_cost=0.8)  # (0, 1) + (1, 0) now both valid
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]


def test_hungarian_skips_rows_and_columns_without_valid_pairs():
    cost = np.array([[5.0, 1.0, 7.0], [2.0, 3.0, 9.0], [4.0, 4.0, 4.0]])
    valid = np.array([[False, True, False], [True, True, False], [False, False, False]])
    rows, cols = hungarian_assignment(cost, valid)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]


def test_unmatched():
    from trackers.matching import unmatched

    assert unmatched(5, np.array([3, 0])).tolist() == [1, 2, 4]
    assert unmatched(2, np.zeros(0, np.int64)).tolist() == [0, 1]
    assert unmatched(0, np.zeros(0, np.int64)).dtype == np.int64


def test_paired_box_iou_is_the_diagonal_of_box_iou():
    from trackers.matching import paired_box_iou

    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 50, (6, 2))
    a = np.c_[xy, xy + rng.uniform(1, 30, (6, 2))]
    b = a[::-1] + rng.normal(0, 5, (6, 4))
    np.testing.assert_allclose(paired_box_iou(a, b), np.diag(box_iou(a, b)))
    assert paired_box_iou(np.zeros((0, 4)), np.zeros((0, 4))).shape == (0,)


def test_cosine_similarity_float32_inputs_agree_with_float64():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 16)), rng.normal(size=(4, 16))
    cos32 = cosine_similarity(a.astype(np.float32), b.astype(np.float32))
    assert cos32.dtype == np.float64
    np.testing.assert_allclose(cos32, cosine_similarity(a, b), atol=1e-6)
