"""The track store of RetinaTrack (Lu et al., "RetinaTrack: Online Single Stage Joint
Detection and Tracking", CVPR 2020, §3.5), in numpy.

Per frame:

1. keep the ``top_k`` highest-scoring detections, then those with
   ``score >= score_threshold``;
2. for every live track ``T`` and detection ``D`` compute, for each of the (up to) ``H``
   stored observations ``(box_h, emb_h)`` of ``T``::

       S_h(T, D) = iou_weight * trunc(IoU(box_h, D.box)) + embedding_weight * cos(emb_h, D.emb)

   where ``trunc(x) = x if x >= iou_truncation else 0``, and
   ``S(T, D) = max_h S_h(T, D)`` over the observations that pass the cosine gate below;
3. greedy bipartite matching on ``S`` (highest first). A pair is forbidden when the
   cosine distance ``1 - cos`` exceeds ``1 - epsilon`` for every stored observation (i.e.
   no observation has ``cos >= epsilon``), or, with ``class_aware``, when labels differ;
4. matched tracks push the detection's (box, embedding) into their history (the oldest
   observation falls out after ``H``); unmatched detections start new tracks (with
   ``birth_score`` set, only those scoring at least that: ByteTrack's rule, not in the
   paper); a track not matched for more than ``max_age`` consecutive frames is deleted.

With ``low_score`` set (ours, not in the paper), a second association follows step 3:
detections scoring in ``[low_score, score_threshold)`` are matched by box IoU alone to
the tracks still unmatched (ByteTrack's, :func:`~trackers.matching.low_score_association`)
and extend them like any match; they never start tracks.

Interpretation notes (the paper leaves these open or terse):

- "IoU truncated at 0.4" is read as a *hard floor*: IoU values below ``iou_truncation``
  contribute 0, values at or above it contribute the IoU itself (0.39 -> 0, 0.41 -> 0.41).
  It is not a cap at 0.4.
- "Uniformly weighted" = both terms weight 1.0 (``iou_weight``, ``embedding_weight``).
- The gating threshold ε is not stated in the paper; ``epsilon=0.5`` is our default.
- The history length ``H`` is our choice too: ``history=8`` observations. A larger H
  re-identifies after short appearance changes at the cost of O(H) work per pair.
- The cosine gate is applied per stored observation: an observation whose embedding is
  not within the gate cannot contribute its similarity (so an old box that overlaps but
  looks different cannot lift a pair over a recent good-looking observation's score).
- ``max_age=40``: a track stays matchable through 40 consecutive unmatched frames and is
  deleted at the 41st; so an object missing for 40 frames keeps its id, 41 frames does not.
- Embeddings are L2-normalised once, when they arrive (a zero vector has cosine 0 with
  everything); the cosines of all stored observations with all detections are one float32
  matrix product per frame.
"""
from __future__ import annotations

import numpy as np

from trackers.base import OnlineTracker
from trackers.matching import greedy_assignment, low_score_association, paired_box_iou, unit_rows
from trackers.types import Detections, FrameTracks

__all__ = ["RetinaTrackTracker"]


class RetinaTrackTracker(OnlineTracker):
    """RetinaTrack's greedy IoU + appearance tracker with an H-observation track history.

    Args:
        score_threshold: detections with ``score < score_threshold`` are dropped.
        top_k: only the ``top_k`` highest-scoring detections of a frame are considered.
        iou_weight: weight of the truncated-IoU term.
        embedding_weight: weight of the cosine-similarity term.
        iou_truncation: IoU below this counts as 0 (see module docstring).
        epsilon: cosine-similarity gate; pairs with ``cos < epsilon`` on every stored
            observation are never matched (cosine distance ``> 1 - epsilon``).
        history: ``H``, number of most recent (box, embedding) observations kept per track.
        max_age: consecutive unmatched frames a track survives (deleted at ``max_age + 1``).
        birth_score: detections with ``score < birth_score`` extend tracks but start none
            (``None``: every kept detection may start a track).
        class_aware: forbid matching across labels.
        low_score: detections with ``low_score <= score < score_threshold`` (among the
            top-k) are matched, by IoU with each track's last box alone, to the tracks the
            first association left unmatched, and start none (``None``: off).
        low_iou_threshold: minimum IoU of that second association (ByteTrack: 0.5).

    ``update`` raises ``ValueError`` if a non-empty ``Detections`` has ``embeddings=None``
    (a frame without detections needs no embeddings).
    """

    requires_embeddings = True

    def __init__(
        self,
        score_threshold: float = 0.5,
        top_k: int = 100,
        iou_weight: float = 1.0,
        embedding_weight: float = 1.0,
        iou_truncation: float = 0.4,
        epsilon: float = 0.5,
        history: int = 8,
        max_age: int = 40,
        birth_score: float | None = None,
        class_aware: bool = True,
        low_score: float | None = None,
        low_iou_threshold: float = 0.5,
    ) -> None:
        super().__init__()
        if history < 1:
            raise ValueError(f"history must be >= 1, got {history}")
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self.score_threshold = float(score_threshold)
        self.top_k = int(top_k)
        self.iou_weight = float(iou_weight)
        self.embedding_weight = float(embedding_weight)
        self.iou_truncation = float(iou_truncation)
        self.epsilon = float(epsilon)
        self.history = int(history)
        self.max_age = int(max_age)
        self.birth_score = None if birth_score is None else float(birth_score)
        self.class_aware = bool(class_aware)
        self.low_score = None if low_score is None else float(low_score)
        self.low_iou_threshold = float(low_iou_threshold)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._dim: int | None = None
        h = self.history
        self._ids = np.zeros(0, np.int64)
        self._labels = np.zeros(0, np.int64)
        self._misses = np.zeros(0, np.int64)
        # observation histories, most recent first: (T, H, 4), (T, H, D) unit-norm, (T, H)
        self._hist_boxes = np.zeros((0, h, 4), np.float32)
        self._hist_embs = np.zeros((0, h, 0), np.float32)
        self._hist_valid = np.zeros((0, h), bool)

    @property
    def num_tracks(self) -> int:
        """Number of live tracks."""
        return len(self._ids)

    def _select(self, dets: Detections) -> tuple[np.ndarray, np.ndarray]:
        """Indices (into ``dets``) of the top-k detections with score >= threshold, and of
        those in ``[low_score, score_threshold)`` (empty without ``low_score``)."""
        order = np.argsort(-dets.scores, kind="stable")[: self.top_k]
        scores = dets.scores[order]
        high = order[scores >= self.score_threshold]
        if self.low_score is None:
            return high, order[:0]
        return high, order[(scores >= self.low_score) & (scores < self.score_threshold)]

    def similarity(self, boxes: np.ndarray, embs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Track-to-detection similarity ``S`` and the validity mask, both ``(T, N)``, for
        detections ``boxes (N, 4)``, ``embs (N, D)`` (float32, as ``Detections.embeddings``)
        and ``labels (N,)``.

        ``S[t, n] = max_h (iou_weight * trunc(IoU) + embedding_weight * cos)`` over the
        stored observations ``h`` of track ``t`` with ``cos >= epsilon``; ``-inf`` where
        no observation passes (then ``valid`` is False).
        """
        return self._similarity(boxes, unit_rows(np.asarray(embs, np.float32)), labels)

    def _similarity(self, boxes: np.ndarray, units: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`similarity` of unit-norm ``units (N, D)``: one float32 product of every
        stored observation with every detection, ``(S, N)`` over the ``S`` valid slots; IoU
        only for the (observation, detection) pairs that pass the cosine gate."""
        t, h = len(self._ids), self.history
        n = len(boxes)
        slots = np.flatnonzero(self._hist_valid.reshape(t * h))
        cos = self._hist_embs.reshape(t * h, -1)[slots] @ units.T
        cos = np.clip(cos, -1.0, 1.0, out=cos)
        pairs = np.flatnonzero(cos >= np.float64(self.epsilon))  # the gate in float64
        s_idx, d_idx = np.divmod(pairs, n)
        iou = paired_box_iou(self._hist_boxes.reshape(t * h, 4)[slots[s_idx]], boxes[d_idx])
        iou = np.where(iou >= self.iou_truncation, iou, 0.0)
        score = np.full((t, n), -np.inf)
        np.maximum.at(score, (slots[s_idx] // h, d_idx),
                      self.iou_weight * iou + self.embedding_weight * cos.ravel()[pairs].astype(np.float64))
        valid = np.isfinite(score)
        if self.class_aware:
            valid &= self._labels[:, None] == labels[None, :]
        return score, valid

    def update(self, dets: Detections) -> FrameTracks:
        if len(dets) and dets.embeddings is None:
            raise ValueError(
                "RetinaTrackTracker needs appearance embeddings: got Detections with "
                "embeddings=None (use IoUTracker for box-only tracking)"
            )
        keep, low = self._select(dets)
        boxes = dets.boxes[keep]
        labels = dets.labels[keep]
        if len(dets):
            embs = unit_rows(dets.embeddings[keep])  # compared and stored unit-norm
            if self._dim is None:
                self._dim = embs.shape[1]
                self._hist_embs = np.zeros((len(self._ids), self.history, self._dim), np.float32)
            elif embs.shape[1] != self._dim:
                raise ValueError(f"embedding dimension changed from {self._dim} to {embs.shape[1]} within a sequence")
        else:
            embs = np.zeros((0, self._dim or 0), np.float32)

        if len(self._ids) and len(keep):
            score, valid = self._similarity(boxes, embs, labels)
            t_idx, d_idx = greedy_assignment(score, valid)
        else:
            t_idx = d_idx = np.zeros(0, np.int64)
        t_all, d_all = t_idx, keep[d_idx]  # every match: track rows, detection indices
        e_all = embs[d_idx]  # and the unit embeddings they store
        if len(low):
            t_all, d_all = low_score_association(
                self._hist_boxes[:, 0], self._labels, (t_all, d_all), dets.boxes, dets.labels, low,
                self.low_iou_threshold, self.class_aware,
            )
            e_all = np.concatenate([e_all, unit_rows(dets.embeddings[d_all[len(t_idx):]])])

        # matched tracks: push the new observation to the front of their history
        if len(t_all):
            self._hist_boxes[t_all, 1:] = self._hist_boxes[t_all, :-1]
            self._hist_embs[t_all, 1:] = self._hist_embs[t_all, :-1]
            self._hist_valid[t_all, 1:] = self._hist_valid[t_all, :-1]
            self._hist_boxes[t_all, 0] = dets.boxes[d_all]
            self._hist_embs[t_all, 0] = e_all
            self._hist_valid[t_all, 0] = True
            self._labels[t_all] = dets.labels[d_all]
        out_ids = self._ids[t_all]
        # unmatched detections start tracks; tracks unmatched too long die
        self._misses, alive, new_d, new_ids = self._after_assignment(
            self._misses, t_all, dets.scores[keep], d_idx, self.max_age, self.birth_score
        )
        k = len(new_d)
        nb = np.zeros((k, self.history, 4), np.float32)
        ne = np.zeros((k, self.history, self._hist_embs.shape[2]), np.float32)
        nv = np.zeros((k, self.history), bool)
        nb[:, 0], ne[:, 0], nv[:, 0] = boxes[new_d], embs[new_d], True

        self._ids = np.concatenate([self._ids[alive], new_ids])
        self._labels = np.concatenate([self._labels[alive], labels[new_d]])
        self._misses = np.concatenate([self._misses[alive], np.zeros(k, np.int64)])
        self._hist_boxes = np.concatenate([self._hist_boxes[alive], nb])
        self._hist_embs = np.concatenate([self._hist_embs[alive], ne])
        self._hist_valid = np.concatenate([self._hist_valid[alive], nv])
        self.frame_index += 1

        return self._output(dets, np.concatenate([d_all, keep[new_d]]), np.concatenate([out_ids, new_ids]))
