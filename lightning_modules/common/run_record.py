"""What makes a number reproducible, written beside every result.

``run_record.json`` holds the command, git commit (and whether the tree was dirty), the
resolved config, the datasets and splits (with their sizes), library versions and the
SHA-256 of each checkpoint involved.
"""
from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def git_state(repo: Path = REPO_ROOT) -> dict:
    """``{"commit": sha or None, "dirty": bool or None}`` of the code that ran."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
            capture_output=True, text=True, check=True,
        ).stdout
        return {"commit": commit, "dirty": bool(status.strip())}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict:
    import lightning
    import numpy
    import torch
    import torchvision

    return {
        "python": platform.python_version(), "torch": torch.__version__,
        "torchvision": torchvision.__version__, "lightning": lightning.__version__,
        "numpy": numpy.__version__,
    }


def describe_index(index) -> dict:
    """Dataset identity of a VideoIndex: source, split and sizes."""
    return {
        "source": index.source, "split": index.split, "videos": len(index.videos),
        "frames": index.num_frames, "categories": index.category_names,
        "skipped": dict(index.skipped),
    }


def write_run_record(output_dir: str | Path, config: dict, **extra) -> Path:
    """Write (or update) ``output_dir/run_record.json``; ``extra`` keys are merged in."""
    path = Path(output_dir) / "run_record.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    record.update({
        "command": " ".join(sys.argv),
        "git": git_state(),
        "versions": library_versions(),
        "config": config,
    })
    record.update(extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=str))
    return path
