"""TimeBudget: a run that would overrun its budget ends at the last step that fits, with
the warmup-cosine schedule it would have had from the start; resumed runs end there too."""
from __future__ import annotations

import lightning as L
import pytest
import torch
from torch import nn

from lightning_modules.common import time_budget
from lightning_modules.common.schedules import shorten_warmup_cosine, warmup_cosine
from lightning_modules.common.time_budget import TimeBudget

WARMUP = 60


class FakeClock:
    """``time.monotonic`` of a machine where every training step takes ``step_s``."""

    def __init__(self, step_s: float) -> None:
        self.now, self.step_s = 1000.0, step_s

    def __call__(self) -> float:
        return self.now


class TinyRegression(L.LightningModule):
    """One linear layer on random data; each step advances the fake clock and records the
    learning rate it used."""

    def __init__(self, clock: FakeClock, cosine_steps: int) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 1)
        self.clock, self.cosine_steps = clock, cosine_steps
        self.lrs: list[float] = []

    def training_step(self, batch, batch_idx):
        self.clock.now += self.clock.step_s
        self.lrs.append(self.trainer.optimizers[0].param_groups[0]["lr"])
        x, y = batch
        return nn.functional.mse_loss(self.layer(x), y)

    def train_dataloader(self):
        data = torch.utils.data.TensorDataset(torch.randn(64, 4), torch.randn(64, 1))
        return torch.utils.data.DataLoader(data, batch_size=8)

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        scheduler = warmup_cosine(optimizer, warmup_steps=WARMUP, cosine_steps=self.cosine_steps)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def fit(tmp_path, clock, max_steps: int, callbacks: list, ckpt_path=None) -> tuple[L.Trainer, TinyRegression]:
    model = TinyRegression(clock, cosine_steps=max_steps - WARMUP)
    trainer = L.Trainer(max_steps=max_steps, callbacks=callbacks, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path, accelerator="cpu")
    trainer.fit(model, ckpt_path=ckpt_path)
    return trainer, model


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock(step_s=0.5)
    monkeypatch.setattr(time_budget, "monotonic", fake)
    return fake


def test_a_run_that_fits_keeps_its_schedule(tmp_path, clock):
    budget = TimeBudget(seconds=200.0)  # 300 steps x 0.5 s = 150 s
    trainer, model = fit(tmp_path, clock, 300, [budget])
    assert trainer.global_step == 300 and budget.decision["max_steps"] == 300
    assert budget.decision["cosine_steps"] is None and budget.decision["seconds_per_step"] == pytest.approx(0.5)
    reference = fit(tmp_path / "ref", FakeClock(0.5), 300, [])[1]
    assert model.lrs == reference.lrs


def test_an_overrunning_run_ends_with_the_schedule_it_would_have_had_from_the_start(tmp_path, clock):
    budget = TimeBudget(seconds=100.0, skip_steps=10, timed_steps=40)  # room for 200 steps of 0.5 s
    trainer, model = fit(tmp_path, clock, 300, [budget])
    assert budget.decision["max_steps"] == 200 and trainer.global_step == 200
    assert budget.decision["cosine_steps"] == 200 - WARMUP
    reference = fit(tmp_path / "ref", FakeClock(0.5), 200, [])[1]
    assert model.lrs == pytest.approx(reference.lrs, rel=1e-12, abs=0)
    assert model.lrs[-1] < 1e-3 * max(model.lrs)  # annealed, not cut off mid-schedule


def test_a_resumed_run_ends_at_the_step_decided_before(tmp_path, clock):
    checkpoint = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=120, save_top_k=-1)
    budget = TimeBudget(seconds=100.0)
    fit(tmp_path, clock, 300, [budget, checkpoint])
    clock.step_s = 0.01  # the resumed job runs on a faster machine: it keeps the decision
    resumed_budget = TimeBudget(seconds=10_000.0)
    trainer, model = fit(tmp_path / "resumed", clock, 300, [resumed_budget],
                         ckpt_path=tmp_path / "ckpt" / "epoch=14-step=120.ckpt")
    assert trainer.global_step == 200 and resumed_budget.decision == budget.decision
    reference = fit(tmp_path / "ref", FakeClock(0.5), 200, [])[1]
    assert model.lrs == pytest.approx(reference.lrs[120:], rel=1e-12, abs=0)


def test_the_decision_must_fall_inside_the_warmup(tmp_path, clock):
    with pytest.raises(ValueError, match="must fall inside the schedule's warmup"):
        fit(tmp_path, clock, 300, [TimeBudget(seconds=100.0, skip_steps=20, timed_steps=WARMUP)])


def test_shortening_refuses_a_schedule_past_its_warmup():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = warmup_cosine(optimizer, warmup_steps=5, cosine_steps=50)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    with pytest.raises(ValueError, match="the cosine part has begun"):
        shorten_warmup_cosine(scheduler, 20)
    with pytest.raises(ValueError, match="not a warmup_cosine schedule: StepLR"):
        shorten_warmup_cosine(torch.optim.lr_scheduler.StepLR(optimizer, 10), 20)


@pytest.mark.parametrize("kwargs", [{"seconds": 0}, {"seconds": 10, "timed_steps": 0}, {"seconds": 10, "skip_steps": 0}])
def test_bad_budgets_are_refused(kwargs):
    with pytest.raises(ValueError):
        TimeBudget(**kwargs)
