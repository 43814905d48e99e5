"""``resume=auto``: a job stopped mid-epoch and restarted with the same command in the
same run directory ends with the weights of a run that was never stopped."""
from __future__ import annotations

import torch
from hydra.utils import instantiate

from conftest import compose_train
from datamodules.resumable import ResumableDataLoader
from launching import STEPS_PER_EPOCH, callback_args, finish, start_train, tiny_run_args
from probes import SignalAtStep
from train import train

MAX_STEPS, EVERY = STEPS_PER_EPOCH + 4, 3  # crosses an epoch end (and its validation)


def job_args(data_dir, *extra: str) -> list[str]:
    """The job's configuration: the loss samples 2 of the triplets of identity anchors
    (IoU >= 0.5) of every step, so each step draws at random."""
    sampled_triplets = ["model.module.net.loss.id_iou=0.5", "model.module.net.loss.num_triplets=2"]
    return tiny_run_args(data_dir, f"trainer.max_steps={MAX_STEPS}", *sampled_triplets,
                         f"callbacks.last_checkpoint.every_n_train_steps={EVERY}", "resume=auto", *extra)


def start_job(data_dir, run_dir, *extra: str):
    """The job's command (every restart repeats it), plus ``extra`` test-only arguments."""
    return start_train(*job_args(data_dir, f"hydra.run.dir={run_dir}", "logger=wandb", *extra))


def last_checkpoint(run_dir) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)


def test_the_train_loader_is_resumable(data_dir):
    datamodule = instantiate(compose_train(tiny_run_args(data_dir)).data)
    datamodule.setup("fit")
    assert isinstance(datamodule.train_dataloader(), ResumableDataLoader), (
        "TrackingDataModule.train_dataloader must build a datamodules.resumable.ResumableDataLoader"
    )


def test_stopped_job_resumes_to_the_uninterrupted_weights(data_dir, tmp_path):
    reference, job = tmp_path / "reference", tmp_path / "job"
    # SIGTERM during step 5: Lightning finishes the step, last.ckpt holds it, exit 128 + 15
    first = start_job(data_dir, job, *callback_args("stop", SignalAtStep, step=4, name="SIGTERM"))
    train(compose_train(job_args(data_dir, f"paths.output_dir={reference}")))  # meanwhile, in this process
    finish(first, 143)
    assert last_checkpoint(job)["global_step"] == 5
    # SIGKILL after step 10 (epoch 1): step 10 is lost, last.ckpt is step 9's periodic one
    finish(start_job(data_dir, job, *callback_args("stop", SignalAtStep, step=10, name="SIGKILL")), -9)
    assert last_checkpoint(job)["global_step"] == 9
    finish(start_job(data_dir, job))

    resumed, expected = last_checkpoint(job), last_checkpoint(reference)
    assert resumed["global_step"] == expected["global_step"] == MAX_STEPS
    assert resumed["lr_schedulers"] == expected["lr_schedulers"]
    assert resumed["state_dict"].keys() == expected["state_dict"].keys()
    for name, value in expected["state_dict"].items():
        assert torch.allclose(resumed["state_dict"][name].float(), value.float(), atol=1e-6), name
    # one W&B run, continued by every restart
    run_id = (job / "wandb_run_id.txt").read_text()
    assert sorted(p.name.rsplit("-", 1)[1] for p in (job / "wandb").glob("offline-run-*")) == [run_id] * 3

