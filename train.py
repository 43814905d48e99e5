"""Train a model: ``python train.py experiment=retinatrack`` (``-m`` for sweeps).

Composes conf/train.yaml, instantiates data, model, callbacks, loggers and trainer, fits,
and returns the optimised metric so Hydra sweepers can use it.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

os.environ.setdefault("TRACKZOO_ROOT", str(Path(__file__).resolve().parent))

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lightning_modules.common.callbacks import ConfigInCheckpoint
from lightning_modules.common.run_record import describe_index, file_sha256, git_state, write_run_record

log = logging.getLogger("train")


def build_loggers(cfg: DictConfig) -> list:
    """Instantiate ``cfg.logger``; W&B runs offline unless WANDB_API_KEY is set, and the
    jobs of one multirun share a W&B group named after the multirun directory."""
    loggers = []
    for name, logger_cfg in (cfg.get("logger") or {}).items():
        if name == "wandb":
            logger_cfg = OmegaConf.merge(logger_cfg, {"offline": "WANDB_API_KEY" not in os.environ})
            hydra_cfg = HydraConfig.get() if HydraConfig.initialized() else None
            if hydra_cfg is not None and hydra_cfg.mode == RunMode.MULTIRUN:
                logger_cfg.group = Path(hydra_cfg.sweep.dir).name
        loggers.append(instantiate(logger_cfg))
    return loggers


def load_initial_weights(model: L.LightningModule, path: str) -> dict[str, list[str]]:
    """Copy parameters of matching name and shape from a checkpoint into ``model``;
    returns (and logs) what was loaded, skipped for shape, and missing."""
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    own = model.state_dict()
    loaded = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    report = {
        "loaded": sorted(loaded),
        "shape_mismatch": sorted(k for k in state if k in own and k not in loaded),
        "missing": sorted(k for k in own if k not in state),
    }
    model.load_state_dict(loaded, strict=False)
    log.info("init_from %s: %d tensors loaded, %d shape mismatches, %d missing (kept initialised): %s",
             path, len(report["loaded"]), len(report["shape_mismatch"]), len(report["missing"]),
             report["shape_mismatch"] + report["missing"])
    return report


def finish_wandb(loggers: list) -> None:
    """Close the W&B run even when training failed, so the next multirun job starts clean."""
    if any(type(lg).__name__ == "WandbLogger" for lg in loggers):
        import wandb

        if wandb.run is not None:
            wandb.finish()


def train(cfg: DictConfig) -> float | None:
    L.seed_everything(cfg.seed, workers=True)
    output_dir = Path(cfg.paths.output_dir)
    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model.module)
    if cfg.get("init_from"):
        load_initial_weights(model, cfg.init_from)
    config = OmegaConf.to_container(cfg, resolve=True)
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    callbacks.append(ConfigInCheckpoint(config["model"], config["data"], git_state()))
    loggers = build_loggers(cfg)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    finally:
        finish_wandb(loggers)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    checkpoints = {}
    checkpoint_cb = trainer.checkpoint_callback
    if trainer.is_global_zero and checkpoint_cb is not None:
        for kind, path in (("best", checkpoint_cb.best_model_path), ("last", checkpoint_cb.last_model_path)):
            if path and Path(path).exists():
                checkpoints[kind] = {"path": str(path), "sha256": file_sha256(path)}
    if trainer.is_global_zero:
        write_run_record(
            output_dir, config, metrics=metrics, checkpoints=checkpoints,
            datasets=[describe_index(i) for i in datamodule.train_indices]
            + ([describe_index(datamodule.val_index)] if datamodule.val_index else []),
        )
        log.info("metrics: %s", metrics)
    return metrics.get(cfg.get("optimized_metric"))


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return train(cfg)


if __name__ == "__main__":
    main()
