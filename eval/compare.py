"""Compare the jobs of a Hydra multirun (train.py or track.py sweeps) without W&B.

Every job directory ``<multirun>/<n>/`` gives one row: its status, the value of every
swept parameter (the command-line overrides of ``.hydra/overrides.yaml`` whose value
differs between jobs) and its final metrics, read from the first of

- ``metrics.json`` (track.py): ``detection/AP``, ``detection/AP50``, ``detection/AP75`` and,
  per tracker, ``<tracker>/<metric>`` for the combined metrics of :data:`TRACKER_SUMMARY`;
- ``run_record.json`` ``metrics`` (train.py: the trainer's final metrics);
- the CSV logger's ``csv/version_*/metrics.csv``, last value of each column: status
  ``unfinished`` (the job stopped before writing its final metrics, or still runs).

A job with none of these has status ``failed`` and empty metric cells.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import yaml

__all__ = ["Job", "TRACKER_SUMMARY", "collect_jobs", "comparison_rows", "default_metric", "markdown_table",
           "swept_parameters", "track_summary", "write_csv"]

DETECTION_SUMMARY = ("AP", "AP50", "AP75")
TRACKER_SUMMARY = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW")


@dataclass
class Job:
    """One multirun job: directory name, overrides ``{key: value as typed}``, status, metrics."""

    name: str
    overrides: dict[str, str]
    status: str
    metrics: dict[str, float] = field(default_factory=dict)


def track_summary(metrics: dict) -> dict[str, float]:
    """track.py's ``metrics.json`` as flat names: ``detection/AP50``, ``<tracker>/HOTA``, ..."""
    flat = {f"detection/{k}": float(metrics["detection"][k]) for k in DETECTION_SUMMARY if k in metrics["detection"]}
    for tracker, result in metrics["trackers"].items():
        combined = result["combined"]
        flat.update({f"{tracker}/{k}": float(combined[k]) for k in TRACKER_SUMMARY if k in combined})
    return flat


def read_overrides(job_dir: Path) -> dict[str, str]:
    """``.hydra/overrides.yaml`` as ``{key: value}``; ``+key`` reads as ``key``, ``~key`` as
    ``~key`` with an empty value."""
    overrides = {}
    for line in yaml.safe_load((job_dir / ".hydra" / "overrides.yaml").read_text()) or []:
        key, _, value = str(line).partition("=")
        overrides[key.lstrip("+")] = value
    return overrides


def last_csv_values(path: Path) -> dict[str, float]:
    """The last non-empty value of every column of a Lightning CSV logger file."""
    last: dict[str, float] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            last.update({k: float(v) for k, v in row.items() if k not in ("epoch", "step") and v not in ("", None)})
    return last


def read_metrics(job_dir: Path) -> tuple[str, dict[str, float]]:
    """``(status, metrics)`` of one job (sources in the module docstring)."""
    if (job_dir / "metrics.json").exists():
        return "ok", track_summary(json.loads((job_dir / "metrics.json").read_text()))
    record = json.loads((job_dir / "run_record.json").read_text()) if (job_dir / "run_record.json").exists() else {}
    if record.get("metrics"):
        return "ok", {k: float(v) for k, v in record["metrics"].items()}
    logged = sorted(job_dir.glob("csv/version_*/metrics.csv"))
    if logged and (values := last_csv_values(logged[-1])):
        return "unfinished", values
    return "failed", {}


def _job_order(path: Path) -> tuple:
    return (0, int(path.name), "") if path.name.isdigit() else (1, 0, path.name)


def collect_jobs(multirun_dir: str | Path) -> list[Job]:
    """Every job of a multirun directory (sub-directories with ``.hydra/overrides.yaml``),
    in job-number order."""
    multirun_dir = Path(multirun_dir)
    job_dirs = sorted((p.parent.parent for p in multirun_dir.glob("*/.hydra/overrides.yaml")), key=_job_order)
    if not job_dirs:
        raise FileNotFoundError(f"{multirun_dir}: no job directories (<job>/.hydra/overrides.yaml)")
    return [Job(d.name, read_overrides(d), *read_metrics(d)) for d in job_dirs]


def swept_parameters(jobs: Sequence[Job]) -> list[str]:
    """Override keys whose value differs between jobs (a missing key counts as a value),
    in order of first appearance."""
    keys = list(dict.fromkeys(k for job in jobs for k in job.overrides))
    return [k for k in keys if len({job.overrides.get(k) for job in jobs}) > 1]


def default_metric(multirun_dir: str | Path, jobs: Sequence[Job]) -> str | None:
    """The jobs' ``optimized_metric`` (from the first job's ``.hydra/config.yaml``) when some
    job reports it, else the first metric of the first job that has metrics."""
    config = Path(multirun_dir) / jobs[0].name / ".hydra" / "config.yaml"
    optimized = (yaml.safe_load(config.read_text()) or {}).get("optimized_metric") if config.exists() else None
    if optimized and any(optimized in job.metrics for job in jobs):
        return optimized
    return next((next(iter(job.metrics)) for job in jobs if job.metrics), None)


def _parsed(value: str | None) -> int | float | str | None:
    """An override value as a number where it is one (so tables round it)."""
    for kind in (int, float):
        try:
            return kind(value)
        except (TypeError, ValueError):
            pass
    return value


def comparison_rows(jobs: Sequence[Job], metric: str | None) -> tuple[list[str], list[list]]:
    """Header and rows: ``job``, ``status``, the swept parameters, ``metric``, then every
    other metric (in order of first appearance); missing values are ``None``."""
    params = swept_parameters(jobs)
    metrics = list(dict.fromkeys(([metric] if metric else []) + [k for job in jobs for k in job.metrics]))
    header = ["job", "status", *params, *metrics]
    rows = [[job.name, job.status, *(_parsed(job.overrides.get(p)) for p in params),
             *(job.metrics.get(m) for m in metrics)] for job in jobs]
    return header, rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value + 0.0:.4g}"  # + 0.0: no "-0"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub Markdown table (floats with 4 significant digits)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence]) -> None:
    """The table as CSV, values unrounded, missing values empty."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
