"""Which sequences a folder-based evaluation covers (SOT and DAVIS layouts)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

__all__ = ["evaluated_sequences"]


def evaluated_sequences(gt_dir: Path, pred_dir: Path, sequences: Sequence[str] | None,
                        prediction_names: Iterable[str], what: str) -> list[str]:
    """The sequence folders of ``gt_dir`` (sorted, hidden ones left out), or ``sequences``
    when given.

    Raises:
        ValueError: ``prediction_names`` (the sequences ``pred_dir`` holds predictions for,
            described as ``what``) name a sequence without ground truth (checked only
            without ``sequences``), or no sequence is left.
    """
    if sequences is None:
        names = sorted(p.name for p in gt_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        unknown = sorted(set(prediction_names) - set(names))
        if unknown:
            raise ValueError(f"{pred_dir}: {what} for sequences not in {gt_dir}: {unknown}")
    else:
        names = list(sequences)
    if not names:
        raise ValueError(f"{gt_dir}: no sequence folders")
    return names
