"""``pair`` sampling: a template and a search frame of one target from the same video.

As Learning to Track Any Object trains ("for a batch of size K, we sample K videos, and
then sample a template frame and a search frame at random from the video"; one
class-agnostic gt box, the tracked object, in the search frame) and DMTrack trains its
one-shot detector (template box -> dynamic kernels, detection in the search frame).
"""
from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections import Counter
from typing import NamedTuple

import torch
from torch.utils.data import Dataset

from datamodules.datasets import collate_clips, load_frame, track_observations
from datamodules.schema import Video, VideoIndex
from datamodules.transforms import FrameTransform

log = logging.getLogger(__name__)


class PairTrack(NamedTuple):
    """A track that can give pairs: the positions in ``video.frames`` where it is annotated
    (ascending), and which of them have a partner frame within the gap."""

    track_id: int
    positions: list[int]
    templates: list[int]  # indices into positions usable as the template


class PairDataset(Dataset):
    """One item per video; ``__getitem__`` draws the pair (torch RNG, seeded per worker).

    Drawing: a target track uniformly among the video's tracks that give a pair; a template
    frame uniformly among the frames where the target is annotated (non-crowd) and that
    have another such frame at most ``max_gap`` frames away; a search frame uniformly
    among those. Gaps count positions in ``video.frames`` (annotated frames, as
    ``clip_stride`` does); ``max_gap=None`` allows the whole video (the paper's setting).

    Each frame gets its own random augmentation; a draw that crops the target away is
    redrawn up to ``tries`` times, after which its target index is -1 (skip that pair).
    Videos without any track seen in two frames within the gap cannot give a pair: they
    are counted in ``skipped`` and logged, never dropped silently.

    An item is a dict: ``template`` and ``search`` (frame dicts as
    :class:`~datamodules.transforms.FrameTransform` returns them), ``track_id`` (int),
    ``template_target`` and ``search_target`` (index of the target's box in that frame's
    boxes, or -1).
    """

    def __init__(self, index: VideoIndex, transform: FrameTransform, max_gap: int | None = None,
                 tries: int = 10) -> None:
        if max_gap is not None and max_gap < 1:
            raise ValueError(f"max_gap must be >= 1 or None, got {max_gap}")
        self.index, self.transform, self.max_gap, self.tries = index, transform, max_gap, tries
        self.items: list[tuple[Video, list[PairTrack]]] = []
        self.skipped = Counter()
        for video in index.videos:
            tracks = [self._pair_track(tid, obs) for tid, obs in track_observations(video).items()]
            tracks = [t for t in tracks if t.templates]
            if tracks:
                self.items.append((video, tracks))
            else:
                self.skipped["video without a track seen in two frames within max_gap"] += 1
        if self.skipped:
            log.warning("PairDataset(%s): skipped %s", index.source, dict(self.skipped))

    def _partners(self, positions: list[int], i: int) -> tuple[range, range]:
        """Indices of the observations 1..max_gap frames before / after observation ``i``."""
        gap = self.max_gap if self.max_gap is not None else positions[-1] - positions[0]
        p = positions[i]
        before = range(bisect_left(positions, p - gap), bisect_left(positions, p))
        after = range(bisect_right(positions, p), bisect_right(positions, p + gap))
        return before, after

    def _pair_track(self, track_id: int, observations: list[tuple[int, int]]) -> PairTrack:
        positions = [p for p, _ in observations]
        templates = [i for i in range(len(positions)) if sum(map(len, self._partners(positions, i)))]
        return PairTrack(track_id, positions, templates)

    def __len__(self) -> int:
        return len(self.items)

    def _transform_keeping_target(self, frame: dict, track_id: int) -> tuple[dict, int]:
        for _ in range(self.tries):
            (out,) = self.transform([frame])
            hits = (out["track_ids"] == track_id).nonzero().flatten()
            if len(hits):
                return out, int(hits[0])
        return out, -1

    def __getitem__(self, i: int) -> dict:
        video, tracks = self.items[i]
        track = tracks[_uniform(len(tracks))]
        template = track.templates[_uniform(len(track.templates))]
        before, after = self._partners(track.positions, template)
        pick = _uniform(len(before) + len(after))
        search = before[pick] if pick < len(before) else after[pick - len(before)]
        sample = {"track_id": track.track_id}
        for name, obs in (("template", template), ("search", search)):
            frame = load_frame(video, video.frames[track.positions[obs]])
            sample[name], sample[f"{name}_target"] = self._transform_keeping_target(frame, track.track_id)
        return sample


def _uniform(n: int) -> int:
    return int(torch.randint(n, ()))


def collate_pairs(samples: list[dict]) -> dict:
    """Batch of B pairs.

    Returns ``template`` and ``search``, each a :func:`~datamodules.datasets.collate_clips`
    batch of B single frames (``images (B, 3, H, W)``, ``targets`` with all boxes of the
    frame, ``meta``), plus ``track_ids (B,)`` of the targets and ``template_target (B,)``,
    ``search_target (B,)``: index of the target's box in ``targets[b]["boxes"]`` of that
    frame (-1: cropped away by augmentation; skip the pair).
    """
    return {
        "template": collate_clips([[s["template"]] for s in samples]),
        "search": collate_clips([[s["search"]] for s in samples]),
        "track_ids": torch.tensor([s["track_id"] for s in samples], dtype=torch.long),
        "template_target": torch.tensor([s["template_target"] for s in samples], dtype=torch.long),
        "search_target": torch.tensor([s["search_target"] for s in samples], dtype=torch.long),
    }
