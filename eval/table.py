"""Aligned text tables of evaluation results (what the CLIs and track.py print).

A result is ``{"per_sequence" | "per_class": {name: row}, "combined": row}`` where a row
maps metric names to numbers. Floats are printed as percentages with one decimal (every
ratio the evaluators report lies in [0, 1], or below 0 for MOTA-like scores); ints as they
are; ``-1.0`` (COCO/LVIS/TAO "undefined") and NaN as ``-``.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

__all__ = ["COMBINED", "format_table", "numeric_metrics"]

COMBINED = "COMBINED"


def _cell(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return "-" if math.isnan(value) or value == -1.0 else f"{100.0 * value:.1f}"
    return str(value)


def numeric_metrics(row: Mapping) -> list[str]:
    """The names of a row's scalar numbers, in the row's order."""
    return [k for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]


def format_table(result: Mapping, metrics: Sequence[str] | None = None, rows: str = "per_sequence",
                 label: str = "sequence") -> str:
    """Rows ``result[rows]`` (if present) then ``COMBINED``; columns ``metrics`` (default:
    every scalar of the combined row). Metrics missing from a row print as ``-``."""
    metrics = list(metrics) if metrics is not None else numeric_metrics(result["combined"])
    named = [*result.get(rows, {}).items(), (COMBINED, result["combined"])]
    header = [label, *metrics]
    body = [[str(name), *(_cell(row.get(k, math.nan)) for k in metrics)] for name, row in named]
    widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths)))

    sep = "-" * len(line(header))
    return "\n".join([line(header), sep, *(line(r) for r in body[:-1]), sep, line(body[-1])])
