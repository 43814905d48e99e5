"""Sweeps as users run them: a grid multirun and its comparison table and plot, Optuna
searches (training and tracker), the SLURM launcher config, and track.py over two
processes giving the numbers of one."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from conftest import CONF, TINY_WORLD, run_cli, tiny_overrides
from eval.__main__ import main as eval_main
from eval.compare import collect_jobs

# Three validation videos, so two tracking ranks both get videos.
WORLD = {"train": 2, "val": 3}
FRAMES_PER_VIDEO = 10
# A model small enough that a job takes about a second on one CPU thread.
TINY_MODEL = [
    "model.channels=16", "model.embedding_dim=8", "model.backbone.widths=[8,8,16,16]",
    "model.backbone.out_channels=16", "data.image_size=[64,64]",
]


@pytest.fixture(scope="module", autouse=True)
def one_thread_per_process():
    """One intra-op thread: faster on a shared 2-core machine, and the 1- and 2-process
    track runs compute with the same thread count."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        yield


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory) -> Path:
    from datamodules.synthetic import SyntheticWorldConfig, ensure_world

    root = tmp_path_factory.mktemp("sweep_data")
    ensure_world(SyntheticWorldConfig(num_videos=WORLD, frames_per_video=FRAMES_PER_VIDEO), root / "synthetic",
                 progress=False)
    return root


def sweep_args(world_dir: Path, sweep_dir: Path, *extra: str) -> list[str]:
    """Two training steps (one epoch, so validation runs) of a tiny model on the world."""
    return [
        "experiment=retinatrack", *(o for o in tiny_overrides(world_dir) if o not in TINY_WORLD),
        f"data.train_sources.synthetic.world.num_videos={{train: {WORLD['train']}, val: {WORLD['val']}}}",
        f"data.train_sources.synthetic.world.frames_per_video={FRAMES_PER_VIDEO}", *TINY_MODEL,
        "trainer.max_steps=2", "data.batches_per_epoch=2", f"hydra.sweep.dir={sweep_dir}", *extra,
    ]


def hparams_search(name: str, config_name: str) -> str:
    """``hparams_search=<name>``, appended (``+``) where the config has no such default."""
    defaults = yaml.safe_load((CONF / f"{config_name}.yaml").read_text())["defaults"]
    listed = any(isinstance(d, dict) and "hparams_search" in d for d in defaults)
    return f"{'' if listed else '+'}hparams_search={name}"


@pytest.fixture(scope="module")
def grid(world_dir, tmp_path_factory) -> Path:
    """A 2 x 2 grid over the RetinaTrack head (every candidate decoded, so the checkpoints
    give detections to track)."""
    sweep_dir = tmp_path_factory.mktemp("grid") / "multirun"
    run_cli("train.py", "-m", *sweep_args(world_dir, sweep_dir, "model.m1=1,2", "model.m2=1,2",
                                          "model.module.net.inference.score_threshold=0.0"))
    return sweep_dir


def test_grid_comparison_has_a_row_per_job_and_a_plot(grid, tmp_path):
    table = eval_main(["compare", str(grid), "--out", str(tmp_path)])
    assert table["metric"] == "val/AP50"  # the jobs' optimized_metric
    assert table["header"][:5] == ["job", "status", "model.m1", "model.m2", "val/AP50"]
    assert sorted((row[2], row[3]) for row in table["rows"]) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert all(row[1] == "ok" and isinstance(row[4], float) for row in table["rows"])
    markdown = (tmp_path / "comparison.md").read_text().splitlines()
    assert len(markdown) == 2 + 4 and markdown[0].startswith("| job | status | model.m1 | model.m2 | val/AP50 |")
    with open(tmp_path / "comparison.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 4
    png = (tmp_path / "comparison_val_AP50.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_optuna_sweep_records_every_trial(world_dir, tmp_path):
    sweep_dir = tmp_path / "optuna"
    run_cli("train.py", hparams_search("retinatrack_optuna", "train"),
            *sweep_args(world_dir, sweep_dir, "hydra.sweeper.n_trials=3"))
    jobs = collect_jobs(sweep_dir)
    assert [job.name for job in jobs] == ["0", "1", "2"]
    assert all(job.status == "ok" and "val/AP50" in job.metrics for job in jobs)
    searched = {"model.optimizer.lr", "model.m1", "model.m2", "model.m3", "model.triplet_weight"}
    assert all(searched <= set(job.overrides) for job in jobs)
    assert len({job.overrides["model.optimizer.lr"] for job in jobs}) == 3  # one sampled point per trial
    result = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert set(result["best_params"]) == searched
    assert result["best_value"] == max(job.metrics["val/AP50"] for job in jobs)  # the value train.py returned


def test_slurm_launcher_config_renders_an_sbatch_script(tmp_path, monkeypatch):
    """The config composes and the plugin turns it into sbatch options (up to submission:
    there is no SLURM here; fake ``srun`` so submitit builds its executor)."""
    import submitit

    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "srun").write_text("#!/bin/sh\n")
    (fake_bin / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="train", return_hydra_config=True, overrides=[
            "hydra/launcher=slurm", "hydra.launcher.partition=gpu", f"hydra.sweep.dir={tmp_path / 'sweep'}",
        ])
    launcher_cfg = cfg.hydra.launcher
    assert launcher_cfg._target_.endswith("SlurmLauncher")
    assert launcher_cfg.tasks_per_node == launcher_cfg.gpus_per_node  # one DDP process per GPU

    class Submitted(Exception):
        pass

    def capture(executor, *args):
        scripts.append(executor._executor._make_submission_file_text("python train.py", "uid"))
        raise Submitted

    scripts: list[str] = []
    monkeypatch.setattr(submitit.AutoExecutor, "map_array", capture)
    launcher = instantiate(launcher_cfg)
    launcher.setup(hydra_context=None, task_function=None, config=cfg)
    with pytest.raises(Submitted):
        launcher.launch([["model.m1=1"], ["model.m1=2"]], initial_job_idx=0)
    for option in ("--partition=gpu", "--gpus-per-node=8", "--ntasks-per-node=8", "--nodes=1", "--mem=256GB",
                   "--time=1440", "--cpus-per-task=8"):
        assert f"#SBATCH {option}\n" in scripts[0]


def test_track_on_two_processes_equals_one(grid, tmp_path):
    common = [
        f"ckpt_path={grid / '0' / 'checkpoints' / 'last.ckpt'}", "accelerator=cpu",
        "trackers.retinatrack.score_threshold=0.0", "trackers.iou.min_score=0.0",  # track every detection
    ]
    one, two = tmp_path / "one", tmp_path / "two"
    run_cli("track.py", *common, f"hydra.run.dir={one}", f"paths.cache_dir={tmp_path / 'cache_one'}")
    proc = run_cli("track.py", *common, "devices=2", "strategy=ddp", f"hydra.run.dir={two}",
                   f"paths.cache_dir={tmp_path / 'cache_two'}")
    assert "Starting with 2 processes" in proc.stdout + proc.stderr
    assert "detections cached in" in (two / "track.log").read_text()
    assert (two / "metrics.json").read_text() == (one / "metrics.json").read_text()
    for tracker in ("retinatrack", "iou"):
        files = sorted(p.name for p in (one / tracker).glob("*.txt"))
        assert len(files) == WORLD["val"]
        assert all((two / tracker / name).read_text() == (one / tracker / name).read_text() for name in files)
    assert json.loads((one / "metrics.json").read_text())["trackers"]["iou"]["combined"]["GT"] > 0


def test_tracker_optuna_sweep_reads_cached_detections(grid, tmp_path):
    sweep_dir = tmp_path / "tracker_optuna"
    run_cli("track.py", hparams_search("tracker_optuna", "track"), "hydra.sweeper.n_trials=3",
            f"ckpt_path={grid / '1' / 'checkpoints' / 'last.ckpt'}", "accelerator=cpu",
            f"paths.cache_dir={tmp_path / 'cache'}", f"hydra.sweep.dir={sweep_dir}")
    jobs = collect_jobs(sweep_dir)
    assert len(jobs) == 3 and all(job.status == "ok" for job in jobs)
    assert "detections from the cache" in (sweep_dir / "2" / "track.log").read_text()  # only trial 0 detected
    result = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert result["best_value"] == max(job.metrics["retinatrack/HOTA"] for job in jobs)
