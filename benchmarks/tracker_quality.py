"""Tracking quality: MOTA / IDF1 / HOTA per tracker on the synthetic world's val split.

Two settings, each tracker built from ``conf/tracker/<name>.yaml`` (adaptations below):

- ``gt_noisy``: detections derived from the val ground truth (seeded): each gt box is
  dropped with probability ``--p-miss``, jittered (Gaussian, std 5% of its width / height
  on position and size) and scored ~U(0.5, 1); false positives come at ``--fp-rate`` per
  frame (Poisson), with a gt box's size at a uniform position, score ~U(0.3, 0.7) and a
  random class. Embeddings follow the world's appearance (``tracks[].appearance`` of the
  JSON): the two colours (half of the squared norm) and one-hot texture + shape (the other
  half), L2-normalised, plus per-detection Gaussian noise (``--embedding-noise`` per
  dimension) -- look-alikes (same shape and texture, other colours) are close but
  separable; false positives get random unit vectors. Masks: the gt RLE (a filled box for
  false positives). ReMOTS gets the val JPEGs (grayscale) for its optical flow.
- ``model`` (``--ckpt``): a train.py checkpoint's detections and embeddings, via track.py's
  detection cache, optionally cut at ``--model-min-score`` before every tracker (default:
  as the model gives them, so each config's own score threshold applies). ReMOTS is skipped
  (no masks); embedding trackers are skipped when the model has no embeddings.

Adaptations to the synthetic world (10 FPS, 48-frame videos), recorded in the JSON:
DMTrack runs multi-object (``single_target=false``); AOA runs at its paper rate (1 FPS:
every 10th frame; scored on all frames and on the processed frames alone, as TAO annotates
at 1 FPS) and on every frame; the LTAO selector is single-object and is not run.
Metrics: :func:`eval.mot.evaluate_mot` (class-aware, TrackEval conventions) against
``mot/val/<seq>/gt/gt.txt``; seconds are tracking wall time over the split. Writes JSON
and prints a markdown table::

    python benchmarks/tracker_quality.py [--root data/synthetic] [--split val] [--seed 0]
        [--p-miss 0.1] [--fp-rate 0.5] [--embedding-noise 0.1] [--ckpt last.ckpt]
        [--model-min-score 0] [--out benchmarks/results/tracker_quality.json]
"""
from __future__ import annotations

import argparse
import configparser
import json
import os
import platform
import sys
import time
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

# Per-frame matrices are small: a multi-threaded BLAS only adds contention. Set before numpy.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from pycocotools import mask as mask_utils  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hydra import compose, initialize_config_dir  # noqa: E402
from hydra.utils import instantiate  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from eval.mot import evaluate_mot  # noqa: E402
from eval.mot_io import frame_tracks_to_mot_rows, read_mot_txt  # noqa: E402
from trackers import Detections, ReMOTSTracker, track_sequence  # noqa: E402

SHAPES = ("disc", "box", "triangle")
TEXTURES = ("stripes", "checker", "dots", "gradient")
EMBEDDING_DIM = 6 + len(TEXTURES) + len(SHAPES)  # two RGB colours, one-hot texture and shape
CATEGORY_SHARE = 0.5  # share of an appearance vector's squared norm held by texture + shape
JITTER = 0.05  # box jitter std, relative to the box width / height
METRICS = ("MOTA", "IDF1", "HOTA", "DetA", "AssA")
COUNTS = ("IDSW", "FP", "FN")
NOT_RUN = {"ltao_selector": "single-object (one selected box per frame); not a multi-object tracker"}


def tracker_runs(fps: float) -> dict[str, dict]:
    """``{run name: {"config", "overrides", "eval_stride"}}`` for videos at ``fps``;
    ``eval_stride`` k scores only frames 0, k, 2k, ... (1: every frame)."""
    every_frame = {"video_fps": fps, "tracking_fps": fps}
    one_fps = {"video_fps": fps, "tracking_fps": 1.0}
    stride = round(fps)
    return {
        "iou": {"config": "iou", "overrides": {}, "eval_stride": 1},
        "sort": {"config": "sort", "overrides": {}, "eval_stride": 1},
        "retinatrack": {"config": "retinatrack", "overrides": {}, "eval_stride": 1},
        "dmtrack": {"config": "dmtrack", "overrides": {"single_target": False}, "eval_stride": 1},
        "aoa_every_frame": {"config": "aoa", "overrides": every_frame, "eval_stride": 1},
        "aoa_1fps": {"config": "aoa", "overrides": one_fps, "eval_stride": 1},
        "aoa_1fps_scored_at_1fps": {"config": "aoa", "overrides": one_fps, "eval_stride": stride},
        "remots": {"config": "remots", "overrides": {}, "eval_stride": 1},
    }


def build(config: str, overrides: dict):
    """A tracker from ``conf/tracker/<config>.yaml`` with ``overrides``."""
    return instantiate(OmegaConf.load(REPO / "conf" / "tracker" / f"{config}.yaml"), **overrides)


# ----------------------------------------------------------------------------- the world
def load_split(root: Path, split: str) -> dict:
    """The split's COCO-video JSON, annotations grouped as ``{video name: [frame: [ann]]}``."""
    data = json.loads((root / "annotations" / f"{split}.json").read_text())
    images = {im["id"]: im for im in data["images"]}
    names = {v["id"]: v["name"] for v in data["videos"]}
    frames = {v["name"]: [[] for _ in range(v["length"])] for v in data["videos"]}
    for ann in data["annotations"]:
        image = images[ann["image_id"]]
        frames[names[image["video_id"]]][image["frame_index"]].append(ann)
    data["frames"] = frames
    data["class_ids"] = sorted(c["id"] for c in data["categories"])
    return data


def split_fps(root: Path, split: str, videos) -> float:
    """The videos' common ``frameRate`` (``mot/<split>/<video>/seqinfo.ini``)."""
    rates = set()
    for video in videos:
        ini = configparser.ConfigParser()
        ini.read(root / "mot" / split / video / "seqinfo.ini")
        rates.add(float(ini["Sequence"]["frameRate"]))
    if len(rates) != 1:
        raise ValueError(f"videos of {split} differ in frame rate: {sorted(rates)}")
    return rates.pop()


def ground_truth(root: Path, split: str, videos) -> dict[str, np.ndarray]:
    """``{video: gt.txt rows}``."""
    return {v: read_mot_txt(root / "mot" / split / v / "gt" / "gt.txt") for v in videos}


def gray_frames(root: Path, split: str, video: str, length: int) -> list[np.ndarray]:
    """The video's JPEG frames as ``(H, W)`` uint8 (what ReMOTS's flow takes)."""
    return [cv2.imread(str(root / "images" / split / video / f"{t:06d}.jpg"), cv2.IMREAD_GRAYSCALE)
            for t in range(length)]


# ------------------------------------------------------------- noisy gt-derived detections
def appearance_vector(appearance: dict) -> np.ndarray:
    """Unit vector of a track's appearance: colours and one-hot texture + shape, each part
    normalised and weighted so texture + shape hold ``CATEGORY_SHARE`` of the norm."""
    colours = np.asarray(appearance["colors"], np.float64).reshape(-1) / 127.5 - 1.0
    category = np.r_[np.asarray(TEXTURES) == appearance["texture"], np.asarray(SHAPES) == appearance["shape"]]
    return np.r_[np.sqrt(1 - CATEGORY_SHARE) * colours / np.linalg.norm(colours),
                 np.sqrt(CATEGORY_SHARE) * category / np.sqrt(2.0)]


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def true_detections(anns: list[dict], appearance: dict[int, np.ndarray], rng: np.random.Generator,
                    args, label_of: dict[int, int]) -> tuple[Detections, np.ndarray]:
    """One frame's kept gt boxes, jittered and scored; and their track ids."""
    anns = [a for a in anns if rng.random() >= args.p_miss]
    xywh = np.asarray([a["bbox"] for a in anns], np.float64).reshape(-1, 4)
    wh = np.tile(xywh[:, 2:], 2)
    xywh = xywh + rng.normal(0.0, JITTER, xywh.shape) * wh
    xywh[:, 2:] = np.maximum(xywh[:, 2:], 1.0)
    track_ids = np.asarray([a["track_id"] for a in anns], np.int64)
    clean = np.asarray([appearance[t] for t in track_ids]).reshape(len(anns), EMBEDDING_DIM)
    return Detections(
        boxes=np.c_[xywh[:, :2], xywh[:, :2] + xywh[:, 2:]],
        scores=rng.uniform(0.5, 1.0, len(anns)),
        labels=[label_of[a["category_id"]] for a in anns],
        embeddings=unit_rows(clean + rng.normal(0.0, args.embedding_noise, clean.shape)),
        masks=[a["segmentation"] for a in anns],
    ), track_ids


def false_positives(size: tuple[int, int], gt_wh: np.ndarray, num_classes: int, rng: np.random.Generator,
                    fp_rate: float) -> Detections:
    """Poisson(``fp_rate``) boxes of gt sizes inside the image, random class and embedding,
    filled-box masks."""
    height, width = size
    n = rng.poisson(fp_rate)
    wh = np.minimum(gt_wh[rng.integers(0, len(gt_wh), n)], [width, height])
    xy = rng.uniform(0.0, 1.0, (n, 2)) * ([width, height] - wh)
    return Detections(
        boxes=np.c_[xy, xy + wh],
        scores=rng.uniform(0.3, 0.7, n),
        labels=rng.integers(0, num_classes, n),
        embeddings=unit_rows(rng.normal(size=(n, EMBEDDING_DIM))),
        masks=list(mask_utils.frPyObjects(np.c_[xy, wh], height, width)) if n else [],
    )


def concatenate(a: Detections, b: Detections) -> Detections:
    return Detections(boxes=np.r_[a.boxes, b.boxes], scores=np.r_[a.scores, b.scores],
                      labels=np.r_[a.labels, b.labels], embeddings=np.r_[a.embeddings, b.embeddings],
                      masks=[*a.masks, *b.masks])


def noisy_detections(world: dict, args) -> tuple[dict[str, list[Detections]], dict[str, list[np.ndarray]]]:
    """Per video and frame: noisy detections, and the gt track id of each (0: false positive)."""
    rng = np.random.default_rng(args.seed)
    appearance = {t["id"]: appearance_vector(t["appearance"]) for t in world["tracks"]}
    label_of = {c: i for i, c in enumerate(world["class_ids"])}
    gt_wh = np.asarray([a["bbox"][2:] for a in world["annotations"]], np.float64)
    sizes = {v["name"]: (v["height"], v["width"]) for v in world["videos"]}
    detections, track_ids = defaultdict(list), defaultdict(list)
    for video, frames in world["frames"].items():
        for anns in frames:
            true, ids = true_detections(anns, appearance, rng, args, label_of)
            fp = false_positives(sizes[video], gt_wh, len(label_of), rng, args.fp_rate)
            detections[video].append(concatenate(true, fp))
            track_ids[video].append(np.r_[ids, np.zeros(len(fp), np.int64)])
    return dict(detections), dict(track_ids)


def embedding_separation(world: dict, detections: dict, track_ids: dict) -> dict:
    """Cosine similarity of true detections' embeddings within a video, by pair kind:
    same track, look-alike (same shape and texture, other track), other; mean and 1st /
    99th percentiles."""
    kind_key = {t["id"]: (t["appearance"]["shape"], t["appearance"]["texture"]) for t in world["tracks"]}
    kind_index = {key: i for i, key in enumerate(sorted(set(kind_key.values())))}
    sims = defaultdict(list)
    for video, frames in detections.items():
        ids = np.concatenate(track_ids[video])
        emb = np.concatenate([d.embeddings for d in frames])[ids > 0]
        ids = ids[ids > 0]
        kinds = np.asarray([kind_index[kind_key[t]] for t in ids])
        sim = emb @ emb.T
        upper = np.triu(np.ones_like(sim, bool), 1)
        same = ids[:, None] == ids[None, :]
        alike = (kinds[:, None] == kinds[None, :]) & ~same
        for name, pairs in (("same_track", same), ("lookalike", alike), ("other", ~same & ~alike)):
            sims[name].append(sim[pairs & upper])
    return {name: summary(np.concatenate(v)) for name, v in sims.items()}


def summary(values: np.ndarray) -> dict:
    """Mean and 1st / 99th percentiles, rounded."""
    return {"mean": round(float(np.mean(values)), 3), "p01": round(float(np.percentile(values, 1)), 3),
            "p99": round(float(np.percentile(values, 99)), 3)}


# --------------------------------------------------------------------- model detections
def model_detections(ckpt: Path, min_score: float) -> tuple[dict[str, list[Detections]], bool]:
    """``({video: per-frame Detections with score >= min_score}, has_embeddings)`` of a
    train.py checkpoint on its own val split, through track.py's detection cache
    (``logs/cache``)."""
    os.environ.setdefault("TRACKZOO_ROOT", str(REPO))
    from lightning_modules.common.run_record import file_sha256
    from track import cached_detect_split, load_model

    module, saved = load_model(ckpt)
    datamodule = instantiate(saved["data"])
    datamodule.setup("predict")
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("track", overrides=[f"ckpt_path={ckpt}", "accelerator=cpu"])  # track.py's own config
    predictions = cached_detect_split(cfg, module, datamodule, saved["data"], file_sha256(ckpt))
    detections = {video: [f["detections"].select(f["detections"].scores >= min_score) for f in frames]
                  for video, frames in predictions.items()}
    return detections, getattr(module.net, "embedding_dim", 0) > 0


# ------------------------------------------------------------------ tracking and scoring
def run_tracker(tracker, frames: list[Detections], images: list[np.ndarray] | None):
    """One video's FrameTracks; ReMOTS gets the images for its optical flow."""
    if isinstance(tracker, ReMOTSTracker):
        return tracker.track(frames, images=images)
    return track_sequence(tracker, frames)


def every_kth_frame(rows: dict[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """Rows of frames 0, k, 2k, ... (MOT frames 1, k + 1, ...)."""
    return {seq: r[(r[:, 0].astype(np.int64) - 1) % k == 0] for seq, r in rows.items()}


def score(gt: dict, pred: dict, lengths: dict, eval_stride: int) -> dict:
    """Combined metrics (class-aware, TrackEval conventions) on every ``eval_stride``-th frame."""
    combined = evaluate_mot(every_kth_frame(gt, eval_stride), every_kth_frame(pred, eval_stride),
                            seq_lengths=lengths)["combined"]
    return {**{k: round(float(combined[k]), 4) for k in METRICS}, **{k: int(combined[k]) for k in COUNTS}}


def skip_reason(tracker, has_masks: bool, has_embeddings: bool) -> str | None:
    """Why ``tracker`` cannot run on these detections, or ``None``."""
    if isinstance(tracker, ReMOTSTracker) and not has_masks:
        return "needs masks; the detections have none"
    if tracker.requires_embeddings and not has_embeddings:
        return "needs embeddings; the model has none"
    return None


def evaluate_setting(detections: dict, images: dict | None, gt: dict, lengths: dict, class_ids: list[int],
                     runs: dict, has_embeddings: bool) -> dict:
    """``{run: metrics + seconds}`` (or ``{"skipped": why}``) of every tracker run."""
    has_masks = all(d.masks is not None for frames in detections.values() for d in frames if len(d))
    results = {}
    for name, run in runs.items():
        tracker = build(run["config"], run["overrides"])
        reason = skip_reason(tracker, has_masks, has_embeddings)
        if reason:
            results[name] = {"skipped": reason}
            print(f"  {name:24s} skipped: {reason}")
            continue
        start = time.perf_counter()
        pred = {video: frame_tracks_to_mot_rows(run_tracker(tracker, frames, (images or {}).get(video)),
                                                label_to_class=class_ids)
                for video, frames in detections.items()}
        seconds = time.perf_counter() - start
        results[name] = {**score(gt, pred, lengths, run["eval_stride"]), "seconds": round(seconds, 3)}
        print(f"  {name:24s} {results[name]}")
    return results


# ------------------------------------------------------------------------------ report
def markdown_table(results: dict) -> str:
    """One row per tracker run: MOTA, IDF1, HOTA, DetA, AssA in %, IDSW, FP, FN, seconds."""
    lines = ["| tracker | MOTA | IDF1 | HOTA | DetA | AssA | IDSW | FP | FN | s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        if "skipped" in r:
            lines.append(f"| {name} | skipped: {r['skipped']} |||||||||")
            continue
        cells = [f"{100 * r[k]:.1f}" for k in METRICS] + [str(r[k]) for k in COUNTS] + [f"{r['seconds']:.2f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            **{pkg: version(pkg) for pkg in ("numpy", "scipy", "opencv-python-headless", "pycocotools")}}


def adaptations(runs: dict) -> list[str]:
    """One line per run that differs from its config or is scored on a subset of frames."""
    lines = [f"{name}: {run['config']}.yaml with {run['overrides']}"
             + (f", scored on every {run['eval_stride']}th frame" if run["eval_stride"] > 1 else "")
             for name, run in runs.items() if run["overrides"] or run["eval_stride"] > 1]
    return lines + [f"{name}: not run: {why}" for name, why in NOT_RUN.items()]


def detections_per_frame(detections: dict) -> float:
    frames = [d for video in detections.values() for d in video]
    return round(sum(len(d) for d in frames) / len(frames), 2)


def benchmark(args) -> dict:
    world = load_split(args.root, args.split)
    videos = list(world["frames"])
    lengths = {v: len(world["frames"][v]) for v in videos}
    gt = ground_truth(args.root, args.split, videos)
    fps = split_fps(args.root, args.split, videos)
    runs = tracker_runs(fps)
    report = {"benchmark": "tracker_quality",
              "settings": {**vars(args), "video_fps": fps, "videos": len(videos), "frames": sum(lengths.values()),
                           "gt_boxes": len(world["annotations"]), "jitter": JITTER, "category_share": CATEGORY_SHARE,
                           "runs": runs, "adaptations": adaptations(runs)},
              "machine": machine(), "results": {}}

    print(f"setting gt_noisy ({args.split}: {len(videos)} videos, {sum(lengths.values())} frames)")
    detections, track_ids = noisy_detections(world, args)
    images = {v: gray_frames(args.root, args.split, v, lengths[v]) for v in videos}
    report["results"]["gt_noisy"] = {
        "embedding_separation": embedding_separation(world, detections, track_ids),
        "detections_per_frame": detections_per_frame(detections),
        "trackers": evaluate_setting(detections, images, gt, lengths, world["class_ids"], runs, True),
    }
    if args.ckpt is not None:
        print(f"setting model ({args.ckpt}, detections with score >= {args.model_min_score})")
        detections, has_embeddings = model_detections(args.ckpt, args.model_min_score)
        if set(detections) != set(videos):
            raise ValueError(f"{args.ckpt}: its val videos {sorted(detections)} are not {args.root}'s {args.split}")
        report["results"]["model"] = {
            "checkpoint": str(args.ckpt), "has_embeddings": has_embeddings,
            "detections_per_frame": detections_per_frame(detections),
            "trackers": evaluate_setting(detections, None, gt, lengths, world["class_ids"], runs, has_embeddings),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO / "data" / "synthetic")
    parser.add_argument("--split", default="val")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--p-miss", type=float, default=0.1, help="probability of dropping a gt box")
    parser.add_argument("--fp-rate", type=float, default=0.5, help="mean false positives per frame")
    parser.add_argument("--embedding-noise", type=float, default=0.1, help="per-dimension noise std")
    parser.add_argument("--ckpt", type=Path, default=None, help="train.py checkpoint for the model setting")
    parser.add_argument("--model-min-score", type=float, default=0.0,
                        help="drop the model's detections below this score before every tracker")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "tracker_quality.json")
    args = parser.parse_args()
    report = benchmark(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print("\nadaptations:\n" + "\n".join(f"- {line}" for line in report["settings"]["adaptations"]))
    for setting, result in report["results"].items():
        print(f"\n{setting} ({result['detections_per_frame']} detections per frame):")
        print(markdown_table(result["trackers"]))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
