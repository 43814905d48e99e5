"""DDP under Hydra on CPU: one run directory per job, ranks that end with equal
parameters, evaluation on every rank's detections, and a two-node launch."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import torch

from conftest import compose_train, run_cli
from launching import callback_args, finish, start_train, tiny_run_args
from probes import RankReport, parameter_digest
from train import check_one_run_directory

VAL_FRAMES = 10  # the tiny world's one validation video


def rank_reports(out_dir: Path, world_size: int) -> list[dict]:
    return [json.loads((out_dir / f"rank{rank}.json").read_text()) for rank in range(world_size)]


def test_ddp_sim_trains_in_one_run_directory(data_dir, tmp_path):
    logs, reports = tmp_path / "logs", tmp_path / "reports"
    # 8 batches per epoch over 2 ranks: step 4 ends the epoch and validates
    run_cli("train.py", *tiny_run_args(data_dir), "trainer=ddp_sim", "trainer.max_steps=4", "logger=wandb",
            f"paths.log_dir={logs}", *callback_args("report", RankReport, out_dir=reports))
    runs = list((logs / "train" / "runs").iterdir())
    assert len(runs) == 1  # the child process wrote into the parent's run directory
    run = runs[0]
    ranks = rank_reports(reports, 2)
    assert [r["world_size"] for r in ranks] == [2, 2] and ranks[0]["pid"] != ranks[1]["pid"]
    assert ranks[0]["params"] == ranks[1]["params"]
    for report in ranks:  # each rank detected a shard; the metrics saw every frame
        assert report["val_frames"]["local"] < VAL_FRAMES == report["val_frames"]["gathered"]
    # rank zero's files: one checkpoint directory holding the parameters both ranks ended with
    state = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    assert parameter_digest((name, state[name]) for name in ranks[0]["param_names"]) == ranks[0]["params"]
    assert json.loads((run / "run_record.json").read_text())["metrics"]["val/AP50"] >= 0.0
    wandb_runs = list((run / "wandb").glob("offline-run-*"))
    assert len(wandb_runs) == 1 and wandb_runs[0].name.endswith((run / "wandb_run_id.txt").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_nodes_of_one_process_each(data_dir, tmp_path):
    """A multi-node launch of ``trainer=ddp`` (on CPU: gloo), on one machine: the same
    command on every node with its NODE_RANK, the address of node 0, and a run directory
    on shared storage."""
    run, reports = tmp_path / "run", tmp_path / "reports"
    cpu = ["trainer.accelerator=cpu", "trainer.precision=32-true", "trainer.sync_batchnorm=false"]
    args = [*tiny_run_args(data_dir), "trainer=ddp", *cpu, "trainer.num_nodes=2", "trainer.devices=1",
            "trainer.max_steps=2", f"hydra.run.dir={run}", *callback_args("report", RankReport, out_dir=reports)]
    rendezvous = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
    nodes = [start_train(*args, env={**rendezvous, "NODE_RANK": str(rank)}) for rank in (0, 1)]
    for node in nodes:
        finish(node)
    ranks = rank_reports(reports, 2)
    assert [r["world_size"] for r in ranks] == [2, 2] and ranks[0]["params"] == ranks[1]["params"]
    assert (run / "checkpoints" / "last.ckpt").exists()


def test_several_processes_need_a_pinned_run_directory(monkeypatch):
    cfg = compose_train(["trainer=ddp_sim"])
    check_one_run_directory(cfg)  # Lightning pins the directory of the processes it starts
    monkeypatch.setenv("WORLD_SIZE", "4")  # started by torchrun
    with pytest.raises(ValueError, match="hydra.run.dir"):
        check_one_run_directory(cfg)
    cfg = compose_train(["trainer=ddp", "hydra.run.dir=/tmp/pinned"])
    check_one_run_directory(cfg)


def test_ddp_ranks_end_at_the_time_budgets_step(data_dir, tmp_path):
    """A budget that has run out before training starts: rank zero's decision (the timed
    step, 50) ends training on both ranks, with the cosine part shortened to its minimum."""
    run, reports = tmp_path / "run", tmp_path / "reports"
    run_cli("train.py", *tiny_run_args(data_dir), "trainer=ddp_sim", "trainer.max_steps=80", "time_budget_s=1",
            "model.module.scheduler.warmup_steps=60", "model.module.scheduler.cosine_steps=20",
            "data.batches_per_epoch=1000", f"hydra.run.dir={run}", *callback_args("report", RankReport, out_dir=reports))
    ranks = rank_reports(reports, 2)
    assert [r["world_size"] for r in ranks] == [2, 2] and ranks[0]["params"] == ranks[1]["params"]
    decision = json.loads((run / "run_record.json").read_text())["time_budget"]
    assert decision["max_steps"] == 50 and decision["cosine_steps"] == 1
    assert torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["global_step"] == 50
