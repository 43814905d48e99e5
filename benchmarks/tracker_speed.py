"""Tracker speed and accuracy: our SORT, RetinaTrack and DMTrack trackers vs a packaged ByteTrack.

One generated 1920x1080 scene per density (about 10, 50 and 200 detections per frame):
objects enter and leave, move at constant velocity, and are detected from the ground truth
with relative box noise, 10% misses, 15% low-score (0.15-0.5, "occluded") true detections
and low-score false positives; each object has a 128-d appearance vector, each detection
a noisy copy of it (false positives: random vectors). Every tracker gets the same
detections and is timed per ``update`` call (input already in its own format, so
conversion is not timed; best of ``--repeats`` runs of the mean ms/frame); MOTA and IDF1
come from :func:`eval.mot.evaluate_mot` on the trackers' outputs.

Our trackers are built from ``conf/tracker/<name>.yaml`` at two operating points:

- ``paper``: the configs as they are (the papers' thresholds; DMTrack in multi-object mode);
- ``peer_op``: the peer's operating point: the same lowest detection score as ByteTrack's
  second association (0.1), ByteTrack's track birth rule for SORT and RetinaTrack (a
  detection starts a track only with ``score >= birth_score`` = 0.6, the packaged
  tracker's ``det_thresh = track_thresh + 0.1``; lower-scored ones only extend tracks),
  no top-k cap, ByteTrack's 30-frame track buffer for SORT, and SORT outputs a track as
  soon as it is matched (``min_hits=1``). DMTrack has no birth threshold (its
  unconfirmed tracks already need a second detection).

The peer is ByteTrack as packaged by ``cjm-byte-track`` (pure numpy/scipy, official
ByteTrack logic), with the official MOT17 settings (track_thresh 0.5, match_thresh 0.8,
track_buffer 30). It is skipped, with a message, when the package is not installed.
BLAS runs single-threaded for all (see below). Writes JSON::

    python benchmarks/tracker_speed.py [--frames 300] [--densities 10 50 200] [--repeats 3]
        [--seed 0] [--out benchmarks/results/tracker_speed.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

# Per-frame matrices are small: a multi-threaded BLAS only adds contention (up to 10x on a
# busy 2-core machine), so every tracker here runs with one BLAS thread. Set before numpy.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hydra.utils import instantiate  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from eval.mot import evaluate_mot  # noqa: E402
from trackers import Detections  # noqa: E402

WIDTH, HEIGHT = 1920, 1080
EMBEDDING_DIM = 128
PEER = "cjm-byte-track"
PEER_MIN_SCORE = 0.1  # ByteTrack's second association uses detections with score > 0.1
PEER_TRACK_THRESH = 0.5  # official MOT17 setting: first association on score > 0.5
PEER_BIRTH_SCORE = 0.6  # cjm_byte_track: a new track needs score >= det_thresh = track_thresh + 0.1
# (config name, overrides) per operating point; DMTrack runs in multi-object mode
OURS = {
    "sort_paper": ("sort", {}),
    "retinatrack_paper": ("retinatrack", {}),
    "dmtrack_linker_paper": ("dmtrack", {"single_target": False}),
    "sort_peer_op": ("sort", {"min_score": PEER_MIN_SCORE, "birth_score": PEER_BIRTH_SCORE,
                              "max_age": 30, "min_hits": 1}),
    "retinatrack_peer_op": ("retinatrack", {"score_threshold": PEER_MIN_SCORE, "birth_score": PEER_BIRTH_SCORE,
                                            "top_k": 100_000}),
    "dmtrack_linker_peer_op": ("dmtrack", {"min_score": PEER_MIN_SCORE, "single_target": False}),
}


def generate_scene(frames: int, objects: int, seed: int) -> tuple[np.ndarray, list[Detections]]:
    """Ground-truth rows ``frame, id, x, y, w, h`` (frames from 1) and per-frame detections
    of a scene with about ``objects`` objects per frame."""
    rng = np.random.default_rng(seed)
    mean_life = 150
    num = int(objects * frames / mean_life) + objects
    start = rng.integers(-mean_life, frames, num)
    life = rng.integers(mean_life // 2, 3 * mean_life // 2, num)
    wh = rng.uniform([25, 60], [80, 220], (num, 2))
    pos = rng.uniform([0, 0], [WIDTH, HEIGHT] - wh, (num, 2))
    vel = rng.normal(0, 3, (num, 2))
    appearance = rng.normal(size=(num, EMBEDDING_DIM))
    appearance /= np.linalg.norm(appearance, axis=1, keepdims=True)
    gt, detections = [], []
    for frame in range(1, frames + 1):
        alive = np.flatnonzero((start < frame) & (frame <= start + life))
        xywh = np.c_[pos[alive] + vel[alive] * (frame - start[alive])[:, None], wh[alive]]
        gt.append(np.c_[np.full(len(alive), frame), alive + 1, xywh])
        seen = alive[rng.random(len(alive)) < 0.9]
        box = np.c_[pos[seen] + vel[seen] * (frame - start[seen])[:, None], wh[seen]]
        box[:, 2:] += box[:, :2]
        box += rng.normal(0, 0.04, box.shape) * np.tile(wh[seen], 2)
        occluded = rng.random(len(seen)) < 0.15
        score = np.where(occluded, rng.uniform(0.15, 0.5, len(seen)), rng.uniform(0.5, 1.0, len(seen)))
        emb = appearance[seen] + rng.normal(0, 0.04, (len(seen), EMBEDDING_DIM))
        fp = rng.poisson(0.05 * objects)
        fp_xy = rng.uniform([0, 0], [WIDTH - 80, HEIGHT - 220], (fp, 2))
        fp_box = np.c_[fp_xy, fp_xy + rng.uniform([25, 60], [80, 220], (fp, 2))]
        detections.append(Detections(
            boxes=np.r_[box, fp_box],
            scores=np.r_[score, rng.uniform(0.1, 0.5, fp)],
            labels=np.zeros(len(seen) + fp),
            embeddings=np.r_[emb, rng.normal(size=(fp, EMBEDDING_DIM))],
        ))
    return np.concatenate(gt), detections


def rows(frame: int, ids: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
    """MOT rows ``frame, id, x, y, w, h`` of one frame's output."""
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    return np.c_[np.full(len(ids), frame), ids, xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]]


def build(config: str, overrides: dict):
    """One of our trackers from ``conf/tracker/<config>.yaml`` with ``overrides``."""
    return instantiate(OmegaConf.load(REPO / "conf" / "tracker" / f"{config}.yaml"), **overrides)


def run_ours(tracker, detections: list[Detections]) -> tuple[np.ndarray, np.ndarray]:
    """Seconds per update ``(F,)`` and output rows of one of our online trackers."""
    tracker.reset()
    seconds, out = [], []
    for frame, dets in enumerate(detections, start=1):
        t0 = time.perf_counter()
        ft = tracker.update(dets)
        seconds.append(time.perf_counter() - t0)
        out.append(rows(frame, ft.track_ids, ft.boxes))
    return np.asarray(seconds), np.concatenate(out)


def run_bytetrack(detections: list[Detections]) -> tuple[np.ndarray, np.ndarray]:
    """Seconds per update and output rows of the packaged ByteTrack."""
    from cjm_byte_track.byte_tracker import BYTETracker

    tracker = BYTETracker(track_thresh=PEER_TRACK_THRESH, track_buffer=30, match_thresh=0.8, frame_rate=30)
    inputs = [np.c_[d.boxes, d.scores].astype(np.float64) for d in detections]
    seconds, out = [], []
    for frame, x in enumerate(inputs, start=1):
        t0 = time.perf_counter()
        tracks = tracker.update(x, (HEIGHT, WIDTH), (HEIGHT, WIDTH))
        seconds.append(time.perf_counter() - t0)
        ids = np.asarray([t.track_id for t in tracks], np.int64)
        out.append(rows(frame, ids, np.asarray([t.tlbr for t in tracks]).reshape(-1, 4)))
    return np.asarray(seconds), np.concatenate(out)


def peer_version() -> str | None:
    try:
        return version(PEER)
    except PackageNotFoundError:
        return None


def trackers_under_test(with_peer: bool) -> dict[str, Callable]:
    runs = {name: (lambda d, c=config, o=overrides: run_ours(build(c, o), d))
            for name, (config, overrides) in OURS.items()}
    if with_peer:
        runs["bytetrack_peer"] = run_bytetrack
    return runs


def measure(run: Callable, detections: list[Detections], repeats: int) -> tuple[float, np.ndarray]:
    """Best-of-``repeats`` mean seconds per frame, and the output rows (deterministic)."""
    best, pred = np.inf, None
    for _ in range(repeats):
        seconds, pred = run(detections)
        best = min(best, float(seconds.mean()))
    return best, pred


def benchmark(args) -> dict:
    peer = peer_version()
    if peer is None:
        print(f"peer ByteTrack skipped: package {PEER!r} is not installed (pip install {PEER})")
    results = {}
    for density in args.densities:
        gt, detections = generate_scene(args.frames, density, args.seed)
        entry = {"detections_per_frame": round(float(np.mean([len(d) for d in detections])), 1),
                 "gt_per_frame": round(len(gt) / args.frames, 1), "trackers": {}}
        for name, run in trackers_under_test(peer is not None).items():
            seconds, pred = measure(run, detections, args.repeats)
            metrics = evaluate_mot({"scene": gt}, {"scene": pred}, seq_lengths={"scene": args.frames},
                                   class_aware=False)["combined"]
            entry["trackers"][name] = {
                "ms_per_frame": round(1e3 * seconds, 3),
                **{k: round(float(metrics[k]), 4) for k in ("MOTA", "IDF1")},
                **{k: int(metrics[k]) for k in ("IDSW", "FP", "FN")},
            }
            print(f"{density:4d} dets/frame  {name:23s} {entry['trackers'][name]}")
        if peer is not None:
            base = entry["trackers"]["bytetrack_peer"]["ms_per_frame"]
            entry["speedup_vs_peer"] = {name: round(base / r["ms_per_frame"], 1)
                                        for name, r in entry["trackers"].items() if name != "bytetrack_peer"}
        results[str(density)] = entry
    return {
        "benchmark": "tracker_speed",
        "settings": {**vars(args), "image": [WIDTH, HEIGHT], "embedding_dim": EMBEDDING_DIM,
                     "ours": {name: {"config": c, "overrides": o} for name, (c, o) in OURS.items()}},
        "machine": {
            "platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
            "numpy": version("numpy"), "scipy": version("scipy"), PEER: peer,
        },
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--densities", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/tracker_speed.json"))
    args = parser.parse_args()
    report = benchmark(args)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
