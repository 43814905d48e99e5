"""`python -m eval compare`: job statuses and metric sources, swept parameters, bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from eval.__main__ import main
from eval.compare import collect_jobs, swept_parameters, track_summary


def make_job(multirun: Path, name: str, overrides: list[str], config: dict | None = None) -> Path:
    job = multirun / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (job / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config or {"optimized_metric": "val/AP50"}))
    return job


def track_metrics(hota: float) -> dict:
    combined = {"HOTA": hota, "DetA": 0.5, "AssA": 0.4, "MOTA": 0.3, "IDF1": 0.2, "IDSW": 7, "FP": 1}
    return {"detection": {"AP": 0.1, "AP50": 0.2, "AP75": 0.05, "APs": 0.0},
            "trackers": {"sort": {"per_sequence": {}, "combined": combined}}}


@pytest.fixture
def train_multirun(tmp_path) -> Path:
    """Job 0 finished, job 1 stopped after logging to CSV, job 2 failed, job 10 finished
    (numeric job order: 10 after 2)."""
    multirun = tmp_path / "multirun"
    for name, lr in (("0", "0.1"), ("1", "0.01"), ("2", "0.001"), ("10", "0.0001")):
        make_job(multirun, name, [f"model.optimizer.lr={lr}", "+debug=limit", "paths.data_dir=/data"])
    for name, ap in (("0", 0.25), ("10", 0.5)):
        (multirun / name / "run_record.json").write_text(json.dumps({"metrics": {"train/loss": 1.0, "val/AP50": ap}}))
    (multirun / "1" / "run_record.json").write_text(json.dumps({"config": {}}))  # written at the start
    logged = multirun / "1" / "csv" / "version_0"
    logged.mkdir(parents=True)
    (logged / "metrics.csv").write_text("epoch,step,train/loss,val/AP50\n0,0,2.0,\n0,1,1.5,\n0,1,,0.125\n")
    return multirun


def test_statuses_and_metric_sources(train_multirun, tmp_path):
    table = main(["compare", str(train_multirun), "--out", str(tmp_path / "out")])
    assert table["header"] == ["job", "status", "model.optimizer.lr", "val/AP50", "train/loss"]
    assert table["rows"] == [
        ["0", "ok", 0.1, 0.25, 1.0],
        ["1", "unfinished", 0.01, 0.125, 1.5],  # last logged value of each column
        ["2", "failed", 0.001, None, None],
        ["10", "ok", 0.0001, 0.5, 1.0],
    ]
    markdown = (tmp_path / "out" / "comparison.md").read_text()
    assert "| 2 | failed | 0.001 |  |  |" in markdown
    assert (tmp_path / "out" / "comparison_val_AP50.png").stat().st_size > 0


def test_track_jobs_flatten_metrics_json(tmp_path):
    multirun = tmp_path / "multirun"
    for name, (max_age, hota) in enumerate([(1, 0.6), (8, 0.7)]):
        job = make_job(multirun, str(name), [f"tracker.max_age={max_age}", "tracker=sort"],
                       {"optimized_metric": None})
        (job / "metrics.json").write_text(json.dumps(track_metrics(hota)))
    jobs = collect_jobs(multirun)
    assert swept_parameters(jobs) == ["tracker.max_age"]
    assert jobs[1].metrics == track_summary(track_metrics(0.7))
    assert set(jobs[1].metrics) == {"detection/AP", "detection/AP50", "detection/AP75", "sort/HOTA", "sort/DetA",
                                    "sort/AssA", "sort/MOTA", "sort/IDF1", "sort/IDSW"}
    table = main(["compare", str(multirun), "--metric", "sort/HOTA"])
    assert table["header"][:4] == ["job", "status", "tracker.max_age", "sort/HOTA"]
    assert (multirun / "comparison_sort_HOTA.png").exists()  # default --out: the multirun directory


def test_unknown_metric_and_empty_directory_are_errors(train_multirun, tmp_path):
    with pytest.raises(ValueError, match="val/AP75"):
        main(["compare", str(train_multirun), "--metric", "val/AP75"])
    with pytest.raises(FileNotFoundError, match="no job directories"):
        main(["compare", str(tmp_path)])
