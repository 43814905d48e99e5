"""LVIS box and mask AP through the ``lvis`` package (federated evaluation).

LVIS ground truth is a COCO dict whose images list ``neg_category_ids`` (verified absent)
and ``not_exhaustive_category_ids`` (present but not exhaustively annotated) and whose
categories carry a ``frequency`` (``"r"``, ``"c"``, ``"f"``: rare / common / frequent).
lvis' ``LVISEval`` then evaluates, per image, only categories that are annotated or
negative there, and ignores unmatched detections of not-exhaustive categories. Results are
the COCO results files of :mod:`eval.results_io`; the 300 highest-scoring detections per
image are kept (lvis' ``max_dets``).

numpy: lvis 0.5.3 casts with ``np.float`` in ``LVISEval.accumulate``, an alias numpy 1.24
removed. Importing this module rebinds the name ``np`` inside ``lvis.eval`` (that module
only) to a view of numpy that adds ``float``; numpy itself is not patched, and lvis' code
runs unchanged. (A subclass overriding ``accumulate`` would have to copy its 120 lines.)

Both ground truth and results are handed to lvis as objects built in memory: lvis' ``LVIS``
only reads paths, and ``LVISResults`` fails on an empty result list (it inspects the first
record); the results get exactly the fields ``LVISResults`` would add
(:func:`eval.coco.results_annotations`).
"""
from __future__ import annotations

import logging
import os
import types
from typing import Mapping, Sequence

import lvis.eval as lvis_eval
import numpy as np
from lvis import LVIS, LVISEval, LVISResults

from eval.coco import IOU_TYPES, category_names, per_class_ap, results_annotations
from eval.results_io import keep_top_per_image, load_json, read_coco_results

__all__ = ["LVIS_MAX_DETS", "LVIS_METRICS", "evaluate_lvis", "evaluate_lvis_files"]

LVIS_METRICS: tuple[str, ...] = ("AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf")
LVIS_MAX_DETS = 300
_FREQUENCIES = ("r", "c", "f")


class _NumpyWithFloat(types.ModuleType):
    """numpy plus the ``float`` alias (= builtin ``float``) that lvis 0.5.3 still uses."""

    float = float

    def __getattr__(self, name: str):
        return getattr(np, name)


if not hasattr(np, "float"):
    lvis_eval.np = _NumpyWithFloat("numpy")


class _LVISDataset(LVIS):
    """An ``LVIS`` index over a dataset dict (``LVIS.__init__`` only takes a path)."""

    def __init__(self, dataset: dict):
        self.logger = logging.getLogger(LVIS.__module__)
        self.dataset = dataset
        self._create_index()


class _LVISResults(LVISResults):
    """``LVISResults`` over prepared result annotations; also accepts an empty list."""

    def __init__(self, gt: LVIS, annotations: list[dict]):
        self.logger = logging.getLogger(LVISResults.__module__)
        self.dataset = {**gt.dataset, "annotations": annotations}
        self._create_index()


def _check_lvis_gt(gt: Mapping, where: str) -> None:
    for image in gt["images"]:
        for key in ("neg_category_ids", "not_exhaustive_category_ids"):
            if key not in image:
                raise ValueError(f"{where}: image id={image.get('id')} has no {key!r} (LVIS format)")
    for cat in gt["categories"]:
        if cat.get("frequency") not in _FREQUENCIES:
            raise ValueError(f"{where}: category id={cat.get('id')} has frequency {cat.get('frequency')!r}, "
                             f"expected one of {_FREQUENCIES}")


def evaluate_lvis(
    gt: Mapping, records: Sequence[Mapping], iou_type: str = "bbox", *, where: str = "ground truth"
) -> dict:
    """LVIS AP of result ``records`` (as :func:`eval.results_io.read_coco_results` returns
    them; not validated here) on the LVIS dataset dict ``gt`` (not modified).

    Returns ``{"combined": {m: float for m in LVIS_METRICS}, "per_class": {name: {"AP",
    "AP50", "AP75"}}}``: values in ``[0, 1]``, ``-1.0`` where undefined (no evaluated
    ground truth in that category / area range / frequency group), as lvis reports.
    ``per_class`` lists every category of ``gt``. ``where`` names ``gt`` in errors.
    """
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be one of {IOU_TYPES}, got {iou_type!r}")
    _check_lvis_gt(gt, where)
    # lvis writes "ignore" (and for segm, RLEs) into the annotations: evaluate copies
    lvis_gt = _LVISDataset({**gt, "annotations": [dict(a) for a in gt["annotations"]]})
    kept = keep_top_per_image(records, LVIS_MAX_DETS)
    evaluator = LVISEval(lvis_gt, _LVISResults(lvis_gt, results_annotations(kept, iou_type)), iou_type)
    evaluator.run()
    names = category_names(gt)
    precision = evaluator.eval["precision"][:, :, :, 0]  # area "all"
    return {
        "combined": {m: float(evaluator.results[m]) for m in LVIS_METRICS},
        "per_class": per_class_ap(precision, evaluator.params.iou_thrs, [names[c] for c in evaluator.params.cat_ids]),
    }


def evaluate_lvis_files(
    gt_json: str | os.PathLike, results_json: str | os.PathLike, iou_type: str = "bbox"
) -> dict:
    """:func:`evaluate_lvis` of a COCO results file on an LVIS ground-truth file; the
    results are validated (:func:`eval.results_io.read_coco_results`)."""
    gt = load_json(gt_json)
    records = read_coco_results(results_json, gt, iou_type)
    return evaluate_lvis(gt, records, iou_type, where=str(gt_json))
