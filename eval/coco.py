"""COCO box and mask AP through pycocotools.

Two entry points share one evaluation:

- :func:`evaluate_coco_boxes`: per-frame detections against a
  :class:`~datamodules.schema.VideoIndex` (any dataset adapter: COCO, MOT, TAO, ...). Every
  frame is one COCO image with ``id = Frame.image_id``; category ids are
  ``VideoIndex.categories[label].id``.
- :func:`evaluate_coco_files` / :func:`evaluate_coco`: a COCO ground-truth JSON (dict) and
  a results JSON (records, see :mod:`eval.results_io`), box (``"bbox"``) or mask
  (``"segm"``) AP.

The results dataset is built in memory as ``COCO.loadRes`` would build it (see
:func:`results_annotations`) because ``loadRes`` fails on an empty list, and an empty result
set must still score 0 where ground truth exists (-1 where none). Ground-truth dicts are not
modified (pycocotools writes into annotations, so they are copied). pycocotools' prints are
silenced.
"""
from __future__ import annotations

import contextlib
import io
import os
from typing import Mapping, Sequence

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from datamodules.schema import VideoIndex
from eval.results_io import detection_records, load_json, read_coco_results

__all__ = [
    "COCO_METRICS",
    "IOU_TYPES",
    "PER_CLASS_METRICS",
    "category_names",
    "coco_gt_from_index",
    "evaluate_coco",
    "evaluate_coco_boxes",
    "evaluate_coco_files",
    "per_class_ap",
    "results_annotations",
]

# name -> index into COCOeval.stats (maxDets = 1, 10, 100)
_STATS = {"AP": 0, "AP50": 1, "AP75": 2, "APs": 3, "APm": 4, "APl": 5, "AR100": 8}
COCO_METRICS: tuple[str, ...] = tuple(_STATS)
PER_CLASS_METRICS: tuple[str, ...] = ("AP", "AP50", "AP75")
IOU_TYPES: tuple[str, ...] = ("bbox", "segm")


def _xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])


def coco_gt_from_index(index: VideoIndex) -> dict:
    """Build a COCO-format ground-truth dataset dict from a VideoIndex.

    Returns ``{"images", "annotations", "categories"}``: one image per frame
    (``id = image_id``, ``width``, ``height``, ``file_name``), one annotation per box with
    ``bbox = [x, y, w, h]``, ``area = w * h`` (box area, also when masks exist),
    ``iscrowd`` from the frame and ``category_id = categories[label].id``; annotation ids
    run from 1. Raises ``ValueError`` on a duplicate ``image_id``.
    """
    cat_ids = np.asarray([c.id for c in index.categories], np.int64)
    images, annotations, seen = [], [], set()
    for _, frame in index.frames():
        if frame.image_id in seen:
            raise ValueError(f"duplicate image_id {frame.image_id} ({frame.image_path})")
        seen.add(frame.image_id)
        images.append(
            {
                "id": int(frame.image_id),
                "width": int(frame.width),
                "height": int(frame.height),
                "file_name": str(frame.image_path),
            }
        )
        xywh = _xyxy_to_xywh(frame.boxes)
        for box, label, crowd in zip(xywh.tolist(), frame.labels.tolist(), frame.iscrowd.tolist()):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": int(frame.image_id),
                    "category_id": int(cat_ids[label]),
                    "bbox": box,
                    "area": float(box[2] * box[3]),
                    "iscrowd": int(crowd),
                }
            )
    categories = [{"id": int(c.id), "name": c.name} for c in index.categories]
    return {"images": images, "annotations": annotations, "categories": categories}


def category_names(gt: Mapping) -> dict[int, str]:
    """``category id -> name`` of a COCO-format dict; ``ValueError`` on a repeated name."""
    names = {c["id"]: str(c.get("name", c["id"])) for c in gt["categories"]}
    if len(set(names.values())) != len(names):
        raise ValueError("category names are not unique: per-class results are keyed by name")
    return names


def results_annotations(records: Sequence[Mapping], iou_type: str) -> list[dict]:
    """The annotations ``COCO.loadRes`` (and lvis' ``LVISResults``) make of result records.

    Adds ``id`` (from 1), ``iscrowd = 0`` and ``area``: ``w * h`` of the box for ``"bbox"``,
    the mask area for ``"segm"`` (which also gets the mask's ``bbox``).
    """
    out = []
    for i, r in enumerate(records, start=1):
        ann = {**r, "id": i, "iscrowd": 0}
        if iou_type == "segm":
            ann["area"] = float(mask_utils.area(r["segmentation"]))
            ann["bbox"] = mask_utils.toBbox(r["segmentation"]).tolist()
        else:
            ann["area"] = float(r["bbox"][2] * r["bbox"][3])
        out.append(ann)
    return out


def per_class_ap(precision: np.ndarray, iou_thrs: np.ndarray, names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per-category ``AP``, ``AP50``, ``AP75`` from a ``(T, R, K)`` precision array.

    ``precision[t, r, k]`` is the interpolated precision at IoU threshold ``iou_thrs[t]`` and
    recall point ``r`` for category ``names[k]``, ``-1`` where undefined (as pycocotools and
    lvis store it); undefined means give ``-1.0``.
    """
    rows = {"AP": slice(None), "AP50": np.isclose(iou_thrs, 0.5), "AP75": np.isclose(iou_thrs, 0.75)}
    out = {}
    for k, name in enumerate(names):
        out[name] = {}
        for metric, row in rows.items():
            p = precision[row, :, k]
            out[name][metric] = float(p[p > -1].mean()) if (p > -1).any() else -1.0
    return out


def _coco_api(dataset: dict) -> COCO:
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _gt_annotations(gt: Mapping, iou_type: str, where: str) -> list[dict]:
    """Copies of the gt annotations; a missing ``iscrowd`` is 0, a missing ``area`` the box area."""
    out = []
    for ann in gt["annotations"]:
        if iou_type == "segm" and "segmentation" not in ann:
            raise ValueError(f"{where}: annotation id={ann.get('id')} has no segmentation (needed for segm AP)")
        out.append({"iscrowd": 0, "area": float(ann["bbox"][2] * ann["bbox"][3]), **ann})
    return out


def _coco_eval(gt: Mapping, records: Sequence[Mapping], iou_type: str, where: str) -> COCOeval:
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be one of {IOU_TYPES}, got {iou_type!r}")
    images, categories = list(gt["images"]), list(gt["categories"])
    coco_gt = _coco_api(
        {"images": images, "categories": categories, "annotations": _gt_annotations(gt, iou_type, where)}
    )
    coco_dt = _coco_api(
        {"images": images, "categories": categories, "annotations": results_annotations(records, iou_type)}
    )
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(coco_gt, coco_dt, iouType=iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def evaluate_coco(
    gt: Mapping, records: Sequence[Mapping], iou_type: str = "bbox", *, where: str = "ground truth"
) -> dict:
    """COCO AP of result ``records`` (as :func:`eval.results_io.read_coco_results` returns
    them; not validated here) on the COCO dataset dict ``gt``.

    Returns ``{"combined": {m: float for m in COCO_METRICS}, "per_class": {name: {"AP",
    "AP50", "AP75"}}}`` with values in ``[0, 1]``, ``-1.0`` where undefined (no ground truth
    in that category / area range), exactly as pycocotools reports; ``per_class`` lists
    every category of ``gt`` (AP over all areas, 100 detections per image). ``where`` names
    ``gt`` in error messages.
    """
    evaluator = _coco_eval(gt, records, iou_type, where)
    names = category_names(gt)
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # area "all", maxDets 100
    return {
        "combined": {name: float(evaluator.stats[i]) for name, i in _STATS.items()},
        "per_class": per_class_ap(precision, evaluator.params.iouThrs, [names[c] for c in evaluator.params.catIds]),
    }


def evaluate_coco_files(
    gt_json: str | os.PathLike, results_json: str | os.PathLike, iou_type: str = "bbox"
) -> dict:
    """:func:`evaluate_coco` of a COCO results file on a COCO ground-truth file.

    The results are validated (:func:`eval.results_io.read_coco_results`): ``ValueError``
    naming the file and record on a malformed record.
    """
    gt = load_json(gt_json)
    records = read_coco_results(results_json, gt, iou_type)
    return evaluate_coco(gt, records, iou_type, where=str(gt_json))


def evaluate_coco_boxes(
    index: VideoIndex,
    detections: Mapping[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> dict[str, float]:
    """COCO box AP/AR of ``detections`` on the frames of ``index``.

    Args:
        index: ground truth; every frame is evaluated (frames without an entry in
            ``detections`` have no detections).
        detections: ``image_id -> (boxes_xyxy (N, 4), scores (N,), labels (N,))`` with
            contiguous labels (mapped to ``Category.id``). pycocotools keeps the 100
            highest-scoring detections per image.

    Returns:
        ``{"AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"}`` as floats in ``[0, 1]``,
        ``-1.0`` where undefined (no ground truth in that area range), exactly as
        pycocotools reports. Without any detection the defined metrics are ``0.0``.
    """
    gt = coco_gt_from_index(index)
    image_ids = {img["id"] for img in gt["images"]}
    unknown = sorted(set(int(k) for k in detections) - image_ids)
    if unknown:
        raise ValueError(f"detections for image ids not in the index: {unknown[:10]}")
    cat_ids = np.asarray([c.id for c in index.categories], np.int64)
    records = []
    for image_id, (boxes, scores, labels) in detections.items():
        labels = np.asarray(labels, np.int64).reshape(-1)
        records += detection_records(image_id, boxes, scores, cat_ids[labels])
    return evaluate_coco(gt, records)["combined"]
