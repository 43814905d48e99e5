"""The two reference conventions of the MOT metrics: ``"trackeval"`` (TrackEval 1.3,
the default) and ``"motmetrics"`` (py-motmetrics 1.4). Their differences are listed in
:mod:`eval.mot`; this module holds what several metrics share.
"""
from __future__ import annotations

import numpy as np

__all__ = ["CONVENTIONS", "check_conventions", "divide"]

CONVENTIONS = ("trackeval", "motmetrics")


def check_conventions(conventions: str) -> str:
    if conventions not in CONVENTIONS:
        raise ValueError(f"conventions must be one of {CONVENTIONS}, got {conventions!r}")
    return conventions


def divide(numerator, denominator, conventions: str) -> float:
    """``numerator / max(1, denominator)`` (trackeval) or the plain IEEE quotient (motmetrics)."""
    if conventions == "trackeval":
        return float(numerator / max(1.0, denominator))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(numerator) / np.float64(denominator))
