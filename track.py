"""Track and evaluate: ``python track.py ckpt_path=<checkpoint>``.

Rebuilds the model from the checkpoint (its resolved config is stored inside), detects
every frame of the evaluation split, links the detections with each configured tracker,
and writes into the run directory:
- ``<tracker>/<video>.txt``: MOTChallenge results per video;
- ``metrics.json``: COCO box AP of the detections and HOTA / CLEAR MOT / IDF1 per tracker;
- ``run_record.json``: config, commit, checkpoint hash, dataset and split.

Trackers: by default every entry of ``trackers`` (the RetinaTrack store and the IoU
baseline); ``tracker=<name>`` runs that one alone, so tracker sweeps read
``python track.py -m ckpt_path=... tracker=sort,retinatrack tracker.max_age=10,40``.

Detections (and embeddings) are cached under ``paths.cache_dir``, keyed by the checkpoint's
SHA-256 and the resolved data config, so sweeps over trackers never rerun the network.

Distributed (``devices=N strategy=ddp``, ``num_nodes``): tracking is sequential within a
video, so each rank detects whole videos (:mod:`datamodules.video_shards`), rank 0 gathers
the detections (``torch.distributed.gather_object``), then caches, tracks, evaluates and
writes as a single process would; the other ranks write nothing.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import warnings
from pathlib import Path

os.environ.setdefault("TRACKZOO_ROOT", str(Path(__file__).resolve().parent))

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher
from omegaconf import DictConfig, OmegaConf

from datamodules.video_shards import VideoShardedPrediction
from eval.coco import evaluate_coco_boxes
from eval.compare import track_summary
from eval.mot import evaluate_mot, format_table
from eval.mot_io import frame_tracks_to_mot_rows, video_to_mot_rows, write_mot_txt
from lightning_modules.common.run_record import describe_index, file_sha256, write_run_record
from trackers import track_sequence
from trackers.detection_sources import class_agnostic_nms
from trackers.detections_io import load_sequence_detections, save_sequence_detections
from trackers.types import Detections

log = logging.getLogger("track")

SUMMARY_METRICS = ("MOTA", "IDF1", "IDSW", "FP", "FN", "MT", "ML")


def load_model(ckpt_path: str | Path) -> tuple[L.LightningModule, dict]:
    """The LightningModule stored in a train.py checkpoint, and the saved configs."""
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    if "trackzoo" not in checkpoint:
        raise ValueError(f"{ckpt_path}: not a train.py checkpoint (no stored model config)")
    saved = checkpoint["trackzoo"]
    module = instantiate(saved["model"]["module"])
    module.load_state_dict(checkpoint["state_dict"])
    return module.eval(), saved


def gather_on_rank_zero(items: list, world_size: int) -> list | None:
    """Every rank's ``items`` concatenated in rank order on rank 0; ``None`` elsewhere."""
    if world_size == 1:
        return items
    gathered = [None] * world_size if torch.distributed.get_rank() == 0 else None
    torch.distributed.gather_object(items, gathered, dst=0)
    return None if gathered is None else [item for part in gathered for item in part]


def check_launch(trainer: L.Trainer) -> None:
    """Lightning starts a node's extra processes by re-running the command line; inside a
    Hydra multirun that command is the whole sweep."""
    multirun = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    if multirun and isinstance(trainer.strategy.launcher, _SubprocessScriptLauncher):
        raise ValueError(
            "a multirun cannot start DDP processes itself (each would rerun the sweep): detect with "
            "several devices in a single run (it fills the detection cache the sweep then reads), "
            "or sweep with a launcher that starts every job's processes (hydra/launcher=slurm)"
        )


def detect_split(module: L.LightningModule, datamodule, cfg: DictConfig) -> dict[str, list[dict]] | None:
    """Per-frame predictions of the evaluation split, grouped by video in frame order.

    With ``devices`` / ``num_nodes`` above 1 every rank detects whole videos
    (:class:`VideoShardedPrediction`) and rank 0 gathers them; other ranks get ``None``.
    """
    trainer = L.Trainer(accelerator=cfg.accelerator, devices=cfg.devices, num_nodes=cfg.num_nodes,
                        strategy=cfg.strategy, use_distributed_sampler=False, logger=False,
                        enable_checkpointing=False)
    check_launch(trainer)
    module.allow_zero_length_dataloader_with_multiple_devices = True  # more ranks than videos
    with warnings.catch_warnings():  # "custom batch sampler": it never drops a frame
        warnings.filterwarnings("ignore", message="You are using a custom batch sampler")
        batches = trainer.predict(module, datamodule=VideoShardedPrediction(datamodule)) or []  # None: no video here
    frames = gather_on_rank_zero([frame for batch in batches for frame in batch], trainer.world_size)
    if frames is None:
        return None
    by_video: dict[str, list[dict]] = {video.name: [] for video in datamodule.val_index.videos}
    for frame in frames:
        by_video[frame["video"]].append(frame)
    for video_frames in by_video.values():
        video_frames.sort(key=lambda f: f["frame_index"])
    return by_video


def cache_key(checkpoint_sha256: str, data_cfg: dict, test_time_augment: str | None) -> str:
    """Identity of a model's detections on a dataset split: 16 hex digits."""
    material = json.dumps({"checkpoint": checkpoint_sha256, "data": data_cfg, "test_time_augment": test_time_augment},
                          sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def save_predictions(cache_dir: Path, predictions: dict[str, list[dict]], meta: dict) -> None:
    """Write per-video detections, then ``meta.json`` (written last: marks a complete cache)."""
    frames = {}
    for video, items in predictions.items():
        save_sequence_detections(cache_dir / f"{len(frames):05d}.npz", [f["frame_index"] for f in items],
                                 [f["detections"] for f in items])
        frames[video] = {"file": f"{len(frames):05d}.npz", "image_ids": [f["image_id"] for f in items]}
    (cache_dir / "meta.json").write_text(json.dumps({**meta, "videos": frames}, indent=1))


def load_predictions(cache_dir: Path) -> dict[str, list[dict]] | None:
    """Inverse of :func:`save_predictions`; ``None`` when the cache is missing or incomplete."""
    if not (cache_dir / "meta.json").exists():
        return None
    predictions = {}
    for video, entry in json.loads((cache_dir / "meta.json").read_text())["videos"].items():
        frame_indices, detections = load_sequence_detections(cache_dir / entry["file"])
        predictions[video] = [
            {"video": video, "frame_index": f, "image_id": i, "detections": d}
            for f, i, d in zip(frame_indices, entry["image_ids"], detections)
        ]
    return predictions


def cached_detect_split(cfg: DictConfig, module: L.LightningModule, datamodule, data_cfg: dict,
                        checkpoint_sha256: str) -> dict[str, list[dict]] | None:
    """:func:`detect_split`, read from / written to the detection cache when enabled (a
    cache hit runs no network, so no other rank is launched)."""
    if not cfg.detection_cache:
        return detect_split(module, datamodule, cfg)
    cache_dir = Path(cfg.paths.cache_dir) / "detections" / cache_key(checkpoint_sha256, data_cfg, cfg.test_time_augment)
    predictions = load_predictions(cache_dir)
    if predictions is not None:
        log.info("detections from the cache %s", cache_dir)
        return predictions
    predictions = detect_split(module, datamodule, cfg)
    if predictions is None:
        return None
    save_predictions(cache_dir, predictions, {"checkpoint": str(cfg.ckpt_path), "checkpoint_sha256": checkpoint_sha256,
                                              "data": data_cfg, "test_time_augment": cfg.test_time_augment})
    log.info("detections cached in %s", cache_dir)
    return predictions


def with_eval_split(data_cfg: dict, split: str) -> dict:
    """``data_cfg`` evaluating ``split`` (its ``val_source.split`` replaced); a data config
    whose val_source has no ``split`` is refused with a message naming it."""
    source = data_cfg.get("val_source")
    if not isinstance(source, dict) or "split" not in source:
        raise ValueError(f"split={split}: the data config's val_source has no `split` field "
                         f"(val_source = {source!r}); pass a full `data` config instead")
    return {**data_cfg, "val_source": {**source, "split": split}}


def selected_trackers(cfg: DictConfig) -> dict[str, DictConfig]:
    """``{name: tracker config}``: the one chosen by ``tracker=<name>``, else ``trackers``."""
    if cfg.get("tracker") is not None:
        return {HydraConfig.get().runtime.choices["tracker"]: cfg.tracker}
    return dict(cfg.trackers)


def summary_table(detection: dict, trackers: dict[str, dict]) -> str:
    """One row per tracker: detection AP50 of the shared detections and tracking metrics."""
    header = ["tracker", "AP50", *SUMMARY_METRICS]
    rows = []
    for name, result in trackers.items():
        combined = result["combined"]
        cells = [name, f"{100 * detection['AP50']:.1f}"]
        for metric in SUMMARY_METRICS:
            value = combined[metric]
            cells.append(f"{100 * value:.1f}" if metric in ("MOTA", "IDF1") else str(int(value)))
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [header, *rows])


def tracking_nms_iou(cfg: DictConfig) -> float | None:
    """``cfg.tracking_nms_iou`` checked before any work: a box IoU in [0, 1], or None."""
    threshold = cfg.tracking_nms_iou
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"tracking_nms_iou must be a box IoU in [0, 1] or null, got {threshold!r}")
    return threshold


def tracker_input(dets: Detections, nms_iou: float | None) -> Detections:
    """One frame's detections as every tracker receives them: after class-agnostic NMS
    at box IoU ``nms_iou`` unless it is None (COCO AP is scored before, on all detections)."""
    return dets if nms_iou is None else class_agnostic_nms(dets, nms_iou)


def track(cfg: DictConfig) -> dict | None:
    """Detect, track, evaluate and write the results; returns the metrics on rank 0 and
    ``None`` on the other ranks (they only detect their videos)."""
    output_dir = Path(cfg.paths.output_dir)
    nms_iou = tracking_nms_iou(cfg)
    module, saved = load_model(cfg.ckpt_path)
    module.net.inference_cfg = dataclasses.replace(module.net.inference_cfg, test_time_augment=cfg.test_time_augment)
    checkpoint_sha256 = file_sha256(cfg.ckpt_path)
    data_cfg = OmegaConf.to_container(cfg.data, resolve=True) if cfg.data is not None else saved["data"]
    if cfg.get("split") is not None:
        data_cfg = with_eval_split(data_cfg, cfg.split)
    datamodule = instantiate(data_cfg)
    datamodule.setup("predict")
    index = datamodule.val_index
    predictions = cached_detect_split(cfg, module, datamodule, data_cfg, checkpoint_sha256)
    if predictions is None:
        return None

    detection_inputs = {
        f["image_id"]: (d.boxes, d.scores, d.labels)
        for frames in predictions.values() for f in frames
        for d in [f["detections"].select(f["detections"].scores >= cfg.detection_score_threshold)]
    }
    detection = evaluate_coco_boxes(index, detection_inputs)

    class_ids = [c.id for c in index.categories]
    ground_truth = {video.name: video_to_mot_rows(video, class_ids) for video in index.videos}
    tracker_results = {}
    has_embeddings = getattr(module.net, "embedding_dim", 0) > 0
    tracker_frames = {video.name: [tracker_input(f["detections"], nms_iou) for f in predictions.get(video.name, [])]
                      for video in index.videos}
    for name, tracker_cfg in selected_trackers(cfg).items():
        tracker = instantiate(tracker_cfg)
        if tracker.requires_embeddings and not has_embeddings:
            log.warning("skipping tracker %r: it needs embeddings and this model has none", name)
            continue
        results = {}
        for video in index.videos:
            frames = predictions.get(video.name, [])
            tracks = track_sequence(tracker, tracker_frames[video.name])
            rows = frame_tracks_to_mot_rows(tracks, [f["frame_index"] + 1 for f in frames], class_ids)
            write_mot_txt(output_dir / name / f"{video.name}.txt", rows)
            results[video.name] = rows
        tracker_results[name] = evaluate_mot(ground_truth, results, class_aware=cfg.class_aware_eval)
        log.info("%s per sequence:\n%s", name, format_table(tracker_results[name]))

    metrics = {"detection": detection, "trackers": tracker_results}
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    write_run_record(
        output_dir, OmegaConf.to_container(cfg, resolve=True),
        checkpoint={"path": str(cfg.ckpt_path), "sha256": checkpoint_sha256},
        training_git=saved.get("git"), datasets=[describe_index(index)],
    )
    print(f"\nDetection (COCO box AP, {index.source} {index.split}): "
          f"AP={100 * detection['AP']:.1f} AP50={100 * detection['AP50']:.1f} AP75={100 * detection['AP75']:.1f}")
    print(summary_table(detection, tracker_results))
    print(f"\nResults and metrics.json in {output_dir}")
    return metrics


@hydra.main(version_base="1.3", config_path="conf", config_name="track")
def main(cfg: DictConfig) -> float | None:
    """Returns ``optimized_metric`` (see conf/track.yaml) for Hydra sweepers."""
    metrics = track(cfg)
    if metrics is None or cfg.get("optimized_metric") is None:
        return None
    return track_summary(metrics)[cfg.optimized_metric]


if __name__ == "__main__":
    main()
