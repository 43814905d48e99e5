"""TAO track mAP: AP with tracks as the unit and spatio-temporal (3D) track IoU.

Inputs: a COCO-video ground-truth dict (``videos``; ``images`` with ``video_id``;
``annotations`` with ``track_id``, ``category_id``, ``bbox`` ``[x, y, w, h]`` pixels and
optional ``iscrowd``) and TAO result records (:mod:`eval.results_io`).

Definition (TAO toolkit ``TaoEval`` with ``iou_3d_type="3d_iou"``; TrackEval's ``TAO``
dataset + ``TrackMAP`` metric compute the same numbers, see below for where they differ):

- Predicted track: the result records with one ``track_id``, after keeping the 300
  highest-scoring records of every image (TAO's ``max_dets``: per frame, not per video).
  It has one category, one box per image, and a score = the mean of its records' scores.
- Ground-truth track: the annotations with one ``track_id``. A track with an ``iscrowd``
  annotation is an ignore region: a predicted track matched to it is neither TP nor FP.
- Track area: the mean of its boxes' ``w * h``.
- 3D IoU of a predicted track d and a gt track g: ``sum_t |d_t ∩ g_t| / sum_t |d_t ∪ g_t|``
  over the frames of the video, where a frame in which only one of them has a box adds that
  box's area to the union (0 when the union is empty).
- Federated, per video: a category is evaluated in a video if the video has a gt track of
  it (positive) or lists it in ``neg_category_ids``; predicted tracks of other categories
  in that video are dropped. Unmatched predicted tracks of a category in the video's
  ``not_exhaustive_category_ids`` are ignored (not false positives). A video without
  ``neg_category_ids`` counts as exhaustively labelled: every category is negative there
  (COCO semantics; TAO files always list them).
- Matching, per video, category and IoU threshold (COCO's greedy rule, tracks as the
  unit): predicted tracks in decreasing score order each take the still unmatched gt track
  of highest 3D IoU >= threshold, preferring non-ignored gt tracks (ties: the later track).
- AP per category and threshold: the predicted tracks of all videos ranked by score,
  101-point interpolated precision (COCO); ``-1`` (undefined) for a category without
  non-ignored gt tracks. Thresholds 0.50:0.05:0.95.
- Metrics: ``TrackAP`` (mean over thresholds), ``TrackAP50``, ``TrackAP75``;
  ``TrackAPs/m/l`` (mean over thresholds) count only tracks of area in ``[0, 32²]``,
  ``[32², 96²]``, ``[96², 1e10]`` (gt tracks outside are ignored, unmatched predicted ones
  outside too); ``TrackAR``: final recall, mean over thresholds. Combined values are means
  over the categories where they are defined (``-1.0`` if none).

Where TAO's toolkit and TrackEval differ, and what this module does:

- IoU thresholds: the toolkit's default is 0.5 only (its "AP" is our ``TrackAP50``);
  TrackEval uses 0.5:0.95 from ``np.arange`` (0.6000000000000001, ...) and matches at
  ``IoU >= thr - eps``. Here: ``np.linspace`` thresholds, match iff ``IoU >= thr``
  (toolkit); only IoUs equal to a threshold can score differently.
- Both mark a gt track as taken by storing the predicted track's id and testing ``> 0``,
  so a predicted track with id <= 0 does not block its gt track; here a boolean.
- gt track area: the toolkit averages the annotations' ``area`` field (TAO's box area);
  TrackEval recomputes ``w * h``, as here (COCO-video ``area`` may be a mask area).
- A track id in two videos or with two categories: the toolkit rejects it, TrackEval
  renumbers / takes the first category. Here the results reader rejects it (ValueError).
- Crowd: ignoring ``iscrowd`` gt tracks is this module's addition (TAO files have none;
  TrackEval does it for YouTube-VIS only).
- Without any prediction the toolkit raises; here the defined values are 0.
- The toolkit also reports duration subsets (short/medium/long); not reported here.
- Equal scores are ranked by video id (toolkit), not by gt file order (TrackEval).

Per-sequence values are not returned: AP ranks the tracks of all videos together, and an
AP over one video's handful of tracks is neither comparable to nor part of the combined
value. Only box IoU is implemented (TAO results carry boxes).
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from eval.coco import category_names
from eval.results_io import check_tracks, keep_top_per_image, load_json, read_tao_results

__all__ = ["TAO_MAX_DETS", "TAO_METRICS", "evaluate_tao", "evaluate_tao_files", "track_iou_3d"]

TAO_METRICS: tuple[str, ...] = ("TrackAP", "TrackAP50", "TrackAP75", "TrackAPs", "TrackAPm", "TrackAPl", "TrackAR")
TAO_MAX_DETS = 300
_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)
# area subsets (inclusive ranges of the mean box area, pixels²); "" = all tracks
_AREAS = {"": (0.0, 1e10), "s": (0.0, 32.0**2), "m": (32.0**2, 96.0**2), "l": (96.0**2, 1e10)}


def track_iou_3d(dt_boxes: np.ndarray, gt_boxes: np.ndarray) -> np.ndarray:
    """3D IoU of ``(D, F, 4)`` and ``(G, F, 4)`` ``x, y, w, h`` box sequences over the same
    ``F`` frames -> ``(D, G)``; an all-zero box means "no box in that frame"."""
    d, g = dt_boxes[:, None], gt_boxes[None]
    lo = np.maximum(d[..., :2], g[..., :2])
    hi = np.minimum(d[..., :2] + d[..., 2:], g[..., :2] + g[..., 2:])
    inter = np.clip(hi - lo, 0, None).prod(-1).sum(-1)
    dt_area = (dt_boxes[..., 2] * dt_boxes[..., 3]).sum(-1)  # summed over frames
    gt_area = (gt_boxes[..., 2] * gt_boxes[..., 3]).sum(-1)
    union = dt_area[:, None] + gt_area[None] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@dataclass
class _Track:
    boxes: dict[int, list[float]]  # image_id -> [x, y, w, h]
    score: float  # mean record score (predictions); 0 for gt
    crowd: bool

    @property
    def area(self) -> float:
        return float(np.mean([b[2] * b[3] for b in self.boxes.values()]))


def _tracks(records: Sequence[Mapping]) -> dict[tuple[int, int], list[_Track]]:
    """``(video_id, category_id) -> tracks`` from records already checked by ``check_tracks``."""
    by_id: dict[int, list[Mapping]] = defaultdict(list)
    for r in records:
        by_id[r["track_id"]].append(r)
    out: dict[tuple[int, int], list[_Track]] = defaultdict(list)
    for recs in by_id.values():
        out[recs[0]["video_id"], recs[0]["category_id"]].append(
            _Track(
                boxes={r["image_id"]: r["bbox"] for r in recs},
                score=float(np.mean([r.get("score", 0.0) for r in recs])),
                crowd=any(r.get("iscrowd", 0) for r in recs),
            )
        )
    return out


def _dense(tracks: list[_Track], image_ids: np.ndarray) -> np.ndarray:
    """``(N, F, 4)`` boxes of ``tracks`` over the sorted ``image_ids``, zeros where absent."""
    out = np.zeros((len(tracks), len(image_ids), 4))
    for i, track in enumerate(tracks):
        cols = np.searchsorted(image_ids, list(track.boxes))
        out[i, cols] = list(track.boxes.values())
    return out


def _match(ious: np.ndarray, gt_ignore: np.ndarray, thr: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy matching of score-sorted predictions (rows of ``ious``) to gt tracks (columns).

    Returns ``matched (D,)`` and ``matched_ignored (D,)`` (matched to an ignored gt track).
    """
    num_dt, num_gt = ious.shape
    taken = np.zeros(num_gt, bool)
    matched, matched_ignored = np.zeros(num_dt, bool), np.zeros(num_dt, bool)
    for d in np.flatnonzero((ious >= thr).any(1)):  # rows that can match at all
        candidates = ~taken & (ious[d] >= thr)
        regular = candidates & ~gt_ignore
        pool = regular if regular.any() else candidates
        if not pool.any():
            continue
        best = num_gt - 1 - int(np.argmax(np.where(pool, ious[d], -1.0)[::-1]))  # ties: the later
        taken[best] = matched[d] = True
        matched_ignored[d] = gt_ignore[best]
    return matched, matched_ignored


@dataclass
class _Evaluated:
    """One video and category in one area subset: ``D`` predictions, ``T`` thresholds."""

    scores: np.ndarray  # (D,)
    matched: np.ndarray  # (T, D) bool
    ignored: np.ndarray  # (T, D) bool: neither TP nor FP
    num_gt: int  # non-ignored gt tracks


def _evaluate_video_category(gts: list[_Track], dts: list[_Track], not_exhaustive: bool) -> dict[str, _Evaluated]:
    dts = [dts[i] for i in np.argsort([-t.score for t in dts], kind="stable")]
    image_ids = np.unique([i for t in gts + dts for i in t.boxes]).astype(np.int64)
    ious = track_iou_3d(_dense(dts, image_ids), _dense(gts, image_ids))
    gt_area, dt_area = np.array([t.area for t in gts]), np.array([t.area for t in dts])
    gt_crowd = np.array([t.crowd for t in gts], bool)
    out = {}
    for subset, (lo, hi) in _AREAS.items():
        gt_ignore = gt_crowd | (gt_area < lo) | (gt_area > hi)
        dt_ignore = not_exhaustive | (dt_area < lo) | (dt_area > hi)
        matched, ignored = np.zeros((2, len(_IOU_THRESHOLDS), len(dts)), bool)
        for t, thr in enumerate(_IOU_THRESHOLDS):
            matched[t], matched_ignored = _match(ious, gt_ignore, thr)
            ignored[t] = matched_ignored | (~matched[t] & dt_ignore)
        out[subset] = _Evaluated(np.array([t.score for t in dts]), matched, ignored, int((~gt_ignore).sum()))
    return out


def _precision_recall(parts: list[_Evaluated]) -> tuple[np.ndarray, np.ndarray]:
    """AP ``(T,)`` and final recall ``(T,)`` of one category over all videos; -1 if undefined."""
    num_gt = sum(p.num_gt for p in parts)
    num_thr = len(_IOU_THRESHOLDS)
    if num_gt == 0:
        return -np.ones(num_thr), -np.ones(num_thr)
    order = np.argsort(-np.concatenate([p.scores for p in parts]), kind="stable")
    n = len(order)
    if n == 0:  # no predictions
        return np.zeros(num_thr), np.zeros(num_thr)
    matched = np.concatenate([p.matched for p in parts], axis=1)[:, order]
    ignored = np.concatenate([p.ignored for p in parts], axis=1)[:, order]
    tp = np.cumsum(matched & ~ignored, axis=1, dtype=np.float64)
    fp = np.cumsum(~matched & ~ignored, axis=1, dtype=np.float64)
    recall = tp / num_gt
    precision = tp / (tp + fp + np.spacing(1))
    precision = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]  # non-increasing
    ap = np.empty(num_thr)
    for t in range(num_thr):  # precision at the first rank reaching each recall point, 0 past the end
        idx = np.searchsorted(recall[t], _RECALL_POINTS, side="left")
        ap[t] = np.where(idx < n, precision[t][np.minimum(idx, n - 1)], 0.0).mean()
    return ap, recall[:, -1]


def _class_metrics(evaluated: dict[str, list[_Evaluated]]) -> dict[str, float]:
    ap, recall = _precision_recall(evaluated[""])
    defined = ap[0] > -1
    out = {
        "TrackAP": float(ap.mean()) if defined else -1.0,
        "TrackAP50": float(ap[0]),  # thresholds 0.5, 0.55, ..., 0.95
        "TrackAP75": float(ap[5]),
    }
    for subset in ("s", "m", "l"):
        sub_ap, _ = _precision_recall(evaluated[subset])
        out["TrackAP" + subset] = float(sub_ap.mean()) if sub_ap[0] > -1 else -1.0
    out["TrackAR"] = float(recall.mean()) if defined else -1.0
    return out


def _gt_records(gt: Mapping, where: str) -> list[dict]:
    """gt annotations as track records (``video_id`` from the image), checked like results."""
    video_of = {im["id"]: im["video_id"] for im in gt["images"]}
    records = []
    for i, ann in enumerate(gt["annotations"]):
        track_id = ann.get("track_id")
        if track_id is None or track_id < 0:  # -1: "no identity" in COCO-video files
            raise ValueError(f"{where}: annotation #{i} (id={ann.get('id')}) has no track_id (TAO needs tracks)")
        records.append({**ann, "video_id": video_of[ann["image_id"]]})
    check_tracks(records, f"{where}: annotations")
    return records


def evaluate_tao(
    gt: Mapping, records: Sequence[Mapping], *, where: str = "ground truth", max_dets: int = TAO_MAX_DETS
) -> dict:
    """TAO track mAP of result ``records`` (as :func:`eval.results_io.read_tao_results`
    returns them; not validated here) on the COCO-video dict ``gt``.

    Returns ``{"combined": {m: float for m in TAO_METRICS}, "per_class": {name: {m: float}}}``:
    values in ``[0, 1]``, ``-1.0`` where undefined; ``per_class`` lists every category of
    ``gt``. ``max_dets``: records kept per image. ``where`` names ``gt`` in errors.
    """
    names = category_names(gt)
    gt_tracks = _tracks(_gt_records(gt, where))
    dt_tracks = _tracks(keep_top_per_image(records, max_dets))
    all_categories = set(names)
    videos = {v["id"]: v for v in gt.get("videos", [])}
    positive: dict[int, set[int]] = defaultdict(set)
    for video_id, category_id in gt_tracks:
        positive[video_id].add(category_id)

    evaluated: dict[int, dict[str, list[_Evaluated]]] = {c: defaultdict(list) for c in names}
    for video_id, category_id in sorted(set(gt_tracks) | set(dt_tracks)):
        video = videos.get(video_id, {})
        negative = set(video.get("neg_category_ids", all_categories - positive[video_id]))
        if category_id not in positive[video_id] | negative:
            continue
        not_exhaustive = category_id in set(video.get("not_exhaustive_category_ids", ()))
        gts, dts = gt_tracks.get((video_id, category_id), []), dt_tracks.get((video_id, category_id), [])
        for subset, part in _evaluate_video_category(gts, dts, not_exhaustive).items():
            evaluated[category_id][subset].append(part)

    per_class = {names[c]: _class_metrics(evaluated[c]) for c in sorted(names)}
    combined = {}
    for m in TAO_METRICS:
        values = [v[m] for v in per_class.values() if v[m] > -1]
        combined[m] = float(np.mean(values)) if values else -1.0
    return {"combined": combined, "per_class": per_class}


def evaluate_tao_files(gt_json: str | os.PathLike, results_json: str | os.PathLike) -> dict:
    """:func:`evaluate_tao` of a TAO results file on a COCO-video ground-truth file; the
    results are validated (:func:`eval.results_io.read_tao_results`)."""
    gt = load_json(gt_json)
    records = read_tao_results(results_json, gt)
    return evaluate_tao(gt, records, where=str(gt_json))
