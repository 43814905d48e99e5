"""Track and evaluate: ``python track.py ckpt_path=<checkpoint>``.

Rebuilds the model from the checkpoint (its resolved config is stored inside), detects
every frame of the evaluation split, links the detections with each configured tracker,
and writes into the run directory:
- ``<tracker>/<video>.txt``: MOTChallenge results per video;
- ``metrics.json``: COCO box AP of the detections and CLEAR MOT / IDF1 per tracker;
- ``run_record.json``: config, commit, checkpoint hash, dataset and split.
"""
from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TRACKZOO_ROOT", str(Path(__file__).resolve().parent))

import hydra
import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from eval.coco import evaluate_coco_boxes
from eval.mot import evaluate_mot, format_table
from eval.mot_io import frame_tracks_to_mot_rows, video_to_mot_rows, write_mot_txt
from lightning_modules.common.run_record import describe_index, file_sha256, write_run_record
from trackers import track_sequence

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


def detect_split(module: L.LightningModule, datamodule, accelerator: str) -> dict[str, list[dict]]:
    """Per-frame predictions of the evaluation split, grouped by video in frame order."""
    trainer = L.Trainer(accelerator=accelerator, devices=1, logger=False, enable_checkpointing=False)
    batches = trainer.predict(module, datamodule=datamodule)
    by_video: dict[str, list[dict]] = defaultdict(list)
    for batch in batches:
        for frame in batch:
            by_video[frame["video"]].append(frame)
    for frames in by_video.values():
        frames.sort(key=lambda f: f["frame_index"])
    return by_video


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


def track(cfg: DictConfig) -> dict:
    output_dir = Path(cfg.paths.output_dir)
    module, saved = load_model(cfg.ckpt_path)
    data_cfg = cfg.data if cfg.data is not None else saved["data"]
    datamodule = instantiate(data_cfg)
    datamodule.setup("predict")
    index = datamodule.val_index
    predictions = detect_split(module, datamodule, cfg.accelerator)

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
    for name, tracker_cfg in cfg.trackers.items():
        tracker = instantiate(tracker_cfg)
        if tracker.requires_embeddings and not has_embeddings:
            log.warning("skipping tracker %r: it needs embeddings and this model has none", name)
            continue
        results = {}
        for video in index.videos:
            frames = predictions.get(video.name, [])
            tracks = track_sequence(tracker, [f["detections"] for f in frames])
            rows = frame_tracks_to_mot_rows(tracks, [f["frame_index"] + 1 for f in frames], class_ids)
            write_mot_txt(output_dir / name / f"{video.name}.txt", rows)
            results[video.name] = rows
        tracker_results[name] = evaluate_mot(ground_truth, results, class_aware=cfg.class_aware_eval)
        log.info("%s per sequence:\n%s", name, format_table(tracker_results[name]))

    metrics = {"detection": detection, "trackers": tracker_results}
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    write_run_record(
        output_dir, OmegaConf.to_container(cfg, resolve=True),
        checkpoint={"path": str(cfg.ckpt_path), "sha256": file_sha256(cfg.ckpt_path)},
        training_git=saved.get("git"), datasets=[describe_index(index)],
    )
    print(f"\nDetection (COCO box AP, {index.source} {index.split}): "
          f"AP={100 * detection['AP']:.1f} AP50={100 * detection['AP50']:.1f} AP75={100 * detection['AP75']:.1f}")
    print(summary_table(detection, tracker_results))
    print(f"\nResults and metrics.json in {output_dir}")
    return metrics


@hydra.main(version_base="1.3", config_path="conf", config_name="track")
def main(cfg: DictConfig) -> None:
    track(cfg)


if __name__ == "__main__":
    main()
