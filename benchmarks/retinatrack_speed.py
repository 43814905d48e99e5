"""Training throughput and inference latency: RetinaTrack vs torchvision's RetinaNet.

RetinaTrack is built from a Hydra experiment (default: the CPU demo experiment);
torchvision's RetinaNet gets the same backbone config, the same anchors (K per
location) and the same input size, and is told not to resize. Writes JSON:

    python benchmarks/retinatrack_speed.py [--experiment retinatrack] [--size 128]
        [--batch 8] [--steps 20] [--frames 50] [--device cpu|cuda]
        [--precisions 32 bf16] [--out FILE]
        [override ...]      # e.g. model/backbone=resnet50 model.channels=256

Figures: training images/s (forward + losses + backward + SGD step), inference ms/frame
at batch 1 (forward + decoding + NMS; for RetinaTrack also with each test-time
augmentation of ``track.py test_time_augment``), parameter counts, and peak memory (CUDA: max
allocated; CPU: peak resident set size of the process, which covers both models), once
per precision: ``32`` (fp32) and ``bf16`` (autocast, as ``trainer.precision=bf16-mixed``;
the demo experiment trains in bf16 on CPU).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from torchvision.models.detection import RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator

from lightning_modules.common.precision import native_bf16
from lightning_modules.common.test_time_augmentation import VIEWS, augmented_outputs
from lightning_modules.retinatrack.network import IMAGENET_MEAN, IMAGENET_STD

REPO = Path(__file__).resolve().parents[1]
NUM_CLASSES = 3


def cpu_model_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def compose_model(experiment: str, overrides: list[str]):
    os.environ.setdefault("TRACKZOO_ROOT", str(REPO))
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={experiment}", *overrides])
    return cfg.model


def fake_batch(batch: int, size: int, device: str):
    torch.manual_seed(0)
    images = torch.rand(batch, 3, size, size, device=device)
    targets = []
    for _ in range(batch):
        xy = torch.rand(4, 2, device=device) * size * 0.6
        wh = 12 + torch.rand(4, 2, device=device) * size * 0.3
        targets.append({
            "boxes": torch.cat([xy, xy + wh], 1).clamp(max=size - 1),
            "labels": torch.randint(0, NUM_CLASSES, (4,), device=device),
            "track_ids": torch.arange(4, device=device),
        })
    return images, targets


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def seconds_per_call(fn, calls: int, device: str, warmup: int = 3) -> float:
    """Mean wall-clock seconds of ``fn()`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    sync(device)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    sync(device)
    return (time.perf_counter() - start) / calls


def autocast(precision: str, device: str):
    """The autocast context of a precision name: ``32`` (none) or ``bf16``."""
    if precision == "32":
        return nullcontext()
    if precision == "bf16":
        return torch.autocast(device, dtype=torch.bfloat16)
    raise ValueError(f"unknown precision {precision!r} (expected 32 or bf16)")


def benchmark(args) -> dict:
    device = args.device
    images, targets = fake_batch(args.batch, args.size, device)
    clip_ids = torch.arange(args.batch, device=device) // 2

    model_cfg = compose_model(args.experiment, args.overrides)
    retinatrack = instantiate(model_cfg.module.net, num_classes=NUM_CLASSES).to(device)
    anchors = retinatrack.anchor_generator
    retinanet = RetinaNet(
        instantiate(model_cfg.backbone).body, num_classes=NUM_CLASSES,
        anchor_generator=AnchorGenerator(anchors.sizes, anchors.aspect_ratios),
        min_size=args.size, max_size=args.size, image_mean=list(IMAGENET_MEAN), image_std=list(IMAGENET_STD),
    ).to(device)

    def rt_step(opt=torch.optim.SGD(retinatrack.parameters(), lr=1e-4, momentum=0.9)):
        loss = retinatrack.losses(retinatrack(images), targets, clip_ids)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()

    def rn_step(opt=torch.optim.SGD(retinanet.parameters(), lr=1e-4, momentum=0.9)):
        losses = retinanet(list(images), [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets])
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        opt.step()

    frame = images[:1]
    models = {  # name: (model, one training step, one inference call on one frame)
        "retinatrack": (retinatrack, rt_step, lambda: retinatrack.detect(retinatrack(frame), (args.size, args.size))),
        "torchvision_retinanet": (retinanet, rn_step, lambda: retinanet(list(frame))),
    }
    results = {precision: compare(models, precision, args) for precision in args.precisions}
    for precision in args.precisions:
        results[precision]["retinatrack_test_time_augment_ms_per_frame"] = augmented_inference_ms(
            retinatrack, frame, precision, args)
    return {
        "benchmark": "retinatrack_speed",
        "settings": vars(args) | {"num_anchors_per_location": retinatrack.num_anchors, "num_classes": NUM_CLASSES,
                                  "backbone": dict(model_cfg.backbone), "head_channels": model_cfg.channels},
        "machine": {"platform": platform.platform(), "torch": torch.__version__, "threads": torch.get_num_threads(),
                    "device_name": torch.cuda.get_device_name() if device == "cuda" else cpu_model_name(),
                    "cpu_capability": torch.backends.cpu.get_cpu_capability(), "native_bf16": native_bf16(device)},
        "peak_rss_MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),  # after the runs
        "results": results,
    }


def compare(models: dict, precision: str, args) -> dict:
    """Train images/s and inference ms/frame of each of ``models`` at one precision."""
    device = args.device
    results = {}
    for name, (model, train_step, infer) in models.items():
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        model.train()
        with autocast(precision, device):
            train_ips = args.batch / seconds_per_call(train_step, args.steps, device)
        model.eval()
        with torch.no_grad(), autocast(precision, device):
            ms = 1000 * seconds_per_call(infer, args.frames, device)
        results[name] = {
            "train_images_per_s": round(train_ips, 2),
            "inference_ms_per_frame": round(ms, 2),
            "parameters_M": round(sum(p.numel() for p in model.parameters()) / 1e6, 3),
            "peak_cuda_memory_MiB": round(torch.cuda.max_memory_allocated() / 2**20, 1) if device == "cuda" else None,
        }
    rt, rn = results["retinatrack"], results["torchvision_retinanet"]
    results["retinatrack_vs_retinanet"] = {
        "train_throughput_ratio": round(rt["train_images_per_s"] / rn["train_images_per_s"], 3),
        "inference_latency_ratio": round(rt["inference_ms_per_frame"] / rn["inference_ms_per_frame"], 3),
    }
    return results


def augmented_inference_ms(net, frame: torch.Tensor, precision: str, args) -> dict:
    """RetinaTrack inference ms/frame with each test-time augmentation (views averaged)."""
    net.eval()
    timings = {}
    for views in VIEWS:
        def infer(views=views):
            return net.detect(augmented_outputs(net, frame, net.box_coder, views), (args.size, args.size))
        with torch.no_grad(), autocast(precision, args.device):
            timings[views] = round(1000 * seconds_per_call(infer, args.frames, args.device), 2)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="retinatrack")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precisions", nargs="+", default=["32", "bf16"], choices=["32", "bf16"])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/retinatrack_speed.json"))
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of the experiment")
    args = parser.parse_args()
    report = benchmark(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report["results"], indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
