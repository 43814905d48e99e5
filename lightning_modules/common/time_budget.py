"""Fit a training run into a wall-clock budget by shortening its schedule, not cutting it.

Lightning's ``max_time`` stops a run mid-schedule (the learning rate never anneals).
:class:`TimeBudget` instead times the first training steps, and when the configured
``max_steps`` would not fit in the budget it ends the run at the last step that does and
shortens the cosine part of the :func:`~lightning_modules.common.schedules.warmup_cosine`
schedule to match. The decision falls inside the warmup, so the run is exactly the one
``trainer.max_steps=N`` with ``cosine_steps=N - warmup_steps`` gives from the start (the
callback logs both, and keeps them in checkpoints so a resumed run ends at the same step).
On a machine fast enough for the configured schedule nothing changes.
"""
from __future__ import annotations

import logging
from time import monotonic

import lightning as L

from lightning_modules.common.schedules import shorten_warmup_cosine, warmup_steps_of

log = logging.getLogger(__name__)

__all__ = ["TimeBudget"]


class TimeBudget(L.Callback):
    """Ends training at the last step that fits ``seconds`` of wall-clock time.

    Args:
        seconds: time for the whole fit, counted from this callback's creation (so set-up
            before ``fit`` counts too); validation and checkpoint writing are not timed
            ahead, leave them room.
        skip_steps: first steps of this process left untimed (allocations, caches; at
            least 1: timing starts at the end of a step).
        timed_steps: steps timed after those; the decision is made at step
            ``skip_steps + timed_steps``, which must fall inside the warmup.
    """

    def __init__(self, seconds: float, skip_steps: int = 10, timed_steps: int = 40) -> None:
        if seconds <= 0:
            raise ValueError(f"time budget must be positive, got {seconds} s")
        if skip_steps < 1 or timed_steps < 1:  # timing starts at the end of a step
            raise ValueError(f"need skip_steps >= 1 and timed_steps >= 1, got {skip_steps}, {timed_steps}")
        self.seconds = float(seconds)
        self.deadline = monotonic() + self.seconds
        self.skip_steps, self.timed_steps = skip_steps, timed_steps
        self.decision: dict | None = None  # max_steps, cosine_steps, seconds_per_step
        self._timing: tuple[int, float] | None = None  # (global step, time) where timing began
        self._decide_at: int | None = None

    def state_dict(self) -> dict:
        return {"decision": self.decision}

    def load_state_dict(self, state_dict: dict) -> None:
        self.decision = state_dict["decision"]

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.decision is not None:  # resumed: end where the interrupted run would have
            trainer.fit_loop.epoch_loop.max_steps = self.decision["max_steps"]
            return
        self._decide_at = trainer.global_step + self.skip_steps + self.timed_steps
        scheduler = _scheduler(trainer)
        if scheduler is not None and warmup_steps_of(scheduler) <= self._decide_at:
            raise ValueError(f"TimeBudget decides at step {self._decide_at}, which must fall inside the "
                             f"schedule's warmup ({warmup_steps_of(scheduler)} steps)")

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int) -> None:
        if self.decision is not None or self._decide_at is None:
            return
        step, now = trainer.global_step, monotonic()
        if step == self._decide_at - self.timed_steps:
            self._timing = (step, now)
        if step < self._decide_at or self._timing is None:
            return
        seconds_per_step = (now - self._timing[1]) / (step - self._timing[0])
        fits = step + int(max(self.deadline - now, 0.0) / seconds_per_step)
        decision = {"max_steps": min(fits, trainer.max_steps), "cosine_steps": None,
                    "seconds_per_step": seconds_per_step, "budget_s": self.seconds}
        decision = trainer.strategy.broadcast(decision, src=0)  # every rank stops at rank 0's step
        if decision["max_steps"] < trainer.max_steps:
            scheduler = _scheduler(trainer)
            if scheduler is not None:
                decision["cosine_steps"] = shorten_warmup_cosine(scheduler, decision["max_steps"])
            log.warning(
                "time budget %.0f s at %.3f s per step: %d of the configured %d steps fit; training ends there%s, "
                "as trainer.max_steps=%d would from the start (lower metrics than the full schedule)",
                self.seconds, seconds_per_step, decision["max_steps"], trainer.max_steps,
                "" if decision["cosine_steps"] is None else f", the cosine part {decision['cosine_steps']} steps long",
                decision["max_steps"],
            )
            trainer.fit_loop.epoch_loop.max_steps = decision["max_steps"]
        else:
            log.info("time budget %.0f s at %.3f s per step: the configured %d steps fit",
                     self.seconds, seconds_per_step, trainer.max_steps)
        self.decision = decision


def _scheduler(trainer: L.Trainer):
    """The run's only LR scheduler, or None; several are refused."""
    configs = trainer.lr_scheduler_configs
    if len(configs) > 1:
        raise ValueError(f"TimeBudget supports one LR scheduler, the run has {len(configs)}")
    return configs[0].scheduler if configs else None
