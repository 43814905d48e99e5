"""Single-object-tracking evaluation: one entry point per input kind over the benchmark
protocols.

=========  ===================================  =====================================
protocol   benchmark                            metrics (module)
=========  ===================================  =====================================
``ope``    OTB-2015, LaSOT (one-pass)           success AUC, precision @20 px,
                                                normalised precision (:mod:`eval.sot_ope`)
``got10k`` GOT-10k                              AO, SR0.5, SR0.75 (:mod:`eval.sot_got10k`)
``oxuva``  OxUvA (long-term, present/absent)    TPR, TNR, GM, MaxGM (:mod:`eval.sot_oxuva`)
``vot_lt`` VOT-LT / LTB-35                      Pr, Re, F (:mod:`eval.sot_vot_lt`)
=========  ===================================  =====================================

Every protocol returns ``{"per_sequence": {seq: {metric: value}}, "combined": {metric:
value}, "curves": {name: {"thresholds": [...], ...}}}`` with plain Python numbers and
lists, ready for ``json.dump``. Ground truth is a :class:`~eval.sot_data.SotGroundTruth`
per sequence; predictions are ``(N, 4)`` boxes or ``(N, 5)`` boxes + score, a NaN box
meaning "absent". File formats and the directory layout: :mod:`eval.sot_io`.
"""
from __future__ import annotations

import os
from typing import Callable, Mapping, Sequence

import numpy as np

from eval.sot_data import SotGroundTruth
from eval.sot_got10k import evaluate_got10k
from eval.sot_io import load_sot_dirs
from eval.sot_ope import evaluate_ope
from eval.sot_oxuva import evaluate_oxuva
from eval.sot_vot_lt import evaluate_vot_lt

__all__ = ["PROTOCOLS", "evaluate_sot", "evaluate_sot_dirs"]

PROTOCOLS: dict[str, Callable[..., dict]] = {
    "ope": evaluate_ope,
    "got10k": evaluate_got10k,
    "oxuva": evaluate_oxuva,
    "vot_lt": evaluate_vot_lt,
}


def _check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown SOT protocol {protocol!r}; choose from {sorted(PROTOCOLS)}")


def evaluate_sot(
    gt: Mapping[str, SotGroundTruth], pred: Mapping[str, np.ndarray], protocol: str = "ope", **opts
) -> dict:
    """Evaluate in-memory predictions with one protocol.

    Args:
        gt: sequence name -> ground truth.
        pred: sequence name -> predictions, one row per ground-truth frame.
        protocol: a key of :data:`PROTOCOLS`.
        **opts: protocol options: ``iou_threshold`` (``oxuva``, default 0.5),
            ``resolution`` (``vot_lt``, default 100, None = every distinct confidence).

    Raises:
        ValueError: unknown protocol, or mismatched sequences/frames (see
            :func:`eval.sot_data.paired_sequences`).
    """
    _check_protocol(protocol)
    return PROTOCOLS[protocol](gt, pred, **opts)


def evaluate_sot_dirs(
    gt_dir: str | os.PathLike,
    pred_dir: str | os.PathLike,
    protocol: str = "ope",
    *,
    sequences: Sequence[str] | None = None,
    **opts,
) -> dict:
    """Evaluate ``PRED/<seq>.txt`` against ``GT/<seq>/groundtruth.txt`` (+ absence files).

    ``sequences`` restricts the evaluation to a list of sequence names; ``opts`` go to the
    protocol (see :func:`evaluate_sot`). Returns the protocol's result dict.
    """
    _check_protocol(protocol)  # before reading any file
    gt, pred = load_sot_dirs(gt_dir, pred_dir, sequences)
    return evaluate_sot(gt, pred, protocol, **opts)
