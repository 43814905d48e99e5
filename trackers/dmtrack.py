"""DMTrack's online box linking (Zhang et al., "Distractor-Aware Fast Tracking via Dynamic
Convolutions and MOT Philosophy", CVPR 2021, §3.5), vectorised.

The paper links boxes "with three clues as in [FairMOT]": re-id embeddings, IoU between
adjacent frames and a Kalman filter, with the Hungarian algorithm; every candidate object
is tracked (distractors included), and the output is the track holding the identity of
the target given in the first frame. The paper gives no more detail, so the linking
follows FairMOT's tracker (defaults from its code), per frame:

1. drop detections with ``score < min_score`` (FairMOT ``conf_thres`` 0.4);
2. predict every track with the Kalman filter (:mod:`trackers.kalman`);
3. *appearance + motion* over confirmed tracks (tracked or lost): cost
   ``λ · cosine distance(track feature, embedding) + (1 - λ) · Mahalanobis²``
   (``λ = appearance_weight`` 0.98); pairs whose squared Mahalanobis distance exceeds the
   chi-square ``gate_confidence`` (0.95) quantile for 4 dof (9.4877) are forbidden;
   Hungarian with ``cost <= embedding_threshold`` (0.4);
4. *IoU* over the confirmed tracks that were tracked last frame and are still unmatched:
   Hungarian on ``1 - IoU`` with ``IoU >= iou_threshold`` (0.5);
5. *unconfirmed* tracks (born last frame) against the remaining detections with
   ``IoU >= unconfirmed_iou_threshold`` (0.3); unmatched unconfirmed tracks are deleted;
6. matched tracks are corrected and their feature becomes the exponential moving average
   ``f <- m f + (1 - m) e`` (``feature_momentum`` m = 0.9, re-normalised); remaining
   detections start unconfirmed tracks (confirmed at once in the first frame); a track
   unmatched for more than ``max_age`` (30, FairMOT's track buffer) frames is deleted.

Output: confirmed tracks matched this frame, with the filtered (posterior) box as FairMOT
(``output_box="kalman"``), or the matched detection's box (``output_box="detection"``).

Single-target mode (``single_target=True``, DMTrack's use): the target is the track born
from the first-frame detection with the highest IoU with the target box given to
:meth:`DMTrackLinker.reset` (paper §3.1: "the object id that has the max IoU between the
detections and the annotation in the first frame"), or from the highest-scoring
detection when no box is given; if the first frame has no detection, the first frame
that has one decides (its track is confirmed at once). Only that track is output, and it never expires (long-term
tracking: the target may be absent for long and is re-identified by appearance when the
gate allows).
"""
from __future__ import annotations

import numpy as np

from trackers.base import OnlineTracker
from trackers.kalman import KalmanBoxFilter, chi2_gate, xyxy_to_xyah
from trackers.kalman_tracks import KalmanTracks
from trackers.matching import box_iou, cosine_similarity, hungarian_assignment, unmatched
from trackers.types import Detections, FrameTracks

__all__ = ["DMTrackLinker"]


class DMTrackLinker(OnlineTracker):
    """Re-id + IoU + Kalman linking with Hungarian matching (module docstring).

    Args:
        min_score: detections with ``score < min_score`` are ignored.
        appearance_weight: ``λ``, weight of the cosine distance in the fused cost.
        embedding_threshold: maximum fused cost of a stage-3 match.
        gate_confidence: chi-square quantile of the Mahalanobis gate (4 dof).
        iou_threshold: minimum IoU of a stage-4 match.
        unconfirmed_iou_threshold: minimum IoU of a stage-5 match.
        feature_momentum: ``m`` of the track feature's moving average.
        max_age: consecutive unmatched frames a track survives (deleted at ``max_age + 1``).
        single_target: output only the first-frame target's track.
        class_aware: forbid matching across labels.
        output_box: ``"kalman"``: output the filtered (posterior) box; ``"detection"``: the
            matched detection's box.
    """

    requires_embeddings = True

    def __init__(
        self,
        min_score: float = 0.4,
        appearance_weight: float = 0.98,
        embedding_threshold: float = 0.4,
        gate_confidence: float = 0.95,
        iou_threshold: float = 0.5,
        unconfirmed_iou_threshold: float = 0.3,
        feature_momentum: float = 0.9,
        max_age: int = 30,
        single_target: bool = False,
        class_aware: bool = False,
        output_box: str = "kalman",
    ) -> None:
        super().__init__()
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        if output_box not in ("kalman", "detection"):
            raise ValueError(f"output_box must be 'kalman' or 'detection', got {output_box!r}")
        self.min_score = float(min_score)
        self.appearance_weight = float(appearance_weight)
        self.embedding_threshold = float(embedding_threshold)
        self.gate = chi2_gate(4, gate_confidence)
        self.iou_threshold = float(iou_threshold)
        self.unconfirmed_iou_threshold = float(unconfirmed_iou_threshold)
        self.feature_momentum = float(feature_momentum)
        self.max_age = int(max_age)
        self.single_target = bool(single_target)
        self.class_aware = bool(class_aware)
        self.output_box = output_box
        self.reset()

    def reset(self, target_box: np.ndarray | None = None) -> None:
        """Start a sequence; ``target_box`` (``x1, y1, x2, y2``) is the first-frame
        annotation of the target in single-target mode."""
        super().reset()
        self.target_box = None if target_box is None else np.asarray(target_box, np.float64).reshape(1, 4)
        self.target_id: int | None = None
        self.tracks = KalmanTracks(KalmanBoxFilter(), features=np.zeros((0, 0)), confirmed=np.zeros(0, bool))

    @property
    def num_tracks(self) -> int:
        """Number of live tracks (unconfirmed included)."""
        return len(self.tracks)

    def appearance_cost(self, rows: np.ndarray, boxes: np.ndarray, embs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fused cost ``(R, N)`` of tracks ``rows`` vs detections, and the gate ``(R, N)``."""
        t = self.tracks
        cos_dist = np.maximum(0.0, 1.0 - cosine_similarity(t.columns["features"][rows], embs))
        maha = t.kalman.gating_distance(t.mean[rows], t.cov[rows], xyxy_to_xyah(boxes))
        cost = self.appearance_weight * cos_dist + (1.0 - self.appearance_weight) * maha
        return cost, maha <= self.gate

    def _label_gate(self, rows: np.ndarray, labels: np.ndarray) -> np.ndarray:
        same = self.tracks.labels[rows][:, None] == labels[None, :]
        return same if self.class_aware else np.ones_like(same)

    def _iou_stage(
        self, rows: np.ndarray, cols: np.ndarray, boxes: np.ndarray, labels: np.ndarray, min_iou: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hungarian on ``1 - IoU`` between tracks ``rows`` and detections ``cols``; returns
        matched (track rows, detection rows)."""
        iou = box_iou(self.tracks.boxes[rows], boxes[cols])
        valid = (iou >= min_iou) & self._label_gate(rows, labels[cols])
        r, c = hungarian_assignment(1.0 - iou, valid)
        return rows[r], cols[c]

    def _link(self, boxes: np.ndarray, embs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stages 3-5; returns all matched (track rows, detection rows)."""
        t = self.tracks
        confirmed = t.columns["confirmed"]
        pool = np.flatnonzero(confirmed)
        cost, valid = self.appearance_cost(pool, boxes, embs)
        r, d1 = hungarian_assignment(cost, valid & self._label_gate(pool, labels), max_cost=self.embedding_threshold)
        t1 = pool[r]
        free = np.ones(len(t), bool)
        free[t1] = False
        tracked = np.flatnonzero(free & confirmed & (t.misses == 0))
        t2, d2 = self._iou_stage(tracked, unmatched(len(boxes), d1), boxes, labels, self.iou_threshold)
        fresh = np.flatnonzero(~confirmed)
        rest = unmatched(len(boxes), np.concatenate([d1, d2]))
        t3, d3 = self._iou_stage(fresh, rest, boxes, labels, self.unconfirmed_iou_threshold)
        return np.concatenate([t1, t2, t3]), np.concatenate([d1, d2, d3])

    def _update_features(self, rows: np.ndarray, embs: np.ndarray) -> None:
        feats = self.tracks.columns["features"]
        m = self.feature_momentum
        feats[rows] = _unit(m * feats[rows] + (1.0 - m) * _unit(embs))

    def _choose_target(self, born_rows: np.ndarray, boxes: np.ndarray, scores: np.ndarray) -> None:
        """Set ``target_id`` from the tracks born this frame (``boxes``/``scores`` theirs);
        the target's track is confirmed at once."""
        if self.target_box is None:
            pick = int(np.argmax(scores))
        else:
            pick = int(np.argmax(box_iou(self.target_box, boxes)[0]))
        self.target_id = int(self.tracks.ids[born_rows[pick]])
        self.tracks.columns["confirmed"][born_rows[pick]] = True

    def update(self, dets: Detections) -> FrameTracks:
        if len(dets) and dets.embeddings is None:
            raise ValueError("DMTrackLinker needs re-id embeddings: got Detections with embeddings=None")
        keep = np.flatnonzero(dets.scores >= self.min_score)
        boxes, labels = dets.boxes[keep], dets.labels[keep]
        embs = dets.embeddings[keep] if len(dets) else np.zeros((0, self.tracks.columns["features"].shape[1]))
        t = self.tracks
        if len(t) == 0:  # the embedding size is set by the first tracks of a sequence
            t.columns["features"] = np.zeros((0, embs.shape[1]), np.float32)

        t.predict()
        t_idx, d_idx = self._link(boxes, embs, labels)
        t.correct(t_idx, boxes[d_idx], labels[d_idx])
        self._update_features(t_idx, embs[d_idx])
        t.columns["confirmed"][t_idx] = True
        t.count(t_idx)
        is_target = t.ids == self.target_id if self.target_id is not None else np.zeros(len(t), bool)
        alive = t.columns["confirmed"] & ((t.misses <= self.max_age) | is_target)

        born = unmatched(len(keep), d_idx)
        n_old = len(t)
        t.append(
            [self._next_track_id() for _ in born], boxes[born], labels[born],
            features=_unit(embs[born]), confirmed=np.full(len(born), self.frame_index == 0),
        )
        born_rows = np.arange(n_old, len(t))
        if self.single_target and self.target_id is None and len(born):
            self._choose_target(born_rows, boxes[born], dets.scores[keep[born]])

        rows = np.concatenate([t_idx, born_rows])
        det_rows = np.concatenate([d_idx, born])
        shown = t.columns["confirmed"][rows]
        if self.single_target:
            shown &= t.ids[rows] == self.target_id
        out = t.frame_tracks(dets, rows[shown], keep[det_rows[shown]], detection_boxes=self.output_box == "detection")
        t.keep(np.concatenate([alive, np.ones(len(born), bool)]))
        self.frame_index += 1
        return out


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows of ``(N, D)`` scaled to unit L2 norm (zero rows stay zero)."""
    x = np.asarray(x, np.float64)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
