"""Learning-rate schedules, built from torch's own schedulers (stepped every optimizer step)."""
from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, LRScheduler, SequentialLR


def warmup_cosine(
    optimizer: Optimizer, warmup_steps: int = 1000, cosine_steps: int = 9000,
    warmup_start_factor: float = 0.001, min_lr: float = 0.0,
) -> LRScheduler:
    """Linear warmup from ``warmup_start_factor * base_lr`` to ``base_lr`` over
    ``warmup_steps``, then cosine annealing to ``min_lr`` over ``cosine_steps``
    (RetinaTrack: 1000 + 9000 steps, base LR 1e-3)."""
    warmup = LinearLR(optimizer, start_factor=warmup_start_factor, total_iters=max(warmup_steps, 1))
    cosine = CosineAnnealingLR(optimizer, T_max=max(cosine_steps, 1), eta_min=min_lr)
    return SequentialLR(optimizer, [warmup, cosine], milestones=[max(warmup_steps, 1)])



def warmup_steps_of(scheduler: object) -> int:
    """The warmup length of a schedule :func:`warmup_cosine` built; any other is refused."""
    parts = getattr(scheduler, "_schedulers", None)
    if not (isinstance(scheduler, SequentialLR) and len(parts) == 2 and isinstance(parts[0], LinearLR)
            and isinstance(parts[1], CosineAnnealingLR)):
        raise ValueError(f"not a warmup_cosine schedule: {type(scheduler).__name__}")
    return scheduler._milestones[0]


def shorten_warmup_cosine(scheduler: LRScheduler, total_steps: int) -> int:
    """Make a :func:`warmup_cosine` schedule end at ``total_steps``: its cosine part then
    lasts ``total_steps - warmup_steps`` (at least 1). Allowed only during the warmup, where
    the result is the schedule ``cosine_steps = total_steps - warmup_steps`` would have
    built from the start. Returns the new cosine length."""
    warmup_steps = warmup_steps_of(scheduler)
    if scheduler.last_epoch >= warmup_steps:
        raise ValueError(f"the cosine part has begun (step {scheduler.last_epoch}, warmup {warmup_steps} steps)")
    cosine = scheduler._schedulers[1]
    cosine.T_max = max(total_steps - warmup_steps, 1)
    return cosine.T_max
