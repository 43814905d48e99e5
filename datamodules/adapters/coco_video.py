"""Adapter for COCO-video (TAO-style) JSON, and plain COCO JSON, into a :class:`VideoIndex`.

Accepted input (a superset of what :mod:`datamodules.synthetic` writes)::

    {"categories": [{"id", "name", "frequency"?, "synset"?}, ...],         required
     "videos":     [{"id", "name"?, FEDERATED?, ...}, ...],                optional
     "images":     [{"id", "file_name", "width", "height",
                     "video_id", "frame_index" | "frame_id", FEDERATED?}, ...],  required
     "annotations":[{"id", "image_id", "category_id", "bbox": [x, y, w, h],
                     "track_id"?, "iscrowd"?, "segmentation"?}, ...],      optional
     "tracks": ...}                                                        ignored

- ``file_name`` is relative to ``image_root`` (TAO: the frames root; synthetic world:
  ``<root>/images``). LVIS-style images without ``file_name`` fall back to the last two
  path components of ``coco_url`` (``train2017/000000391895.jpg``).
- Without ``"videos"`` (plain COCO / LVIS) every image is its own one-frame video
  (``video_id = image id``, ``frame_index = 0``). With ``"videos"``, every image needs a
  known ``video_id`` and ``frame_index`` (or ``frame_id``, kept as written: it is only used
  for ordering); frames are sorted by it, videos by id.
- Categories get contiguous labels in the order of sorted category id; LVIS / TAO
  ``frequency`` and ``synset`` are kept on :class:`Category`.
- FEDERATED (LVIS per image, TAO per video) is ``"neg_category_ids"`` and
  ``"not_exhaustive_category_ids"``, lists of known category ids, kept on every
  :class:`Frame` (an image's own lists win over its video's); absent: ``None``.
- ``track_id`` is optional (``-1`` = no identity). A track id may only occur in one video.
- Boxes become ``x1, y1, x2, y2`` float32; a box may exceed the image by at most
  ``box_tolerance`` pixels (then it is clipped), more is an error. Non-positive width or
  height is an error, or, with ``skip_empty_boxes=True``, skipped (``skipped["empty_box"]``).
- ``segmentation`` may be an RLE dict (compressed string or uncompressed list counts),
  polygons, or absent. ``Frame.masks`` is ``None`` when no annotation of the file has a
  segmentation; otherwise every annotation gets an RLE dict with a ``str`` counts:

  * polygons with fewer than 3 points (or an odd number of coordinates) are dropped,
    counted in ``skipped["degenerate_polygon"]``;
  * an annotation without a usable segmentation (in a file where others have one) gets
    the filled rectangle of its box, counted in ``skipped["mask_from_box"]``.

- A missing image file is an error, or, with ``skip_missing_images=True``, the image is
  dropped (``skipped["missing_image"]``) with its annotations
  (``skipped["annotation_of_missing_image"]``).
- Videos listed in ``"videos"`` that have no image are dropped
  (``skipped["video_without_images"]``).

Everything else that is malformed raises :class:`AnnotationError` naming the file and the
record (annotation id / image id / track id).
"""
from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from pycocotools import mask as mask_utils

from datamodules.schema import AnnotationError, Category, Frame, SkipLog, Video, VideoIndex

__all__ = ["load_coco_video"]

FEDERATED_KEYS = ("neg_category_ids", "not_exhaustive_category_ids")


def _read_json(path: Path):
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise AnnotationError(
            f"{path}: not valid JSON (line {err.lineno} col {err.colno}): {err.msg}"
        ) from err
    except UnicodeDecodeError as err:
        raise AnnotationError(f"{path}: not valid JSON (not UTF-8 text): {err}") from err


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def load_coco_video(
    json_path: str | os.PathLike,
    image_root: str | os.PathLike,
    *,
    split: str = "",
    check_images: bool = True,
    skip_missing_images: bool = False,
    skip_empty_boxes: bool = False,
    box_tolerance: float = 1.0,
) -> VideoIndex:
    """Parse a COCO-video / TAO (or plain COCO) JSON file into a :class:`VideoIndex`.

    Args:
        json_path: the annotation file.
        image_root: folder that ``images[].file_name`` is relative to.
        split: recorded in ``VideoIndex.split``.
        check_images: fail if an image file does not exist (``os.path.exists``; nothing
            is decoded).
        skip_missing_images: with ``check_images``, drop (and count) images whose file
            does not exist, with their annotations, instead of failing (e.g. TAO without
            the separately licensed AVA / HACS frames).
        skip_empty_boxes: skip (and count) boxes with non-positive width / height instead
            of failing.
        box_tolerance: how far (pixels) a box may exceed the image before it is an error.
    """
    path = Path(json_path)
    image_root = Path(image_root)
    data = _read_json(path)

    def fail(msg: str) -> AnnotationError:
        return AnnotationError(f"{path}: {msg}")

    if not isinstance(data, dict):
        raise fail(f"top level is a {type(data).__name__}, expected an object")
    for key in ("images", "categories"):
        if key not in data:
            raise fail(f"missing top-level key {key!r}")
        if not isinstance(data[key], list):
            raise fail(f"top-level {key!r} is not a list")
    anns = data.get("annotations", [])
    if not isinstance(anns, list):
        raise fail("top-level 'annotations' is not a list")
    skipped = SkipLog()

    # ---- categories ------------------------------------------------------------------
    cats: dict[int, Category] = {}
    for i, c in enumerate(data["categories"]):
        if not isinstance(c, dict) or "id" not in c:
            raise fail(f"category #{i} has no 'id'")
        if not _is_int(c["id"]):
            raise fail(f"category #{i}: id {c['id']!r} is not an integer")
        if c["id"] in cats:
            raise fail(f"category id={c['id']} appears twice")
        cats[c["id"]] = Category(c["id"], str(c.get("name", c["id"])), c.get("frequency"), c.get("synset"))
    categories = [cats[cid] for cid in sorted(cats)]
    label_of = {c.id: i for i, c in enumerate(categories)}

    def federated(record: dict, where: str) -> dict:
        """The record's FEDERATED lists as int64 arrays (only the keys it has)."""
        lists = {}
        for key in FEDERATED_KEYS:
            if key not in record:
                continue
            ids = record[key]
            if not isinstance(ids, list) or not all(_is_int(c) for c in ids):
                raise fail(f"{where}: {key} {ids!r} is not a list of integer category ids")
            unknown = sorted(set(ids) - cats.keys())
            if unknown:
                raise fail(f"{where}: {key} names unknown category id(s) {unknown}")
            lists[key] = np.array(sorted(set(ids)), np.int64)
        return lists

    # ---- videos ----------------------------------------------------------------------
    has_videos = "videos" in data
    videos_meta: dict[int, str] = {}
    video_federated: dict[int, dict] = {}
    if has_videos:
        if not isinstance(data["videos"], list):
            raise fail("top-level 'videos' is not a list")
        for i, v in enumerate(data["videos"]):
            if not isinstance(v, dict) or "id" not in v:
                raise fail(f"video #{i} has no 'id'")
            if v["id"] in videos_meta:
                raise fail(f"video id={v['id']} appears twice")
            videos_meta[v["id"]] = str(v.get("name", f"video_{v['id']}"))
            video_federated[v["id"]] = federated(v, f"video id={v['id']}")

    # ---- images ----------------------------------------------------------------------
    images: dict[int, dict] = {}  # id -> {path, width, height, video_id, frame_index}
    missing_images: set = set()  # ids of images skipped by skip_missing_images
    for i, im in enumerate(data["images"]):
        if not isinstance(im, dict) or "id" not in im:
            raise fail(f"image #{i} has no 'id'")
        iid = im["id"]
        if iid in images or iid in missing_images:
            raise fail(f"image id={iid} appears twice")
        file_name = im.get("file_name")
        if file_name is None and "coco_url" in im:
            file_name = "/".join(urlparse(str(im["coco_url"])).path.split("/")[-2:])
        missing = [k for k in ("width", "height") if k not in im]
        if file_name is None:
            missing.insert(0, "file_name")
        if has_videos:
            if "video_id" not in im:
                missing.append("video_id")
            if "frame_index" not in im and "frame_id" not in im:
                missing.append("frame_index")
        if missing:
            raise fail(f"image id={iid} lacks required key(s) {', '.join(map(repr, missing))}")
        w, h = im["width"], im["height"]
        if not (_is_int(w) and _is_int(h) and w > 0 and h > 0):
            raise fail(f"image id={iid}: width/height must be positive integers, got {w!r}x{h!r}")
        if has_videos:
            vid = im["video_id"]
            if vid not in videos_meta:
                raise fail(f"image id={iid}: unknown video_id {vid!r}")
            fidx = im["frame_index"] if "frame_index" in im else im["frame_id"]
            if not _is_int(fidx):
                raise fail(f"image id={iid}: frame index {fidx!r} is not an integer")
        else:
            vid, fidx = iid, 0
        img_path = image_root / str(file_name)
        if check_images and not os.path.exists(img_path):
            if not skip_missing_images:
                raise fail(f"image id={iid}: image file {img_path} does not exist")
            skipped.add("missing_image", f"{path}: image id={iid} ({img_path})")
            missing_images.add(iid)
            continue
        images[iid] = {"path": img_path, "width": w, "height": h, "video_id": vid,
                       "frame_index": fidx, "file_name": str(file_name),
                       "federated": {**video_federated.get(vid, {}),
                                     **federated(im, f"image id={iid}")}}

    # ---- annotations -----------------------------------------------------------------
    per_image: dict[int, list] = defaultdict(list)  # image id -> [(box, label, tid, crowd, rle)]
    track_video: dict[int, tuple[int, int]] = {}  # track id -> (video id, annotation id)
    ann_ids: set = set()
    any_segmentation = False
    for i, a in enumerate(anns):
        if not isinstance(a, dict):
            raise fail(f"annotation #{i} is not an object")
        aid = a.get("id", f"#{i}")
        missing = [k for k in ("id", "image_id", "category_id", "bbox") if k not in a]
        if missing:
            raise fail(f"annotation id={aid} (#{i}) lacks required key(s) "
                       f"{', '.join(map(repr, missing))}")
        if aid in ann_ids:
            raise fail(f"annotation id={aid} appears twice")
        ann_ids.add(aid)
        iid, cid = a["image_id"], a["category_id"]
        im = images.get(iid)
        if iid in missing_images:
            skipped.add("annotation_of_missing_image", f"{path}: annotation id={aid}")
            continue
        if im is None:
            raise fail(f"annotation id={aid}: unknown image_id {iid!r}")
        if cid not in label_of:
            raise fail(f"annotation id={aid} (image id={iid}): unknown category_id {cid!r}")
        bbox = a["bbox"]
        if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           and math.isfinite(v) for v in bbox)):
            raise fail(f"annotation id={aid} (image id={iid}): bbox {bbox!r} is not 4 finite numbers")
        x, y, bw, bh = (float(v) for v in bbox)
        W, H = im["width"], im["height"]
        if bw <= 0 or bh <= 0:
            if skip_empty_boxes:
                skipped.add("empty_box", f"{path}: annotation id={aid}")
                continue
            raise fail(f"annotation id={aid} (image id={iid}): non-positive box size "
                       f"w={bw:g} h={bh:g}")
        x1, y1, x2, y2 = x, y, x + bw, y + bh
        tol = box_tolerance
        if x1 < -tol or y1 < -tol or x2 > W + tol or y2 > H + tol:
            raise fail(f"annotation id={aid} (image id={iid}): bbox {list(bbox)} lies outside "
                       f"the {W}x{H} image (tolerance {tol:g} px)")
        x1, x2 = min(max(x1, 0.0), W), min(max(x2, 0.0), W)
        y1, y2 = min(max(y1, 0.0), H), min(max(y2, 0.0), H)
        if x2 <= x1 or y2 <= y1:
            if skip_empty_boxes:
                skipped.add("empty_box", f"{path}: annotation id={aid}")
                continue
            raise fail(f"annotation id={aid} (image id={iid}): box is empty after clipping "
                       f"to the {W}x{H} image")
        tid = a.get("track_id", -1)
        tid = -1 if tid is None else tid
        if not _is_int(tid):
            raise fail(f"annotation id={aid}: track_id {tid!r} is not an integer")
        if tid >= 0:
            seen = track_video.setdefault(tid, (im["video_id"], aid))
            if seen[0] != im["video_id"]:
                raise fail(f"annotation id={aid}: track_id {tid} appears in two videos "
                           f"(video id={seen[0]} in annotation id={seen[1]}, and video "
                           f"id={im['video_id']})")
        rle = _segmentation_to_rle(a.get("segmentation"), W, H, fail, aid, skipped, path)
        any_segmentation |= rle is not None
        per_image[iid].append(((x1, y1, x2, y2), label_of[cid], tid,
                               bool(a.get("iscrowd", 0)), rle, (x, y, bw, bh), aid))

    # ---- frames and videos -----------------------------------------------------------
    frames_of: dict[int, list[Frame]] = defaultdict(list)
    for iid, im in images.items():
        recs = per_image.get(iid, [])
        masks = None
        if any_segmentation:
            masks = []
            for r in recs:
                if r[4] is None:
                    skipped.add("mask_from_box", f"{path}: annotation id={r[6]}")
                    masks.append(_box_rle(r[5], im["width"], im["height"]))
                else:
                    masks.append(r[4])
        frames_of[im["video_id"]].append(Frame(
            image_path=im["path"], width=im["width"], height=im["height"],
            frame_index=im["frame_index"], image_id=iid,
            boxes=np.array([r[0] for r in recs], np.float32).reshape(-1, 4),
            labels=np.array([r[1] for r in recs], np.int64),
            track_ids=np.array([r[2] for r in recs], np.int64),
            iscrowd=np.array([r[3] for r in recs], bool),
            masks=masks,
            **im["federated"],
        ))

    videos: list[Video] = []
    if has_videos:
        order = sorted(videos_meta, key=_sort_key)
        names = videos_meta
    else:
        order = sorted(frames_of, key=_sort_key)
        names = {iid: str(Path(images[iid]["file_name"]).with_suffix("")) for iid in order}
    for vid in order:
        frames = frames_of.get(vid, [])
        if not frames:
            skipped.add("video_without_images", f"{path}: video id={vid}")
            continue
        frames.sort(key=lambda f: f.frame_index)
        for f0, f1 in zip(frames, frames[1:]):
            if f0.frame_index == f1.frame_index:
                raise fail(f"video id={vid}: image id={f0.image_id} and image id={f1.image_id} "
                           f"have the same frame index {f0.frame_index}")
        videos.append(Video(video_id=vid, name=names[vid], frames=frames))
    return VideoIndex(videos=videos, categories=categories, source=str(path), split=split,
                      skipped=skipped.counts, skip_examples=skipped.examples)


def _sort_key(x):
    # ids are normally ints; fall back to string order for odd files without crashing.
    return (0, x, "") if _is_int(x) else (1, 0, str(x))


def _box_rle(xywh, width: int, height: int) -> dict:
    rle = mask_utils.frPyObjects(np.array([xywh], np.float64), height, width)[0]
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}


def _segmentation_to_rle(seg, W: int, H: int, fail, aid, skipped: SkipLog, path: Path) -> dict | None:
    """RLE dict with ``str`` counts, or None when the annotation has no segmentation."""
    if seg is None or (isinstance(seg, (list, dict)) and len(seg) == 0):
        return None
    if isinstance(seg, dict):
        if "counts" not in seg or "size" not in seg:
            raise fail(f"annotation id={aid}: RLE segmentation needs 'counts' and 'size'")
        size = list(seg["size"])
        if size != [H, W]:
            raise fail(f"annotation id={aid}: RLE size {size} differs from the image size "
                       f"[{H}, {W}] (height, width)")
        counts = seg["counts"]
        if isinstance(counts, str):
            return {"size": [H, W], "counts": counts}
        if isinstance(counts, bytes):
            return {"size": [H, W], "counts": counts.decode("ascii")}
        if isinstance(counts, list):
            if sum(counts) != H * W:
                raise fail(f"annotation id={aid}: uncompressed RLE counts sum to {sum(counts)}, "
                           f"expected {H * W}")
            rle = mask_utils.frPyObjects({"size": [H, W], "counts": counts}, H, W)
            return {"size": [H, W], "counts": rle["counts"].decode("ascii")}
        raise fail(f"annotation id={aid}: RLE counts of type {type(counts).__name__}")
    if isinstance(seg, list):
        polys = []
        for poly in seg:
            if (not isinstance(poly, (list, tuple))
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                               for v in poly)):
                raise fail(f"annotation id={aid}: polygon segmentation must be a list of "
                           "coordinate lists")
            if len(poly) < 6 or len(poly) % 2:
                skipped.add("degenerate_polygon", f"{path}: annotation id={aid}")
                continue
            polys.append([float(v) for v in poly])
        if not polys:
            return None
        rle = mask_utils.merge(mask_utils.frPyObjects(polys, H, W))
        return {"size": [H, W], "counts": rle["counts"].decode("ascii")}
    raise fail(f"annotation id={aid}: unsupported segmentation of type {type(seg).__name__}")
