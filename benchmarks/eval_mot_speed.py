"""MOT metrics speed: eval.mot vs TrackEval vs py-motmetrics on one generated sequence.

The sequence has ``--frames`` frames with about ``--objects`` objects per frame (tracks enter
and leave); the tracker output is the ground truth with box noise, misses, id switches and
false positives. Every tool computes CLEAR MOT + IDF1 (+ HOTA for TrackEval and eval.mot)
from the same rows, timed from the rows to the numbers (IoU included):

- ``eval.mot``: :func:`eval.mot.evaluate_mot` (``conventions="trackeval"`` and ``"motmetrics"``);
- TrackEval 1.3: per-frame ``_calculate_box_ious`` + ``HOTA/CLEAR/Identity.eval_sequence``;
- motmetrics 1.4: per-frame IoU distances (TrackEval's IoU; motmetrics' own ``iou_matrix``
  needs ``np.asfarray``, gone in numpy 2) into ``MOTAccumulator`` + ``compute`` of the
  MOTChallenge metrics.

The numbers must agree (max difference <= 1e-6, recorded), seconds are the best of
``--repeats`` runs. Writes JSON::

    python benchmarks/eval_mot_speed.py [--frames 3000] [--objects 40] [--repeats 3]
        [--reference-repeats 1] [--seed 0] [--out benchmarks/results/eval_mot_speed.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

from eval.mot import evaluate_mot

HOTA_CURVES = ("HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr")
TOLERANCE = 1e-6


def generate(frames: int, objects: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(gt, pred)`` MOT rows ``frame, id, x, y, w, h, conf, class`` of a 1920x1080 sequence."""
    rng = np.random.default_rng(seed)
    mean_life = 150
    num_tracks = int(objects * frames / mean_life) + objects
    start = rng.integers(-mean_life, frames, num_tracks)
    life = rng.integers(mean_life // 2, 3 * mean_life // 2, num_tracks)
    pos = rng.uniform([0, 0], [1800, 900], (num_tracks, 2))
    vel = rng.normal(0, 2, (num_tracks, 2))
    wh = rng.uniform([25, 60], [80, 220], (num_tracks, 2))
    tracker_id = np.arange(num_tracks) + 1
    next_id = num_tracks + 1
    gt, pred = [], []
    for frame in range(1, frames + 1):
        alive = np.flatnonzero((start < frame) & (frame <= start + life))
        xy = pos[alive] + vel[alive] * (frame - start[alive])[:, None]
        boxes = np.c_[xy, wh[alive]]
        gt.append(np.c_[np.full(len(alive), frame), alive + 1, boxes, np.ones(len(alive)), np.ones(len(alive))])
        switch = rng.random(len(alive)) < 0.002
        tracker_id[alive[switch]] = next_id + np.arange(switch.sum())
        next_id += int(switch.sum())
        seen = rng.random(len(alive)) > 0.08
        noisy = boxes[seen] + rng.normal(0, 4, (seen.sum(), 4))
        fp = rng.poisson(2)
        fp_boxes = np.c_[rng.uniform([0, 0], [1800, 900], (fp, 2)), rng.uniform([25, 60], [80, 220], (fp, 2))]
        ids = np.r_[tracker_id[alive[seen]], next_id + np.arange(fp)]
        next_id += fp
        tboxes = np.r_[noisy, fp_boxes]
        pred.append(np.c_[np.full(len(ids), frame), ids, tboxes, rng.random(len(ids)), np.ones(len(ids))])
    return np.concatenate(gt), np.concatenate(pred)


def best_of(repeats: int, fn):
    """``(best seconds, last result)`` of ``repeats`` calls."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def frames_of(rows: np.ndarray, num_frames: int) -> list[np.ndarray]:
    order = np.argsort(rows[:, 0], kind="stable")
    bounds = np.searchsorted(rows[order, 0], np.arange(1, num_frames + 2))
    return [rows[order[lo:hi]] for lo, hi in zip(bounds[:-1], bounds[1:])]


def run_trackeval(gt: np.ndarray, pred: np.ndarray, num_frames: int) -> dict:
    import trackeval
    from trackeval.datasets._base_dataset import _BaseDataset

    config = {"PRINT_CONFIG": False}
    g_frames, p_frames = frames_of(gt, num_frames), frames_of(pred, num_frames)
    g_ids, p_ids = np.unique(gt[:, 1]), np.unique(pred[:, 1])
    data = {
        "num_timesteps": num_frames, "num_gt_ids": len(g_ids), "num_tracker_ids": len(p_ids),
        "num_gt_dets": len(gt), "num_tracker_dets": len(pred),
        "gt_ids": [np.searchsorted(g_ids, f[:, 1]) for f in g_frames],
        "tracker_ids": [np.searchsorted(p_ids, f[:, 1]) for f in p_frames],
        "similarity_scores": [_BaseDataset._calculate_box_ious(g[:, 2:6], p[:, 2:6], box_format="xywh")
                              for g, p in zip(g_frames, p_frames)],
    }
    h = trackeval.metrics.HOTA(config).eval_sequence(data)
    c = trackeval.metrics.CLEAR(config).eval_sequence(data)
    i = trackeval.metrics.Identity(config).eval_sequence(data)
    return {
        **{k: float(np.mean(h[k])) for k in HOTA_CURVES},
        "MOTA": float(c["MOTA"]), "MOTP": float(c["MOTP"]), "IDF1": float(i["IDF1"]), "IDP": float(i["IDP"]),
        "IDR": float(i["IDR"]), "IDSW": int(c["IDSW"]), "FP": int(c["CLR_FP"]), "FN": int(c["CLR_FN"]),
        "Frag": int(c["Frag"]), "MT": int(c["MT"]), "PT": int(c["PT"]), "ML": int(c["ML"]),
    }


def run_motmetrics(gt: np.ndarray, pred: np.ndarray, num_frames: int) -> dict:
    import motmetrics as mm
    from trackeval.datasets._base_dataset import _BaseDataset

    acc = mm.MOTAccumulator(auto_id=False)
    for frame, (g, p) in enumerate(zip(frames_of(gt, num_frames), frames_of(pred, num_frames)), start=1):
        if not len(g) and not len(p):
            continue
        dist = 1.0 - _BaseDataset._calculate_box_ious(g[:, 2:6], p[:, 2:6], box_format="xywh")
        dist[dist > 0.5] = np.nan
        acc.update(g[:, 1].astype(int).tolist(), p[:, 1].astype(int).tolist(), dist, frameid=frame)
    s = mm.metrics.create().compute(acc, metrics=mm.metrics.motchallenge_metrics, name="seq").iloc[0]
    return {
        "MOTA": float(s.mota), "MOTP": float(1 - s.motp), "IDF1": float(s.idf1), "IDP": float(s.idp),
        "IDR": float(s.idr), "IDSW": int(s.num_switches), "FP": int(s.num_false_positives),
        "FN": int(s.num_misses), "Frag": int(s.num_fragmentations), "MT": int(s.mostly_tracked),
        "PT": int(s.partially_tracked), "ML": int(s.mostly_lost),
    }


def max_difference(ours: dict, reference: dict) -> float:
    return max(abs(float(ours[k]) - float(v)) for k, v in reference.items())


def benchmark(args) -> dict:
    gt, pred = generate(args.frames, args.objects, args.seed)
    inputs = ({"seq": gt}, {"seq": pred})
    lengths = {"seq": args.frames}

    ours_te_s, ours_te = best_of(args.repeats, lambda: evaluate_mot(*inputs, seq_lengths=lengths))
    ours_mm_s, ours_mm = best_of(args.repeats, lambda: evaluate_mot(*inputs, seq_lengths=lengths,
                                                                    conventions="motmetrics"))
    trackeval_s, trackeval_res = best_of(args.reference_repeats, lambda: run_trackeval(gt, pred, args.frames))
    motmetrics_s, motmetrics_res = best_of(args.reference_repeats, lambda: run_motmetrics(gt, pred, args.frames))
    diff_te = max_difference(ours_te["combined"], trackeval_res)
    diff_mm = max_difference(ours_mm["combined"], motmetrics_res)
    if max(diff_te, diff_mm) > TOLERANCE:
        raise AssertionError(f"numbers differ: TrackEval {diff_te:.3g}, motmetrics {diff_mm:.3g}")
    return {
        "benchmark": "eval_mot_speed",
        "settings": vars(args) | {"gt_boxes": len(gt), "tracker_boxes": len(pred),
                                  "gt_boxes_per_frame": round(len(gt) / args.frames, 1)},
        "machine": {
            "platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            **{pkg: version(pkg) for pkg in ("numpy", "scipy", "trackeval", "motmetrics", "pandas")},
        },
        "results": {
            "seconds": {
                "eval_mot_trackeval_conventions": round(ours_te_s, 3),
                "eval_mot_motmetrics_conventions": round(ours_mm_s, 3),
                "trackeval": round(trackeval_s, 3),
                "motmetrics": round(motmetrics_s, 3),
            },
            "speedup": {
                "vs_trackeval": round(trackeval_s / ours_te_s, 1),
                "vs_motmetrics": round(motmetrics_s / ours_mm_s, 1),
            },
            "max_abs_difference": {"vs_trackeval": diff_te, "vs_motmetrics": diff_mm},
            "metrics": {
                "trackeval_conventions": {k: ours_te["combined"][k] for k in trackeval_res},
                "motmetrics_conventions": {k: ours_mm["combined"][k] for k in motmetrics_res},
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--objects", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="runs of eval.mot (best is kept)")
    parser.add_argument("--reference-repeats", type=int, default=1, help="runs of TrackEval and motmetrics")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/eval_mot_speed.json"))
    args = parser.parse_args()
    report = benchmark(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report["results"]["seconds"] | report["results"]["speedup"], indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
