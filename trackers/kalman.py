"""Constant-velocity Kalman filter for boxes, vectorised over many tracks at once.

State parametrisation (that of DeepSORT, JDE, FairMOT and ByteTrack, used here by SORT and
DMTrack alike)::

    x = [cx, cy, a, h, vcx, vcy, va, vh]      measurement z = [cx, cy, a, h]

with the box centre ``cx, cy`` and height ``h`` in pixels, the aspect ratio ``a = w / h``
and their velocities per frame. SORT's original filter uses ``[cx, cy, s=area, r, vx,
vy, vs]`` with fixed noise; we use one filter for both trackers and keep DeepSORT's noise
model, whose standard deviations scale with the box height (``std_weight_position``
= 1/20, ``std_weight_velocity`` = 1/160 of ``h``), so a large box may move further
before the gate rejects it.

Shapes: ``mean`` is ``(T, 8)``, ``cov`` is ``(T, 8, 8)`` for ``T`` tracks; boxes are
``(N, 4)``. Every method is pure (returns new arrays).
"""
from __future__ import annotations

import numpy as np
from scipy.special import chdtri

__all__ = ["KalmanBoxFilter", "chi2_gate", "xyah_to_xyxy", "xyxy_to_xyah"]


def chi2_gate(dof: int, confidence: float = 0.95) -> float:
    """Squared-Mahalanobis gating threshold: the ``confidence`` quantile of chi-square
    with ``dof`` degrees of freedom (0.95: 5.9915 for dof 2, 9.4877 for dof 4)."""
    return float(chdtri(dof, 1.0 - confidence))


def xyxy_to_xyah(boxes: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``x1, y1, x2, y2`` -> ``(N, 4)`` ``cx, cy, w / h, h`` (float64)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(h > 0, w / h, 0.0)
    return np.stack([b[:, 0] + w / 2, b[:, 1] + h / 2, a, h], axis=1)


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    """``(N, >=4)`` ``cx, cy, a, h, ...`` -> ``(N, 4)`` ``x1, y1, x2, y2`` (float64)."""
    cx, cy, a, h = np.asarray(xyah, np.float64)[:, :4].T
    w = a * h
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


class KalmanBoxFilter:
    """Kalman filter with constant-velocity motion on ``[cx, cy, a, h]`` (module docstring).

    Args:
        std_weight_position: position noise standard deviation per pixel of box height.
        std_weight_velocity: velocity noise standard deviation per pixel of box height.
    """

    ndim = 4

    def __init__(self, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160) -> None:
        self.std_weight_position = float(std_weight_position)
        self.std_weight_velocity = float(std_weight_velocity)
        self.motion = np.eye(2 * self.ndim)
        self.motion[: self.ndim, self.ndim:] = np.eye(self.ndim)  # x <- x + v (dt = 1 frame)

    def _std(self, h: np.ndarray, weight: float, aspect_std: float) -> np.ndarray:
        """``(T, 4)`` standard deviations ``[w h, w h, aspect_std, w h]`` for heights ``h``."""
        wh = weight * h
        return np.stack([wh, wh, np.full_like(h, aspect_std), wh], axis=1)

    def initiate(self, xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New tracks from ``(N, 4)`` measurements: zero velocity, wide velocity covariance.

        Returns ``mean (N, 8)`` and ``cov (N, 8, 8)``.
        """
        z = np.asarray(xyah, np.float64).reshape(-1, self.ndim)
        mean = np.concatenate([z, np.zeros_like(z)], axis=1)
        std = np.concatenate([
            self._std(z[:, 3], 2 * self.std_weight_position, 1e-2),
            self._std(z[:, 3], 10 * self.std_weight_velocity, 1e-5),
        ], axis=1)
        return mean, _diag(std**2)

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame ahead: ``x <- F x``, ``P <- F P Fᵀ + Q`` (Q scaled by the current h)."""
        h = mean[:, 3]
        std = np.concatenate([
            self._std(h, self.std_weight_position, 1e-2),
            self._std(h, self.std_weight_velocity, 1e-5),
        ], axis=1)
        f = self.motion
        return mean @ f.T, f @ cov @ f.T + _diag(std**2)

    def project(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distribution of the measurement: ``(T, 4)`` mean and ``(T, 4, 4)`` innovation
        covariance ``S = H P Hᵀ + R``."""
        n = self.ndim
        r = _diag(self._std(mean[:, 3], self.std_weight_position, 1e-1) ** 2)
        return mean[:, :n], cov[:, :n, :n] + r

    def update(self, mean: np.ndarray, cov: np.ndarray, xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correct ``T`` tracks with one ``(T, 4)`` measurement each (row-aligned).

        Gain ``K = P Hᵀ S⁻¹``; ``x <- x + K (z - H x)``; ``P <- P - K S Kᵀ``.
        """
        z_mean, s = self.project(mean, cov)
        gain = np.swapaxes(np.linalg.solve(s, cov[:, : self.ndim, :]), 1, 2)  # (T, 8, 4); S, P symmetric
        innovation = np.asarray(xyah, np.float64).reshape(-1, self.ndim) - z_mean
        new_mean = mean + np.einsum("tij,tj->ti", gain, innovation)
        new_cov = cov - gain @ s @ np.swapaxes(gain, 1, 2)
        return new_mean, new_cov

    def gating_distance(
        self, mean: np.ndarray, cov: np.ndarray, xyah: np.ndarray, only_position: bool = False
    ) -> np.ndarray:
        """Squared Mahalanobis distance ``(T, M)`` between each track's projected
        measurement distribution and each of ``(M, 4)`` measurements.

        With ``only_position`` only ``cx, cy`` count (compare with ``chi2_gate(2)``),
        otherwise all four (``chi2_gate(4)``). Computed as ``zᵀAz - 2μᵀAz + μᵀAμ`` with
        ``A = S⁻¹``, i.e. two matrix products over all pairs instead of a per-pair solve.
        """
        z_mean, s = self.project(mean, cov)
        z = np.asarray(xyah, np.float64).reshape(-1, self.ndim)
        if only_position:
            z_mean, s, z = z_mean[:, :2], s[:, :2, :2], z[:, :2]
        t, k = z_mean.shape
        a = np.linalg.inv(s)  # (T, k, k)
        za = (z_mean[:, None, :] @ a)[:, 0]  # (T, k): μᵀA
        zz = (z[:, :, None] * z[:, None, :]).reshape(len(z), k * k)  # (M, k²): z zᵀ
        d2 = a.reshape(t, k * k) @ zz.T - 2.0 * za @ z.T + np.sum(za * z_mean, axis=1)[:, None]
        return np.maximum(d2, 0.0)


def _diag(values: np.ndarray) -> np.ndarray:
    """``(T, k)`` -> ``(T, k, k)`` diagonal matrices."""
    out = np.zeros(values.shape + values.shape[-1:])
    idx = np.arange(values.shape[-1])
    out[..., idx, idx] = values
    return out
