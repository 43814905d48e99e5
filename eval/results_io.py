"""COCO and TAO results JSON: validated reading and writing.

COCO results (detections; LVIS uses the same files) are a JSON list of records::

    {"image_id": int, "category_id": int, "score": float, "bbox": [x, y, w, h]}      iou_type "bbox"
    {"image_id": int, "category_id": int, "score": float,
     "segmentation": {"size": [height, width], "counts": str}}                       iou_type "segm"

``bbox`` is in pixels, ``(x, y)`` the top-left corner; ``segmentation`` a compressed RLE
(pycocotools ``mask.encode``; the only mask format pycocotools and lvis accept in results).

TAO results (tracks, the TAO challenge format) are box records with two more keys, one record
per track and frame: ``"track_id": int`` and ``"video_id": int``. A track keeps one category
and one video and has at most one box per image (TAO's toolkit rejects anything else).

Checked when reading and when writing: the record is an object with the required keys;
ids are integers; ``score`` and the box are finite; ``w > 0`` and ``h > 0``; an RLE has a
positive ``size`` and string ``counts``; the track rules above. Reading also checks records
against the ground truth (a COCO / COCO-video dataset dict): ``image_id`` and
``category_id`` exist, an RLE ``size`` is the image's ``[height, width]``, and a TAO
``video_id`` is the image's video (TAO allows leaving it out: it is then filled in from
the image). Violations raise ``ValueError`` naming the file (or ``where``) and the 0-based
record index. Extra keys are dropped: records come back with exactly the keys above.
"""
from __future__ import annotations

import json
import math
import numbers
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = [
    "check_tracks",
    "detection_records",
    "keep_top_per_image",
    "load_json",
    "parse_coco_results",
    "parse_tao_results",
    "read_coco_results",
    "read_tao_results",
    "track_records",
    "write_coco_results",
    "write_tao_results",
]

_COCO_KEYS = {
    "bbox": ("image_id", "category_id", "bbox", "score"),
    "segm": ("image_id", "category_id", "segmentation", "score"),
}
_TAO_REQUIRED = (*_COCO_KEYS["bbox"], "track_id")  # reading: video_id may be left out
_TAO_KEYS = (*_TAO_REQUIRED, "video_id")


# ---------------------------------------------------------------------------- fields


def _integer(value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{value!r} is not an integer")
    return int(value)


def _finite(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return float(value)


def _box(value) -> list[float]:
    if not isinstance(value, (list, tuple, np.ndarray)) or len(value) != 4:
        raise ValueError(f"{value!r} is not a list [x, y, w, h]")
    box = [_finite(v) for v in value]
    if box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"{box} has no area (w <= 0 or h <= 0)")
    return box


def _rle(value) -> dict:
    if not isinstance(value, Mapping) or "size" not in value or "counts" not in value:
        raise ValueError("is not a compressed RLE {'size': [h, w], 'counts': str}")
    size = value["size"]
    if not isinstance(size, (list, tuple, np.ndarray)) or len(size) != 2:
        raise ValueError(f"size {size!r} is not [height, width]")
    height, width = _integer(size[0]), _integer(size[1])
    if height <= 0 or width <= 0:
        raise ValueError(f"size {[height, width]} is not positive")
    counts = value["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    if not isinstance(counts, str):
        raise ValueError("counts is not a compressed RLE string (uncompressed RLE is not accepted)")
    return {"size": [height, width], "counts": counts}


_FIELDS: dict[str, Callable[[Any], Any]] = {
    "image_id": _integer,
    "category_id": _integer,
    "track_id": _integer,
    "video_id": _integer,
    "score": _finite,
    "bbox": _box,
    "segmentation": _rle,
}


def _normalized(record, keys: Sequence[str], optional: Sequence[str] = ()) -> dict:
    if not isinstance(record, Mapping):
        raise ValueError(f"is a {type(record).__name__}, expected an object")
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"missing key(s) {missing}")
    out = {}
    for key in (*keys, *(k for k in optional if k in record)):
        try:
            out[key] = _FIELDS[key](record[key])
        except ValueError as err:
            raise ValueError(f"{key}: {err}") from None
    return out


def _parse(records, where: str, check: Callable[[dict], None], keys, optional=()) -> list[dict]:
    """Normalize every record and run ``check`` on it; errors name ``where`` and the index."""
    if not isinstance(records, list):
        raise ValueError(f"{where}: expected a JSON list of records, got {type(records).__name__}")
    out = []
    for i, record in enumerate(records):
        try:
            out.append(_normalized(record, keys, optional))
            check(out[-1])
        except ValueError as err:
            raise ValueError(f"{where}: record #{i}: {err}") from None
    return out


def check_tracks(records: Sequence[Mapping], where: str) -> None:
    """Raise ``ValueError`` (naming ``where`` and the record index) unless every
    ``track_id`` keeps one ``category_id`` and one ``video_id`` and has at most one record
    per ``image_id``. Used on TAO results and on ground-truth annotations."""
    first: dict[int, Mapping] = {}
    boxes: set[tuple[int, int]] = set()
    for i, r in enumerate(records):
        tid = r["track_id"]
        f = first.setdefault(tid, r)
        for key in ("category_id", "video_id"):
            if f[key] != r[key]:
                raise ValueError(f"{where}: record #{i}: track_id {tid} has {key} {f[key]} and {r[key]} "
                                 f"(a track keeps one)")
        if (tid, r["image_id"]) in boxes:
            raise ValueError(f"{where}: record #{i}: track_id {tid} has two boxes in image_id {r['image_id']}")
        boxes.add((tid, r["image_id"]))


def _no_check(record: dict) -> None:
    pass


# --------------------------------------------------------------------- ground truth


def _gt_checker(gt: Mapping) -> Callable[[dict], None]:
    """``check(record)`` against ``gt``: known image and category, RLE size, and (TAO)
    fills in or checks ``video_id``."""
    images = {im["id"]: im for im in gt["images"]}
    category_ids = {c["id"] for c in gt["categories"]}

    def check(r: dict) -> None:
        image = images.get(r["image_id"])
        if image is None:
            raise ValueError(f"unknown image_id {r['image_id']}")
        if r["category_id"] not in category_ids:
            raise ValueError(f"unknown category_id {r['category_id']}")
        if "segmentation" in r and r["segmentation"]["size"] != [image["height"], image["width"]]:
            raise ValueError(f"segmentation size {r['segmentation']['size']} is not image_id "
                             f"{r['image_id']}'s [height, width] {[image['height'], image['width']]}")
        if "track_id" in r:
            video_id = r.setdefault("video_id", image["video_id"])
            if video_id != image["video_id"]:
                raise ValueError(f"video_id {video_id} but image_id {r['image_id']} is in video "
                                 f"{image['video_id']}")

    return check


def parse_coco_results(records, gt: Mapping, iou_type: str = "bbox", where: str = "results") -> list[dict]:
    """Validated COCO result records (``bbox`` or ``segm`` keys, see the module doc)."""
    if iou_type not in _COCO_KEYS:
        raise ValueError(f"iou_type must be one of {sorted(_COCO_KEYS)}, got {iou_type!r}")
    return _parse(records, where, _gt_checker(gt), _COCO_KEYS[iou_type])


def parse_tao_results(records, gt: Mapping, where: str = "results") -> list[dict]:
    """Validated TAO result records; a missing ``video_id`` is filled in from the image."""
    out = _parse(records, where, _gt_checker(gt), _TAO_REQUIRED, optional=("video_id",))
    check_tracks(out, where)
    return out


def load_json(path: str | os.PathLike) -> Any:
    """Parsed JSON file; ``ValueError`` naming the file when it is not valid JSON."""
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON: {err}") from None


def read_coco_results(path: str | os.PathLike, gt: Mapping, iou_type: str = "bbox") -> list[dict]:
    """Read and validate a COCO results file against the ground-truth dict ``gt``."""
    return parse_coco_results(load_json(path), gt, iou_type, where=str(path))


def read_tao_results(path: str | os.PathLike, gt: Mapping) -> list[dict]:
    """Read and validate a TAO results file against the COCO-video ground-truth dict ``gt``."""
    return parse_tao_results(load_json(path), gt, where=str(path))


# -------------------------------------------------------------------------- writing


def _write(path: str | os.PathLike, records: list[dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, separators=(",", ":")))


def write_coco_results(path: str | os.PathLike, records: Sequence[Mapping], iou_type: str = "bbox") -> None:
    """Write COCO result records (numpy numbers and ``bytes`` RLE counts are converted).

    Raises ``ValueError`` (nothing written) on a record the readers would reject, apart
    from the ground-truth checks. Parent folders are created.
    """
    if iou_type not in _COCO_KEYS:
        raise ValueError(f"iou_type must be one of {sorted(_COCO_KEYS)}, got {iou_type!r}")
    _write(path, _parse(list(records), str(path), _no_check, _COCO_KEYS[iou_type]))


def write_tao_results(path: str | os.PathLike, records: Sequence[Mapping]) -> None:
    """Write TAO result records (all six keys required); checks as :func:`write_coco_results`
    plus the track rules."""
    out = _parse(list(records), str(path), _no_check, _TAO_KEYS)
    check_tracks(out, str(path))
    _write(path, out)


# ---------------------------------------------------------------- building records


def detection_records(image_id: int, boxes_xyxy, scores, category_ids) -> list[dict]:
    """COCO box records of one image from ``(N, 4)`` ``x1, y1, x2, y2`` pixel boxes,
    ``(N,)`` scores and ``(N,)`` category ids (not contiguous labels). Boxes are converted
    as given: callers drop boxes without area before writing."""
    boxes = np.asarray(boxes_xyxy, np.float64).reshape(-1, 4)
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
    scores = np.asarray(scores, np.float64).reshape(len(boxes))
    category_ids = np.asarray(category_ids, np.int64).reshape(len(boxes))
    return [
        {"image_id": int(image_id), "category_id": c, "bbox": b, "score": s}
        for b, s, c in zip(xywh.tolist(), scores.tolist(), category_ids.tolist())
    ]


def track_records(video_id: int, image_id: int, track_ids, boxes_xyxy, scores, category_ids) -> list[dict]:
    """TAO records of one frame: :func:`detection_records` plus ``(N,)`` ``track_ids``."""
    records = detection_records(image_id, boxes_xyxy, scores, category_ids)
    track_ids = np.asarray(track_ids, np.int64).reshape(len(records)).tolist()
    return [{**r, "track_id": t, "video_id": int(video_id)} for r, t in zip(records, track_ids)]


def keep_top_per_image(records: Sequence[Mapping], max_dets: int) -> list[Mapping]:
    """The ``max_dets`` highest-scoring records of every image, in input order (equal
    scores: earlier records first). LVIS and TAO keep 300 per image before evaluating."""
    by_image: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_image[r["image_id"]].append(i)
    keep = np.zeros(len(records), bool)
    for idx in by_image.values():
        scores = np.asarray([records[i]["score"] for i in idx], np.float64)
        keep[np.asarray(idx)[np.argsort(-scores, kind="stable")[:max_dets]]] = True
    return [r for r, k in zip(records, keep) if k]
