"""ReMOTS's data-driven appearance thresholds (§2.3, §2.5): no hand-set similarity value,
only statistics of the video's own embeddings.

- *Intra-frame* similarities: cosine similarity of every pair of distinct detections of
  one frame, over all frames of the video. After NMS the masks of a frame are different
  objects, so this is the video's distribution of different-identity similarities.
- *Same-tracklet* similarities: cosine similarity of every pair of observations of one
  short-term tracklet (the pairs inter-short-tracklet training takes as positives), over
  all tracklets: the distribution of same-identity similarities.
- Short-term gate ``θ_app``: the intra-frame histogram is close to normal, so 99.7 % of
  different-identity pairs lie within three standard deviations of its mean; a pair may
  associate only when its similarity reaches ``mean + sigmas * std``, ``sigmas = -3`` by
  default (see :func:`appearance_gate` on the sign).
- Merge cut ``θ_merge``: where the intra-frame and same-tracklet histograms separate
  (:func:`histogram_boundary`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from trackers.matching import cosine_similarity
from trackers.tracklets import Tracklets
from trackers.types import Detections

__all__ = ["appearance_gate", "histogram_boundary", "intra_frame_similarities", "same_tracklet_similarities"]


def _pair_similarities(embeddings: np.ndarray) -> np.ndarray:
    """Cosine similarity of every unordered pair of rows of ``(n, D)``: ``(n(n-1)/2,)``."""
    upper = np.triu_indices(len(embeddings), k=1)
    return cosine_similarity(embeddings, embeddings)[upper]


def intra_frame_similarities(frames: Sequence[Detections]) -> np.ndarray:
    """Cosine similarities of all pairs of detections sharing a frame, ``(P,)``."""
    parts = [_pair_similarities(d.embeddings) for d in frames if len(d) > 1]
    return np.concatenate(parts) if parts else np.zeros(0)


def same_tracklet_similarities(tracklets: Tracklets) -> np.ndarray:
    """Cosine similarities of all pairs of observations of one tracklet, ``(Q,)``."""
    order = np.argsort(tracklets.members, kind="stable")
    bounds = np.cumsum(tracklets.sizes())[:-1]
    parts = [_pair_similarities(e) for e in np.split(tracklets.embeddings[order], bounds) if len(e) > 1]
    return np.concatenate(parts) if parts else np.zeros(0)


def appearance_gate(intra_frame: np.ndarray, sigmas: float) -> float:
    """``θ_app = mean + sigmas * std`` of the intra-frame similarities (population std).

    The paper sets the threshold "at three standard deviations" of the intra-frame
    (different-identity) histogram and rejects pairs with similarity below it, without
    the sign. ``sigmas = -3`` (the default, SPEC.md's reading) cuts only pairs less similar
    than 99.85 % of different-identity pairs, a loose gate like the IoU > 0 one;
    ``sigmas = 3`` lets only 0.15 % of different-identity pairs through. Without any
    intra-frame pair the gate is off (``-1``: every similarity passes).
    """
    if len(intra_frame) == 0:
        return -1.0
    return float(np.mean(intra_frame) + sigmas * np.std(intra_frame))


def histogram_boundary(negatives: np.ndarray, positives: np.ndarray, bins: int) -> float | None:
    """Similarity that best separates two histograms on ``bins`` equal bins of ``[-1, 1]``.

    Among the bin edges ``e`` the one minimising ``P(negative >= e) + P(positive < e)``
    (each histogram normalised to 1) is chosen; when several consecutive edges tie (e.g.
    an empty gap between fully separated histograms) the middle of that run is returned.
    ``None`` when either set is empty.
    """
    if len(negatives) == 0 or len(positives) == 0:
        return None
    edges = np.linspace(-1.0, 1.0, bins + 1)
    neg = np.histogram(negatives, edges)[0] / len(negatives)
    pos = np.histogram(positives, edges)[0] / len(positives)
    error = (1.0 - np.concatenate([[0.0], np.cumsum(neg)])) + np.concatenate([[0.0], np.cumsum(pos)])
    best = np.isclose(error, error.min())
    first = int(np.argmax(best))
    run = best[first:]
    run_length = len(run) if run.all() else int(np.argmin(run))
    return float((edges[first] + edges[first + run_length - 1]) / 2)
