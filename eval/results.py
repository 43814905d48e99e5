"""Metric rows and their combination over sequences and classes, by TrackEval's rules.

Every metric works from *counts* that add up over sequences and classes (CLEAR and Identity
counts; HOTA's per-alpha TP/FN/FP and TP-weighted AssA/AssRe/AssPr/LocA sums), so

- a sequence row is computed from its counts (summed over classes when there are several:
  TrackEval's detection average, ``cls_comb_det_av``);
- ``combined`` sums the counts over sequences (TrackEval's ``combine_sequences``: counts
  summed, HOTA's association and localisation scores weighted by HOTA_TP) and over classes;
- ``class_averaged`` is TrackEval's ``cls_comb_cls_av``: the mean over classes of each
  class's combined ratios, with counts summed.

A row maps :data:`METRIC_NAMES` to floats (ratios, in ``[0, 1]`` except MOTA / MODA / sMOTA)
or ints (:data:`COUNT_NAMES`).
"""
from __future__ import annotations

import logging
from typing import Hashable, Iterable, Mapping, Sequence

import numpy as np

from eval import table
from eval.clear import clear_counts, clear_metrics
from eval.hota import hota_counts, hota_metrics
from eval.identity import identity_counts, identity_metrics
from eval.preprocess import FrameRows, class_sequence
from eval.sequence import TrackingSequence

__all__ = ["COUNT_NAMES", "METRIC_NAMES", "assemble_result", "class_counts", "format_table", "sequence_counts"]

log = logging.getLogger(__name__)

METRIC_NAMES: tuple[str, ...] = (
    "HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr", "HOTA(0)", "LocA(0)", "HOTALocA(0)",
    "MOTA", "MOTP", "MODA", "sMOTA", "IDF1", "IDP", "IDR", "Recall", "Precision",
    "TP", "FP", "FN", "IDSW", "Frag", "MT", "PT", "ML", "IDTP", "IDFP", "IDFN",
    "GT", "Dets", "GT_IDs", "IDs", "num_frames",
)
COUNT_NAMES = frozenset(
    {"TP", "FP", "FN", "IDSW", "Frag", "MT", "PT", "ML", "IDTP", "IDFP", "IDFN", "GT", "Dets", "GT_IDs", "IDs",
     "num_frames"})
DEFAULT_TABLE = ("HOTA", "DetA", "AssA", "MOTA", "MOTP", "IDF1", "IDSW", "FP", "FN", "Frag", "MT", "ML", "GT")


def sequence_counts(seq: TrackingSequence, threshold: float = 0.5, conventions: str = "trackeval") -> dict:
    """All summable counts of one sequence and class: CLEAR, Identity, HOTA and track numbers."""
    return {
        **clear_counts(seq, threshold, conventions),
        **identity_counts(seq, threshold, conventions),
        **hota_counts(seq),
        "GT_IDs": seq.num_gt_ids,
        "IDs": seq.num_tracker_ids,
    }


def class_counts(
    frames: Sequence[FrameRows], classes: Sequence[int] | None, threshold: float, conventions: str, name: str
) -> dict:
    """``{class: counts}`` of one sequence (``{None: counts}`` when ``classes`` is ``None``)."""
    out = {}
    for cls in [None] if classes is None else classes:
        seq, removed = class_sequence(frames, cls, conventions)
        if removed:
            log.info("%s: %d tracker detections removed (matched to distractors or inside ignore regions)",
                     name, removed)
        out[cls] = sequence_counts(seq, threshold, conventions)
    return out


def assemble_result(
    counts: Mapping[str, Mapping[Hashable, dict]],
    num_frames: Mapping[str, int],
    class_labels: Mapping[Hashable, str] | None,
    conventions: str = "trackeval",
    rename: Mapping[str, str] | None = None,
) -> dict:
    """The result dict from ``counts[sequence][class]``.

    ``class_labels`` maps the class keys of ``counts`` to the names used under
    ``per_class``; ``None`` (class-agnostic) leaves out ``per_class`` and
    ``class_averaged``. ``rename`` renames metrics in every row (e.g. MOTA -> MOTSA).
    """
    def row(parts: Iterable[dict], frames: int, single_sequence: bool) -> dict:
        values = _metrics_row(_add(parts), frames, conventions, single_sequence)
        return {(rename or {}).get(k, k): v for k, v in values.items()}

    sequences = list(counts)
    total_frames = sum(num_frames[s] for s in sequences)
    result = {
        "per_sequence": {s: row(counts[s].values(), num_frames[s], True) for s in sequences},
        "combined": row([c for s in sequences for c in counts[s].values()], total_frames, False),
    }
    if class_labels is not None:
        per_class = {
            label: {
                "per_sequence": {s: row([counts[s][cls]], num_frames[s], True) for s in sequences},
                "combined": row([counts[s][cls] for s in sequences], total_frames, False),
            }
            for cls, label in class_labels.items()
        }
        result["class_averaged"] = _class_average([c["combined"] for c in per_class.values()])
        result["per_class"] = per_class
    return result


def _add(parts: Iterable[dict]) -> dict:
    parts = list(parts)
    return {key: sum(p[key] for p in parts) for key in parts[0]}


def _metrics_row(counts: dict, num_frames: int, conventions: str, single_sequence: bool) -> dict:
    values = {
        **hota_metrics(counts),
        **clear_metrics(counts, conventions, single_sequence),
        **identity_metrics(counts, conventions),
        "GT": int(counts["GT"]), "Dets": int(counts["Dets"]),
        "GT_IDs": int(counts["GT_IDs"]), "IDs": int(counts["IDs"]), "num_frames": int(num_frames),
    }
    return {name: values[name] for name in METRIC_NAMES}


def _class_average(rows: Sequence[dict]) -> dict:
    """Mean of the ratios, sum of the counts; ``num_frames`` is the same for every class."""
    out = {}
    for name in rows[0]:
        values = [r[name] for r in rows]
        if name == "num_frames":
            out[name] = values[0]
        elif name in COUNT_NAMES:
            out[name] = sum(values)
        else:
            out[name] = float(np.mean(values))
    return out


def format_table(result: Mapping, metrics: Sequence[str] = DEFAULT_TABLE) -> str:
    """Aligned text table of a MOT result: one row per sequence, then ``COMBINED``."""
    return table.format_table(result, metrics)
