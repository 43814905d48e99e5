"""Standalone evaluation: ``python -m eval <kind> --gt PATH --pred PATH [--out FILE.json]``.

Kinds and layouts:

- ``mot``: MOTChallenge folders, ``GT/<seq>/gt/gt.txt`` (+ ``seqinfo.ini``) and
  ``PRED/<seq>.txt``; HOTA, CLEAR MOT, identity (:mod:`eval.mot`).
- ``mots``: ``GT/<seq>/gt/gt.txt`` or ``GT/<seq>.txt`` and ``PRED/<seq>.txt`` in MOTS txt;
  sMOTSA, MOTSA, MOTSP, IDF1, HOTA on masks (:mod:`eval.mots`).
- ``tao``: TAO ground-truth JSON and TAO results JSON; track mAP (:mod:`eval.tao`).
- ``coco`` / ``lvis``: ground-truth JSON and results JSON; box or mask AP.
- ``sot``: ``GT/<seq>/groundtruth.txt`` and ``PRED/<seq>.txt``; ``--protocol`` ope (OTB /
  LaSOT), got10k, oxuva or vot_lt (:mod:`eval.sot`).
- ``davis``: ``GT/<seq>/<frame>.png`` and ``PRED/<seq>/<frame>.png``; J and F.
- ``compare``: ``python -m eval compare MULTIRUN_DIR [--metric M] [--out DIR]``: one row per
  job of a train.py or track.py multirun (swept parameters, status, final metrics), written
  as ``comparison.md`` / ``comparison.csv`` plus a plot of the metric against the swept
  parameters (:mod:`eval.compare`, :mod:`eval.compare_plot`).

Prints one table per sequence (or per class where the metric has no per-sequence value)
plus the combined row, and writes the full result as JSON
(``{"per_sequence": ..., "combined": ..., ["per_class": ...]}``; NaN is written as null).
These are the same functions track.py calls, so every entry point reports the same numbers.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path
from typing import Callable, Sequence

from eval.table import format_table

log = logging.getLogger("eval")

# Columns printed per kind (the JSON always holds every metric).
_MOT_COLUMNS = ("HOTA", "DetA", "AssA", "MOTA", "MOTP", "IDF1", "IDSW", "FP", "FN", "Frag", "MT", "ML", "GT")
_MOTS_COLUMNS = ("HOTA", "DetA", "AssA", "sMOTSA", "MOTSA", "MOTSP", "IDF1", "IDSW", "FP", "FN", "GT")


def _mot(args: argparse.Namespace) -> tuple[dict, Sequence[str], str]:
    from eval.mot import MOT17, MOT20, evaluate_mot_dirs

    preset = {"none": {}, "mot17": MOT17, "mot20": MOT20}[args.preset]
    options = {**preset, "conventions": args.conventions, "iou_threshold": args.iou_threshold}
    if args.class_agnostic:
        options["class_aware"] = False
    return evaluate_mot_dirs(args.gt, args.pred, **options), _MOT_COLUMNS, "per_sequence"


def _mots(args: argparse.Namespace) -> tuple[dict, Sequence[str], str]:
    from eval.mots import KITTI_MOTS, MOTS_CHALLENGE, evaluate_mots_dirs

    preset = {"none": {}, "mots_challenge": MOTS_CHALLENGE, "kitti_mots": KITTI_MOTS}[args.preset]
    result = evaluate_mots_dirs(args.gt, args.pred, conventions=args.conventions, **preset)
    return result, _MOTS_COLUMNS, "per_sequence"


def _tao(args: argparse.Namespace) -> tuple[dict, Sequence[str], str]:
    from eval.tao import TAO_METRICS, evaluate_tao_files

    return evaluate_tao_files(args.gt, args.pred), TAO_METRICS, "per_class"


def _coco(args: argparse.Namespace) -> tuple[dict, Sequence[str], str]:
    from eval.coco import COCO_METRICS, evaluate_coco_files

    return evaluate_coco_files(args.gt, args.pred, iou_type=args.iou_type), COCO_METRICS, "per_class"


def _lvis(args: argparse.Namespace) -> tuple[dict, Sequence[str], str]:
    from eval.lvis import LVIS_METRICS, evaluate_lvis_files

    return evaluate_lvis_files(args.gt, args.pred, iou_type=args.iou_type), LVIS_METRICS, "per_class"


def _sot(args: argparse.Namespace) -> tuple[dict, Sequence[str] | None, str]:
    from eval.sot import evaluate_sot_dirs

    return evaluate_sot_dirs(args.gt, args.pred, protocol=args.protocol), None, "per_sequence"


def _davis(args: argparse.Namespace) -> tuple[dict, Sequence[str], str]:
    from eval.davis import DAVIS_METRICS, evaluate_davis_dirs

    return evaluate_davis_dirs(args.gt, args.pred, ignore_void=args.ignore_void), DAVIS_METRICS, "per_sequence"


def _compare(args: argparse.Namespace) -> dict:
    """Table (printed, Markdown, CSV) and plot of a multirun's jobs; returns the table."""
    from eval.compare import collect_jobs, comparison_rows, default_metric, markdown_table, swept_parameters, write_csv
    from eval.compare_plot import plot_metric

    jobs = collect_jobs(args.multirun_dir)
    known = list(dict.fromkeys(k for job in jobs for k in job.metrics))
    if args.metric is not None and args.metric not in known:
        raise ValueError(f"no job of {args.multirun_dir} reports {args.metric!r}; metrics: {known}")
    metric = args.metric or default_metric(args.multirun_dir, jobs)
    header, rows = comparison_rows(jobs, metric)
    out = args.out or args.multirun_dir
    out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(header, rows)
    print(table)
    (out / "comparison.md").write_text(table + "\n")
    write_csv(out / "comparison.csv", header, rows)
    written = [out / "comparison.md", out / "comparison.csv"]
    if metric is not None:
        written.append(plot_metric(jobs, swept_parameters(jobs), metric, out / f"comparison_{metric.replace('/', '_')}.png"))
    log.info("wrote %s", ", ".join(map(str, written)))
    return {"metric": metric, "header": header, "rows": rows}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n\n")[0])
    kinds = parser.add_subparsers(dest="kind", required=True)

    def kind(name: str, run: Callable, help_text: str) -> argparse.ArgumentParser:
        sub = kinds.add_parser(name, help=help_text)
        sub.add_argument("--gt", required=True, type=Path, help="ground-truth folder or file")
        sub.add_argument("--pred", required=True, type=Path, help="prediction folder or file")
        sub.add_argument("--out", type=Path, help="write the result here as JSON")
        sub.set_defaults(run=run)
        return sub

    mot = kind("mot", _mot, "HOTA, CLEAR MOT, IDF1 on MOTChallenge box files")
    mot.add_argument("--preset", choices=("none", "mot17", "mot20"), default="none",
                     help="MOTChallenge preprocessing (pedestrians only, distractors, consider flag)")
    mot.add_argument("--conventions", choices=("trackeval", "motmetrics"), default="trackeval")
    mot.add_argument("--iou-threshold", type=float, default=0.5)
    mot.add_argument("--class-agnostic", action="store_true", help="ignore the class column")
    mots = kind("mots", _mots, "sMOTSA, MOTSA, MOTSP, IDF1, HOTA on MOTS mask files")
    mots.add_argument("--preset", choices=("none", "mots_challenge", "kitti_mots"), default="none")
    mots.add_argument("--conventions", choices=("trackeval", "motmetrics"), default="trackeval")
    kind("tao", _tao, "TAO track mAP (3D IoU, federated)")
    for name, run in (("coco", _coco), ("lvis", _lvis)):
        sub = kind(name, run, f"{name.upper()} box or mask AP")
        sub.add_argument("--iou-type", choices=("bbox", "segm"), default="bbox")
    sot = kind("sot", _sot, "single-object tracking benchmarks")
    sot.add_argument("--protocol", choices=("ope", "got10k", "oxuva", "vot_lt"), default="ope")
    davis = kind("davis", _davis, "DAVIS J and F")
    davis.add_argument("--ignore-void", action="store_true", help="leave void (255) pixels out")
    compare = kinds.add_parser("compare", help="table and plot of the jobs of a train.py / track.py multirun")
    compare.add_argument("multirun_dir", type=Path, help="the multirun directory (holds <job>/.hydra/)")
    compare.add_argument("--metric", help="metric to plot and put first (default: the jobs' optimized_metric)")
    compare.add_argument("--out", type=Path, help="folder for comparison.md/.csv/.png (default: MULTIRUN_DIR)")
    compare.set_defaults(run=_compare)
    return parser


def _json_ready(value):
    """NaN -> None (strict JSON), recursively."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> dict:
    """Run one evaluation; returns the result dict (also printed and written)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    if args.kind == "compare":
        return args.run(args)
    result, columns, rows = args.run(args)
    label = "class" if rows == "per_class" else "sequence"
    print(format_table(result, columns, rows=rows, label=label))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(_json_ready(result), indent=1, allow_nan=False) + "\n")
        log.info("wrote %s", args.out)
    return result


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError) as error:  # bad input: one clear line, exit 2
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
