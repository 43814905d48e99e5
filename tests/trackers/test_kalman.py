import numpy as np
import pytest

from trackers.kalman import KalmanBoxFilter, chi2_gate, xyah_to_xyxy, xyxy_to_xyah

# One track at cx=10, cy=20, a=0.5, h=100: position std = h/20 = 5, velocity std = h/160.
Z = np.array([[10.0, 20.0, 0.5, 100.0]])


def predicted_once():
    kf = KalmanBoxFilter()
    return kf, *kf.predict(*kf.initiate(Z))


def test_box_conversions_round_trip():
    boxes = np.array([[0, 0, 50, 100], [10, 20, 40, 30]], np.float32)
    xyah = xyxy_to_xyah(boxes)
    np.testing.assert_allclose(xyah, [[25, 50, 0.5, 100], [25, 25, 3.0, 10]])
    np.testing.assert_allclose(xyah_to_xyxy(xyah), boxes)
    assert xyah_to_xyxy(np.zeros((0, 8))).shape == (0, 4)


def test_initiate_hand_values():
    mean, cov = KalmanBoxFilter().initiate(Z)
    np.testing.assert_array_equal(mean, [[10, 20, 0.5, 100, 0, 0, 0, 0]])
    # (2 * 5)^2 for positions, (10 * 100/160)^2 for velocities
    np.testing.assert_allclose(np.diag(cov[0]), [100, 100, 1e-4, 100, 39.0625, 39.0625, 1e-10, 39.0625])


def test_predict_hand_values():
    _, mean, cov = predicted_once()
    np.testing.assert_array_equal(mean, [[10, 20, 0.5, 100, 0, 0, 0, 0]])  # zero velocity: stays
    # P_xx = 100 + 39.0625 (velocity) + 25 (process noise); P_x,vx = 39.0625; P_vx = 39.0625 + (100/160)^2
    assert cov[0, 0, 0] == pytest.approx(164.0625)
    assert cov[0, 0, 4] == cov[0, 4, 0] == pytest.approx(39.0625)
    assert cov[0, 4, 4] == pytest.approx(39.453125)
    # a moving track moves by its velocity
    kf = KalmanBoxFilter()
    m, c = kf.initiate(Z)
    m[0, 4:6] = [3.0, -2.0]
    np.testing.assert_allclose(kf.predict(m, c)[0][0, :2], [13.0, 18.0])


def test_update_hand_values():
    kf, mean, cov = predicted_once()
    # S_xx = 164.0625 + 25 = 189.0625; innovation 18.90625 = S_xx / 10
    new_mean, new_cov = kf.update(mean, cov, Z + [18.90625, 0, 0, 0])
    np.testing.assert_allclose(new_mean[0, [0, 4]], [10 + 16.40625, 3.90625])  # K * innovation
    np.testing.assert_allclose(new_mean[0, [1, 2, 3, 5]], [20, 0.5, 100, 0])
    assert new_cov[0, 0, 0] == pytest.approx(164.0625 - 164.0625**2 / 189.0625)
    np.testing.assert_allclose(new_cov, np.swapaxes(new_cov, 1, 2))  # stays symmetric


def test_vectorised_matches_one_by_one():
    kf = KalmanBoxFilter()
    rng = np.random.default_rng(0)
    z = np.column_stack([rng.uniform(0, 500, (5, 2)), rng.uniform(0.3, 2, 5), rng.uniform(20, 200, 5)])
    mean, cov = kf.predict(*kf.initiate(z))
    meas = z + rng.normal(0, 3, z.shape)
    all_mean, all_cov = kf.update(mean, cov, meas)
    for i in range(5):
        m, c = kf.update(mean[i:i + 1], cov[i:i + 1], meas[i:i + 1])
        np.testing.assert_allclose(m[0], all_mean[i])
        np.testing.assert_allclose(c[0], all_cov[i])


def test_chi2_gates():
    assert chi2_gate(4) == pytest.approx(9.4877, abs=1e-4)
    assert chi2_gate(2) == pytest.approx(5.9915, abs=1e-4)


def test_gating_distance_accepts_near_rejects_far():
    kf, mean, cov = predicted_once()
    s_xx = 189.0625
    meas = Z + np.array([[np.sqrt(9 * s_xx), 0, 0, 0], [np.sqrt(10 * s_xx), 0, 0, 0], [300, 0, 0, 0]])
    d = kf.gating_distance(mean, cov, meas)
    np.testing.assert_allclose(d[0, :2], [9.0, 10.0])
    assert (d[0] <= chi2_gate(4)).tolist() == [True, False, False]
    # position-only: the same x offsets, but the height jump is ignored
    meas_h = meas.copy()
    meas_h[:, 3] = 150.0
    assert kf.gating_distance(mean, cov, meas_h)[0, 0] > chi2_gate(4)
    np.testing.assert_allclose(kf.gating_distance(mean, cov, meas_h, only_position=True)[0, :2], [9.0, 10.0])


def test_gating_distance_matches_per_pair_solve():
    kf = KalmanBoxFilter()
    rng = np.random.default_rng(1)
    z = np.column_stack([rng.uniform(0, 1000, (4, 2)), rng.uniform(0.3, 2, 4), rng.uniform(20, 200, 4)])
    mean, cov = kf.predict(*kf.initiate(z))
    meas = z[[0, 1, 2]] + rng.normal(0, 5, (3, 4))
    z_mean, s = kf.project(mean, cov)
    expected = [[(m - z_mean[t]) @ np.linalg.solve(s[t], m - z_mean[t]) for m in meas] for t in range(4)]
    np.testing.assert_allclose(kf.gating_distance(mean, cov, meas), expected, rtol=1e-6, atol=1e-8)
