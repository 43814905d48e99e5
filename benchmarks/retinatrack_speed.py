"""Training throughput and inference latency: RetinaTrack vs torchvision's RetinaNet.

Both models get the same backbone architecture, the same anchors (K per location) and
the same input size; torchvision's RetinaNet is told not to resize. Writes JSON:

    python benchmarks/retinatrack_speed.py [--backbone small|resnet50] [--size 128]
        [--batch 8] [--steps 20] [--frames 50] [--device cpu|cuda] [--out FILE]

Figures: training images/s (forward + losses + backward + SGD step), inference ms/frame
at batch 1 (forward + decoding + NMS), parameter counts, and peak memory (CUDA: max
allocated; CPU: peak resident set size of the process, which covers both models).
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import torch
from torchvision.models.detection import RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator

from lightning_modules.common.backbones import ResNetFPN, SmallResNetFPN
from lightning_modules.retinatrack.network import IMAGENET_MEAN, IMAGENET_STD, RetinaTrackNet

NUM_CLASSES = 3


def make_backbone(name: str):
    return SmallResNetFPN(out_channels=64) if name == "small" else ResNetFPN(depth=50, out_channels=256)


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


def time_training(step, steps: int, batch: int, device: str) -> float:
    for _ in range(3):  # warm-up
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return steps * batch / (time.perf_counter() - start)


@torch.no_grad()
def time_inference(run, frames: int, device: str) -> float:
    for _ in range(3):
        run()
    sync(device)
    start = time.perf_counter()
    for _ in range(frames):
        run()
    sync(device)
    return 1000 * (time.perf_counter() - start) / frames


def benchmark(args) -> dict:
    device = args.device
    images, targets = fake_batch(args.batch, args.size, device)
    clip_ids = torch.arange(args.batch, device=device) // 2

    retinatrack = RetinaTrackNet(make_backbone(args.backbone), NUM_CLASSES,
                                 head={"channels": 64 if args.backbone == "small" else 256,
                                       "embedding_dim": 64 if args.backbone == "small" else 256},
                                 anchor_size_per_stride=args.anchor_size_per_stride).to(device)
    anchors = retinatrack.anchor_generator
    retinanet = RetinaNet(
        make_backbone(args.backbone).body, num_classes=NUM_CLASSES,
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

    results = {}
    for name, model, step in (("retinatrack", retinatrack, rt_step), ("torchvision_retinanet", retinanet, rn_step)):
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        model.train()
        train_ips = time_training(step, args.steps, args.batch, device)
        model.eval()
        frame = images[:1]
        if name == "retinatrack":
            run = lambda: retinatrack.detect(retinatrack(frame), (args.size, args.size))  # noqa: E731
        else:
            run = lambda: retinanet(list(frame))  # noqa: E731
        ms = time_inference(run, args.frames, device)
        results[name] = {
            "train_images_per_s": round(train_ips, 2),
            "inference_ms_per_frame": round(ms, 2),
            "parameters_M": round(sum(p.numel() for p in model.parameters()) / 1e6, 3),
            "peak_cuda_memory_MiB": round(torch.cuda.max_memory_allocated() / 2**20, 1) if device == "cuda" else None,
        }
    results["retinatrack_vs_retinanet"] = {
        "train_throughput_ratio": round(results["retinatrack"]["train_images_per_s"] / results["torchvision_retinanet"]["train_images_per_s"], 3),
        "inference_latency_ratio": round(results["retinatrack"]["inference_ms_per_frame"] / results["torchvision_retinanet"]["inference_ms_per_frame"], 3),
    }
    return {
        "benchmark": "retinatrack_speed",
        "settings": vars(args) | {"num_anchors_per_location": retinatrack.num_anchors, "num_classes": NUM_CLASSES},
        "machine": {"platform": platform.platform(), "torch": torch.__version__, "threads": torch.get_num_threads(),
                    "device_name": torch.cuda.get_device_name() if device == "cuda" else platform.processor()},
        "peak_rss_MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", choices=("small", "resnet50"), default="small")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--anchor-size-per-stride", type=float, default=2.0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/retinatrack_speed.json"))
    args = parser.parse_args()
    report = benchmark(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report["results"], indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
