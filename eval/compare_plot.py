"""Plot one metric of a multirun against its swept parameters (:mod:`eval.compare`).

One panel per swept parameter (three per row), the metric on y and the parameter on x: a numeric axis
when every value is a number (logarithmic when they span two decades or more), else one
tick per value. Jobs that differ only in the panel's parameter are joined by a line
labelled with the other parameters' values, so a grid reads as an interaction plot (a
2 x 2 grid: two lines per panel); the others (random or Optuna search) are single points.
Jobs without the metric are left out.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Sequence

from eval.compare import Job

MAX_LEGEND_ENTRIES = 8
PANELS_PER_ROW = 3


def _as_numbers(values: Sequence[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return None


def _draw_panel(ax, jobs: Sequence[Job], param: str, others: Sequence[str], metric: str) -> None:
    values = [job.overrides.get(param, "") if param != "job" else job.name for job in jobs]
    numbers = _as_numbers(values)
    categories = list(dict.fromkeys(values))
    xs = numbers if numbers is not None else [categories.index(v) for v in values]
    lines: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
    for job, x in zip(jobs, xs):
        lines[tuple(job.overrides.get(p, "") for p in others)].append((x, job.metrics[metric]))
    singles = [point for points in lines.values() if len(points) == 1 for point in points]
    joined = {key: sorted(points) for key, points in lines.items() if len(points) > 1}
    for key, points in joined.items():
        ax.plot(*zip(*points), marker="o", label=", ".join(f"{p}={v}" for p, v in zip(others, key)))
    if singles:
        ax.plot(*zip(*singles), marker="o", linestyle="none", color="0.3")
    if numbers is None:
        ax.set_xticks(range(len(categories)), categories, rotation=30 if len(categories) > 4 else 0)
    elif numbers and min(numbers) > 0 and max(numbers) >= 100 * min(numbers):
        ax.set_xscale("log")
    elif all(x.is_integer() for x in numbers) and len(set(numbers)) <= MAX_LEGEND_ENTRIES:
        ax.set_xticks(sorted(set(numbers)))  # a few integers (layer counts): one tick each
    if joined and others and len(joined) <= MAX_LEGEND_ENTRIES:
        ax.legend(fontsize="small")
    ax.set_xlabel(param)
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)


def plot_metric(jobs: Sequence[Job], params: Sequence[str], metric: str, path: str | Path) -> Path:
    """Write the PNG (matplotlib, no display needed) and return its path; without swept
    parameters the one panel has a tick per job."""
    from matplotlib.figure import Figure  # the Agg canvas, no pyplot state

    measured = [job for job in jobs if metric in job.metrics and not math.isnan(job.metrics[metric])]
    panels = list(params) or ["job"]
    columns = min(len(panels), PANELS_PER_ROW)
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(4.5 * columns, 3.8 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, param in zip(axes, panels):
        _draw_panel(ax, measured, param, [p for p in params if p != param], metric)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    figure.suptitle(f"{metric}: {len(measured)} of {len(jobs)} jobs")
    figure.savefig(path, dpi=100)
    return Path(path)
