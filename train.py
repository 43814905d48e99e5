"""Train a model: ``python train.py experiment=retinatrack`` (``-m`` for sweeps).

Composes conf/train.yaml, instantiates data, model, callbacks, loggers and trainer, fits,
and returns the optimised metric so Hydra sweepers can use it.

Under DDP every process runs this script (Lightning re-runs it for the extra devices of a
node, pinning ``hydra.run.dir`` to the parent's; torchrun / srun start all of them) and
they share one run directory: files, checkpoints and W&B are written by rank zero only.
"""
from __future__ import annotations

import logging
import os
import secrets
import signal
from pathlib import Path

os.environ.setdefault("TRACKZOO_ROOT", str(Path(__file__).resolve().parent))

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from omegaconf import DictConfig, OmegaConf

import lightning_modules.common.precision  # noqa: F401  (registers the ${bf16_if_native:} resolver)
from lightning_modules.common.callbacks import ConfigInCheckpoint, LastCheckpoint
from lightning_modules.common.run_record import describe_index, file_sha256, git_state, write_run_record
from lightning_modules.common.time_budget import TimeBudget

log = logging.getLogger("train")


def launched_as_rank_zero() -> bool:
    """Whether this process will be global rank zero, known before the trainer exists
    (from RANK / LOCAL_RANK / SLURM_PROCID, and NODE_RANK of a multi-node launch)."""
    return rank_zero_only.rank == 0 and os.environ.get("NODE_RANK", "0") == "0"


def wandb_run_id(output_dir: Path) -> str | None:
    """The W&B run id of this run directory, kept in ``wandb_run_id.txt`` (rank zero
    creates it) so that a job resumed in the same directory logs into the same W&B run."""
    path = output_dir / "wandb_run_id.txt"
    if not path.exists() and launched_as_rank_zero():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(6))
    return path.read_text().strip() if path.exists() else None


def build_loggers(cfg: DictConfig) -> list:
    """Instantiate ``cfg.logger``; W&B runs offline unless WANDB_API_KEY is set, continues
    the run directory's W&B run, and the jobs of one multirun share a W&B group named after
    the multirun directory."""
    loggers = []
    for name, logger_cfg in (cfg.get("logger") or {}).items():
        if logger_cfg is None:  # `logger.<name>=null` switches one off
            continue
        if name == "wandb":
            logger_cfg = OmegaConf.merge(logger_cfg, {
                "offline": "WANDB_API_KEY" not in os.environ,
                "id": wandb_run_id(Path(cfg.paths.output_dir)),
            })
            hydra_cfg = HydraConfig.get() if HydraConfig.initialized() else None
            if hydra_cfg is not None and hydra_cfg.mode == RunMode.MULTIRUN:
                logger_cfg.group = Path(hydra_cfg.sweep.dir).name
        loggers.append(instantiate(logger_cfg))
    return loggers


def build_callbacks(cfg: DictConfig) -> list:
    """The callbacks of ``cfg.callbacks``; ``callbacks.<name>=null`` switches one off."""
    return [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]


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


def check_one_run_directory(cfg: DictConfig) -> None:
    """Processes started by an outside launcher (torchrun, srun, one command per node)
    compose their Hydra run directory each; its default holds the start time, which may
    differ between them, so such runs must pin ``hydra.run.dir``."""
    if not HydraConfig.initialized() or HydraConfig.get().mode == RunMode.MULTIRUN:
        return
    several = (int(os.environ.get("WORLD_SIZE", 1)) > 1 or int(os.environ.get("SLURM_NTASKS", 1)) > 1
               or int(cfg.trainer.get("num_nodes", 1)) > 1)
    pinned = any(o.startswith("hydra.run.dir=") for o in HydraConfig.get().overrides.hydra)
    if several and not pinned:
        raise ValueError(
            "this run has several processes; give them one run directory with hydra.run.dir=<dir> "
            "(e.g. hydra.run.dir=logs/train/runs/$SLURM_JOB_ID)"
        )


def check_launch(trainer: L.Trainer) -> None:
    """Lightning starts a node's extra DDP processes by re-running the command line; inside
    a Hydra multirun that command is the whole sweep."""
    multirun = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    if multirun and isinstance(trainer.strategy.launcher, _SubprocessScriptLauncher):
        raise ValueError(
            "a multirun cannot start DDP processes itself (each would rerun the sweep): sweep with "
            "a launcher that starts every job's processes (hydra/launcher=slurm), or one device"
        )


def start_checkpoint(cfg: DictConfig, trainer: L.Trainer) -> str | None:
    """The checkpoint fit() starts from: with ``resume=auto`` the run directory's
    ``last.ckpt`` when it exists, otherwise ``ckpt_path`` (None: from scratch)."""
    resume = cfg.get("resume")
    if resume not in (None, "auto"):
        raise ValueError(f"resume must be null or auto, got {resume!r}")
    if resume == "auto":
        last = [cb.path for cb in trainer.checkpoint_callbacks if isinstance(cb, LastCheckpoint)]
        if not last:
            raise ValueError("resume=auto needs the last_checkpoint callback (conf/callbacks/default.yaml)")
        if last[0].exists():
            log.info("resume=auto: continuing from %s", last[0])
            return str(last[0])
        log.info("resume=auto: no %s yet, starting from %s", last[0], cfg.get("ckpt_path") or "scratch")
    return cfg.get("ckpt_path")


def saved_checkpoints(trainer: L.Trainer) -> dict:
    """Path and SHA-256 of the best and the last checkpoint."""
    checkpoints = {}
    for callback in trainer.checkpoint_callbacks:
        if isinstance(callback, ModelCheckpoint):
            for kind, path in (("best", callback.best_model_path), ("last", callback.last_model_path)):
                if path and Path(path).exists():
                    checkpoints[kind] = {"path": str(path), "sha256": file_sha256(path)}
    return checkpoints


def finish_wandb(loggers: list) -> None:
    """Close the W&B run even when training failed, so the next multirun job starts clean."""
    if any(type(lg).__name__ == "WandbLogger" for lg in loggers):
        import wandb

        if wandb.run is not None:
            wandb.finish()


def train(cfg: DictConfig) -> float | None:
    check_one_run_directory(cfg)
    budget = TimeBudget(cfg.time_budget_s) if cfg.get("time_budget_s") is not None else None
    L.seed_everything(cfg.seed, workers=True)
    output_dir = Path(cfg.paths.output_dir)
    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model.module)
    if cfg.get("init_from"):
        load_initial_weights(model, cfg.init_from)
    config = OmegaConf.to_container(cfg, resolve=True)
    callbacks = build_callbacks(cfg)
    callbacks.append(ConfigInCheckpoint(config["model"], config["data"], git_state()))
    if budget is not None:
        callbacks.append(budget)
    loggers = build_loggers(cfg)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    check_launch(trainer)
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=start_checkpoint(cfg, trainer))
    except SIGTERMException:
        log.warning("stopped by SIGTERM after step %d (saved in last.ckpt); restart with resume=auto",
                    trainer.global_step)
        raise SystemExit(128 + signal.SIGTERM)
    finally:
        finish_wandb(loggers)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    if trainer.is_global_zero:
        write_run_record(
            output_dir, config, metrics=metrics, checkpoints=saved_checkpoints(trainer),
            datasets=[describe_index(i) for i in datamodule.train_indices]
            + ([describe_index(datamodule.val_index)] if datamodule.val_index else []),
            **({"time_budget": budget.decision} if budget is not None else {}),
        )
        log.info("metrics: %s", metrics)
    return metrics.get(cfg.get("optimized_metric"))


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return train(cfg)


if __name__ == "__main__":
    main()
