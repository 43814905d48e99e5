"""``python -m trackers run tracker=<name> detections=<dir> [embeddings=<dir>] out=<dir>``.

Runs one tracker from ``conf/tracker/`` over precomputed per-sequence detections (layout:
:func:`trackers.detections_io.detection_files`), with optional per-row embeddings
``<embeddings>/<seq>.npy``, and writes ``<out>/<seq>.txt`` (MOTChallenge rows; the class
column is the det.txt class, 1 when absent) and ``<out>/timing.json`` (per-frame update
time in milliseconds, per sequence and over all frames). Every Hydra override works, e.g.
``tracker.max_age=5``.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import hydra
import numpy as np
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig

from eval.mot_io import frame_tracks_to_mot_rows, write_mot_txt
from trackers.base import OfflineTracker, Tracker
from trackers.detections_io import detection_files, read_mot_detections
from trackers.types import Detections, FrameTracks

log = logging.getLogger("trackers")
CONF = Path(__file__).resolve().parents[1] / "conf"


def timed_tracking(tracker: Tracker, frames: list[Detections]) -> tuple[list[FrameTracks], np.ndarray]:
    """Tracks of one sequence and the per-frame update time in ms ``(F,)`` (an offline
    tracker's total time spread evenly over its frames)."""
    if isinstance(tracker, OfflineTracker):
        start = time.perf_counter()
        tracks = tracker.track(frames)
        return tracks, np.full(len(frames), 1e3 * (time.perf_counter() - start) / max(len(frames), 1))
    tracker.reset()
    tracks, times = [], np.zeros(len(frames))
    for i, dets in enumerate(frames):
        start = time.perf_counter()
        tracks.append(tracker.update(dets))
        times[i] = 1e3 * (time.perf_counter() - start)
    return tracks, times


def _timing_stats(times: np.ndarray) -> dict[str, float]:
    if len(times) == 0:
        return {"frames": 0}
    return {"frames": int(len(times)), "mean_ms": float(times.mean()), "median_ms": float(np.median(times)),
            "p95_ms": float(np.percentile(times, 95)), "total_s": float(times.sum() / 1e3)}


def run(cfg: DictConfig) -> dict:
    """Track every sequence; returns the timing report (also written to timing.json)."""
    name = HydraConfig.get().runtime.choices["tracker"]
    tracker = instantiate(cfg.tracker)
    out = Path(cfg.out)
    all_times, report = [], {"tracker": name, "sequences": {}}
    for seq, (det_path, num_frames) in detection_files(cfg.detections).items():
        embeddings = None if cfg.embeddings is None else Path(cfg.embeddings) / f"{seq}.npy"
        if tracker.requires_embeddings and (embeddings is None or not embeddings.is_file()):
            raise ValueError(f"tracker {name!r} needs embeddings: missing {embeddings or 'embeddings=<dir>'}")
        frames = read_mot_detections(det_path, embeddings, num_frames)
        tracks, times = timed_tracking(tracker, frames)
        labels = max((int(f.labels.max()) for f in frames if len(f)), default=0)
        write_mot_txt(out / f"{seq}.txt", frame_tracks_to_mot_rows(tracks, None, np.arange(1, labels + 2)))
        report["sequences"][seq] = _timing_stats(times)
        all_times.append(times)
        log.info("%s: %d frames, %.3f ms per frame", seq, len(frames), times.mean() if len(times) else 0.0)
    report["all"] = _timing_stats(np.concatenate(all_times))
    (out / "timing.json").write_text(json.dumps(report, indent=1))
    print(f"{name}: {report['all'].get('mean_ms', 0.0):.3f} ms per frame over {report['all']['frames']} frames; "
          f"results in {out}")
    return report


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="trackers_run")
def _main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        sys.exit("usage: python -m trackers run tracker=<name> detections=<dir> [embeddings=<dir>] out=<dir>")
    del sys.argv[1]
    _main()
