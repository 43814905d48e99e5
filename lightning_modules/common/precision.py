"""Training precision chosen by what the hardware computes natively.

bf16 autocast pays off only where bf16 arithmetic is native: GPUs from Ampere on, and CPUs
with AVX512-BF16 or AMX (there the demo model steps 1.5x faster than in fp32). Elsewhere
it is emulated: on a 2-core AVX2 CPU the demo model took ~4.5 s per bf16 step against
~0.4 s in fp32. Configs ask for ``${bf16_if_native:<accelerator>}`` to get ``bf16-mixed``
where it is native and ``32-true`` otherwise; the resolved value is what the run record
keeps.
"""
from __future__ import annotations

import torch
from omegaconf import OmegaConf

__all__ = ["bf16_if_native", "native_bf16"]


def native_bf16(accelerator: str) -> bool:
    """Whether ``accelerator`` (a Lightning accelerator name: ``cpu``, ``gpu``, ``cuda``,
    ``auto``) computes bf16 natively on this machine; ``auto`` means the GPU when CUDA is
    available, else the CPU."""
    if accelerator == "auto":
        accelerator = "gpu" if torch.cuda.is_available() else "cpu"
    if accelerator in ("gpu", "cuda"):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    if accelerator == "cpu":
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    raise ValueError(f"bf16_if_native: unknown accelerator {accelerator!r} (cpu, gpu, cuda or auto)")


def bf16_if_native(accelerator: str) -> str:
    """Lightning ``precision``: ``bf16-mixed`` where :func:`native_bf16`, else ``32-true``."""
    return "bf16-mixed" if native_bf16(accelerator) else "32-true"


OmegaConf.register_new_resolver("bf16_if_native", bf16_if_native, replace=True)
