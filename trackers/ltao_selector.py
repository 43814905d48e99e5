"""Single-object detection selection with temporal smoothing, from "Learning to Track Any
Object" (Dave, Tokmakov, Schmid, Ramanan, ICCV 2019 workshops, §4.2), in numpy.

The tracker-as-detector outputs candidate detections ``d_{i,t}`` with confidences
``c_{i,t}`` every frame; the track is one detection per frame:

- without smoothing, ``d*_t`` is the highest-confidence candidate;
- with smoothing, every candidate is re-scored ``c <- α c + (1 - α) j`` where ``j`` is the
  IoU of the candidate with the previous selection ``d*_{t-1}`` (mask IoU when the
  candidates and ``d*_{t-1}`` have masks, box IoU otherwise), ``α = 0.6``, and ``d*_t``
  maximises the re-scored confidence;
- the track *breaks* when the IoU between consecutive selections is ``< low_iou`` (0.1):
  smoothing is switched off so it cannot latch onto a distractor; it is switched on again
  once the track has been smooth for ``recover_frames`` (n = 30) consecutive frames, i.e.
  consecutive selections with ``IoU > recover_iou`` (0.3). A frame whose IoU lies between
  the two thresholds neither breaks the track nor counts towards recovery (it restarts
  the count).

Our choices where the paper is silent: smoothing starts on; a frame without candidates
outputs nothing and breaks the track (no previous selection to compare with); re-scored
confidences are only used to choose, the output keeps the detector's score. The single
track always has id 1.
"""
from __future__ import annotations

import numpy as np

from trackers.base import OnlineTracker
from trackers.matching import box_iou, mask_iou
from trackers.types import Detections, FrameTracks

__all__ = ["LtaoSelector"]


class LtaoSelector(OnlineTracker):
    """Pick one detection per frame, optionally smoothed by overlap with the last pick.

    Args:
        smoothing: use the temporal smoothing heuristic (False: highest score per frame).
        alpha: weight of the detector confidence in the re-scored confidence.
        low_iou: consecutive-selection IoU below which the track counts as broken.
        recover_iou: consecutive-selection IoU above which a frame counts as smooth.
        recover_frames: smooth frames in a row that switch smoothing back on.
    """

    def __init__(
        self,
        smoothing: bool = True,
        alpha: float = 0.6,
        low_iou: float = 0.1,
        recover_iou: float = 0.3,
        recover_frames: int = 30,
    ) -> None:
        super().__init__()
        if recover_frames < 1:
            raise ValueError(f"recover_frames must be >= 1, got {recover_frames}")
        self.smoothing = bool(smoothing)
        self.alpha = float(alpha)
        self.low_iou = float(low_iou)
        self.recover_iou = float(recover_iou)
        self.recover_frames = int(recover_frames)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.smoothing_active = self.smoothing
        self.smooth_frames = 0  # consecutive frames with IoU > recover_iou
        self._previous: Detections | None = None  # d*_{t-1}, one row

    def overlap(self, dets: Detections) -> np.ndarray:
        """``(N,)`` IoU of each candidate with the previous selection (mask IoU when both
        have masks); zeros when there is none."""
        prev = self._previous
        if prev is None:
            return np.zeros(len(dets))
        if prev.masks is not None and dets.masks is not None:
            return mask_iou(prev.masks, dets.masks)[0]
        return box_iou(prev.boxes, dets.boxes)[0]

    def update(self, dets: Detections) -> FrameTracks:
        self.frame_index += 1
        if len(dets) == 0:
            self._break()
            self._previous = None
            return FrameTracks.empty()
        iou = self.overlap(dets)
        score = dets.scores.astype(np.float64)
        if self.smoothing_active and self._previous is not None:
            score = self.alpha * score + (1.0 - self.alpha) * iou
        pick = int(np.argmax(score))
        if self._previous is not None:
            self._follow(float(iou[pick]))
        self._previous = dets.select([pick])
        return self._output(dets, [pick], [1])

    def _follow(self, iou: float) -> None:
        """Update the smoothing switch with the IoU between consecutive selections."""
        if iou < self.low_iou:
            self._break()
            return
        self.smooth_frames = self.smooth_frames + 1 if iou > self.recover_iou else 0
        if self.smoothing and self.smooth_frames >= self.recover_frames:
            self.smoothing_active = True

    def _break(self) -> None:
        self.smoothing_active = False
        self.smooth_frames = 0
