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
