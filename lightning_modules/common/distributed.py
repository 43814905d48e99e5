"""Collectives for evaluation under DDP (no-ops in a single process)."""
from __future__ import annotations

import torch.distributed as dist


def gather_dicts(local: dict) -> dict:
    """The union of every rank's ``local`` dict, on every rank.

    Keys may repeat across ranks with equal values (a DistributedSampler pads a rank's
    shard with repeated samples), so the union holds each key once.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return local
    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, local)
    merged: dict = {}
    for part in parts:
        merged.update(part)
    return merged
