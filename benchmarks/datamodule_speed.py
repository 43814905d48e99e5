"""Training-data throughput of the DataModule per sampling mode, on the synthetic world.

Builds ``conf/data/synthetic.yaml`` as configured (128x128 frames, batch_size 4, identity
batches 16 x 4 crops of 64x32, train augmentation on) with ``data.sampling=<mode>`` and
``data.num_workers=<n>``, and times ``--batches`` training batches after the first one
(worker start-up and the first decode are reported apart, as ``first_batch_s``). A sample
is one item of the mode: a frame (image), a clip of 2 frames (clip), a template + search
pair (pair), a crop (identity); ``images_per_s`` counts decoded frames. Best of
``--repeats`` runs. The world is generated first if missing. Writes JSON::

    python benchmarks/datamodule_speed.py [--batches 100] [--repeats 2] [--workers 0 2]
        [--out benchmarks/results/datamodule_speed.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from hydra.utils import instantiate  # noqa: E402

from datamodules.inspection import compose_inspect  # noqa: E402

MODES = ("image", "clip", "pair", "identity")
IMAGES_PER_SAMPLE = {"image": 1, "clip": 2, "pair": 2, "identity": 1}


def batch_samples(batch: dict) -> int:
    """Items (frames, clips, pairs or crops) in a batch."""
    if batch["sampling"] == "identity":
        return len(batch["labels"])
    if batch["sampling"] == "pair":
        return len(batch["track_ids"])
    return int(batch["clip_ids"].max()) + 1


def time_mode(sampling: str, num_workers: int, batches: int) -> dict:
    cfg = compose_inspect(["data=synthetic", f"data.sampling={sampling}", f"data.num_workers={num_workers}",
                           f"data.batches_per_epoch={batches + 1}"])
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    start = time.perf_counter()
    iterator = iter(datamodule.train_dataloader())
    next(iterator)
    first = time.perf_counter() - start
    start, samples = time.perf_counter(), 0
    for batch in iterator:
        samples += batch_samples(batch)
    elapsed = time.perf_counter() - start
    return {
        "sampling": sampling, "num_workers": num_workers, "batches": batches,
        "samples_per_batch": samples / batches, "first_batch_s": round(first, 3),
        "samples_per_s": round(samples / elapsed, 1),
        "images_per_s": round(samples * IMAGES_PER_SAMPLE[sampling] / elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "datamodule_speed.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    torch.set_num_threads(1)  # decoding and augmentation are per-sample; workers give the parallelism
    results = []
    for sampling in MODES:
        for num_workers in args.workers:
            runs = [time_mode(sampling, num_workers, args.batches) for _ in range(args.repeats)]
            best = max(runs, key=lambda r: r["samples_per_s"])
            results.append(best)
            print(json.dumps(best))
    record = {
        "benchmark": "datamodule_speed", "world": "conf/data/synthetic.yaml (128x128 frames)",
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_start": load_before, "platform": platform.platform(),
                    "python": platform.python_version(), "torch": torch.__version__},
        "args": {"batches": args.batches, "repeats": args.repeats, "workers": args.workers},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
