"""The regression gate on stored runs: fails on a worse run naming metric, drop and tasks;
passes on the baseline itself; the command exits 1 and 0 accordingly."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.cli import eval_app
from evals.gate import check
from tests.evals.synthetic import make_run

IDS = [f"cgh{i:03d}" for i in range(10)]
BASE = {i: {"concept_coverage": 0.8, "all_words": 1.0, "tokens": 100.0} for i in IDS}
WORSE = {
    **BASE,
    "cgh002": {"concept_coverage": 0.4, "all_words": 0.0, "tokens": 50.0},
    "cgh007": {"concept_coverage": 0.6, "all_words": 0.0, "tokens": 50.0},
}


def test_gate_names_metric_drop_and_tasks() -> None:
    failures = check(make_run("refine_default", BASE), make_run("cheap", WORSE), max_drop=0.05)
    by_metric = {f.metric: f for f in failures}
    assert set(by_metric) == {"concept_coverage", "all_words"}  # cost is not gated
    coverage = by_metric["concept_coverage"]
    assert coverage.drop == pytest.approx(0.075)  # (0.8 - 0.74) / 0.8
    assert [t.id for t in coverage.worse] == ["cgh002", "cgh007"]  # worst first
    message = coverage.message(0.05)
    assert message.startswith("concept_coverage fell 7.5% (0.800 -> 0.740; allowed 5%)")
    assert "cgh002 (0.800 -> 0.400)" in message and "cgh007 (0.800 -> 0.600)" in message


def test_gate_passes_within_the_allowed_drop() -> None:
    assert check(make_run("a", BASE), make_run("a", BASE)) == []
    assert check(make_run("a", BASE), make_run("b", WORSE), max_drop=0.25) == []
    only = check(make_run("a", BASE), make_run("b", WORSE), metrics=["concept_coverage"])
    assert [f.metric for f in only] == ["concept_coverage"]


def test_gate_command_exit_codes(tmp_path: Path) -> None:
    make_run("refine_default", BASE).save(tmp_path / "baseline")
    make_run("cheap", WORSE).save(tmp_path / "worse")
    runner = CliRunner()
    baseline = str(tmp_path / "baseline" / "summary.json")
    failed = runner.invoke(
        eval_app, ["gate", "--baseline", baseline, "--run", str(tmp_path / "worse")]
    )
    assert failed.exit_code == 1
    assert "concept_coverage fell 7.5%" in failed.output and "cgh002" in failed.output
    passed = runner.invoke(eval_app, ["gate", "--baseline", baseline, "--run", baseline])
    assert passed.exit_code == 0 and "gate passed" in passed.output
