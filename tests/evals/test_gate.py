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


GROUNDED_IDS = [f"qa{i:02d}" for i in range(4)]
GROUNDED = {
    i: {"retrieval_recall": 1.0, "semantic_similarity": 0.9, "rouge_l": 0.5, "tokens": 80.0}
    for i in GROUNDED_IDS
}


def _broken(values: dict[str, dict[str, float]], drop: set[str]) -> dict[str, dict[str, float]]:
    return {i: {k: v for k, v in m.items() if k not in drop} for i, m in values.items()}


def test_gate_fails_on_grounded_metrics_the_candidate_lacks() -> None:
    baseline = make_run("refine_default", GROUNDED, kind="grounded")
    lost = _broken(GROUNDED, {"retrieval_recall", "semantic_similarity"})
    failures = check(baseline, make_run("refine_default", lost, kind="grounded"))
    assert {f.metric: f.kind for f in failures} == {
        "retrieval_recall": "missing",
        "semantic_similarity": "missing",
    }
    message = failures[0].message(0.05)
    assert message.startswith("retrieval_recall has no value on 4 task(s) the baseline scored")
    assert "qa00 (missing)" in message and "qa03 (missing)" in message


def test_gate_fails_on_nan_and_errored_values_and_on_tasks_the_candidate_did_not_run() -> None:
    baseline = make_run("refine_default", GROUNDED, kind="grounded")
    candidate = make_run("refine_default", GROUNDED, kind="grounded")
    candidate.rows[0].metrics["rouge_l"] = float("nan")
    candidate.rows[1].metrics["rouge_l"] = float("nan")
    candidate.rows[1].metric_errors["rouge_l"] = "TimeoutError: judge timed out"
    del candidate.rows[3]
    [failure] = check(baseline, candidate, metrics=["rouge_l"])
    assert failure.kind == "missing"
    assert [(t.id, t.why) for t in failure.missing] == [
        ("qa00", "NaN"),
        ("qa01", "error: TimeoutError: judge timed out"),
        ("qa03", "missing"),
    ]
    # qa03 is gone from every metric; the NaN and the error only from rouge_l
    by_metric = {f.metric: [t.id for t in f.missing] for f in check(baseline, candidate)}
    assert by_metric == {
        "retrieval_recall": ["qa03"],
        "rouge_l": ["qa00", "qa01", "qa03"],
        "semantic_similarity": ["qa03"],
    }


def test_gate_ignores_values_the_baseline_never_had_but_refuses_an_unknown_metric() -> None:
    baseline = make_run("a", _broken(GROUNDED, {"rouge_l"}), kind="grounded")
    assert check(baseline, make_run("b", GROUNDED, kind="grounded")) == []
    with pytest.raises(ValueError, match="no value of rouge_l"):
        check(baseline, make_run("b", GROUNDED, kind="grounded"), metrics=["rouge_l"])


def test_gate_command_names_the_lost_metric(tmp_path: Path) -> None:
    make_run("refine_default", GROUNDED, kind="grounded").save(tmp_path / "baseline")
    lost = _broken(GROUNDED, {"semantic_similarity"})
    make_run("refine_default", lost, kind="grounded").save(tmp_path / "lost")
    result = CliRunner().invoke(
        eval_app,
        ["gate", "--baseline", str(tmp_path / "baseline"), "--run", str(tmp_path / "lost")],
    )
    assert result.exit_code == 1
    assert "semantic_similarity has no value on 4 task(s)" in result.output
    assert "1 metric(s)" in result.output and "retrieval_recall" not in result.output
