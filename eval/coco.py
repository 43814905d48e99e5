"""COCO box AP of per-frame detections against a :class:`~datamodules.schema.VideoIndex`.

Uses pycocotools (``COCO``, ``COCOeval``) on an in-memory COCO dataset built from the
index, so any dataset adapter (COCO, MOT, TAO, ...) can be scored the same way. Every
frame is one COCO image with ``id = Frame.image_id``; category ids are
``VideoIndex.categories[label].id``. pycocotools' prints are silenced.
"""
from __future__ import annotations

import contextlib
import io
from typing import Mapping

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from datamodules.schema import VideoIndex

__all__ = ["COCO_METRICS", "coco_gt_from_index", "evaluate_coco_boxes"]

# name -> index into COCOeval.stats (maxDets = 1, 10, 100)
_STATS = {"AP": 0, "AP50": 1, "AP75": 2, "APs": 3, "APm": 4, "APl": 5, "AR100": 8}
COCO_METRICS: tuple[str, ...] = tuple(_STATS)


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


def _coco_from_dict(dataset: dict) -> COCO:
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


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
    gt_dict = coco_gt_from_index(index)
    image_ids = {img["id"] for img in gt_dict["images"]}
    unknown = sorted(set(int(k) for k in detections) - image_ids)
    if unknown:
        raise ValueError(f"detections for image ids not in the index: {unknown[:10]}")
    cat_ids = np.asarray([c.id for c in index.categories], np.int64)

    results = []
    for image_id, (boxes, scores, labels) in detections.items():
        xywh = _xyxy_to_xywh(boxes)
        scores = np.asarray(scores, np.float64).reshape(len(xywh))
        labels = np.asarray(labels, np.int64).reshape(len(xywh))
        for box, score, label in zip(xywh.tolist(), scores.tolist(), labels.tolist()):
            results.append(
                {
                    "id": len(results) + 1,
                    "image_id": int(image_id),
                    "category_id": int(cat_ids[label]),
                    "bbox": box,
                    "area": float(box[2] * box[3]),
                    "score": float(score),
                    "iscrowd": 0,
                }
            )

    coco_gt = _coco_from_dict(gt_dict)
    # Build the results object directly: COCO.loadRes fails on an empty list, and an
    # empty result set must still score 0 where ground truth exists (-1 where none).
    coco_dt = _coco_from_dict(
        {"images": gt_dict["images"], "categories": gt_dict["categories"], "annotations": results}
    )
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(coco_gt, coco_dt, iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(evaluator.stats[i]) for name, i in _STATS.items()}
