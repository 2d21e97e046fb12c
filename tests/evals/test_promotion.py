"""Promotion's decision: a student significantly worse than its base on a quality metric (or
on a metric the recipe names) may not be promoted; costing more tokens does not block it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.training.config import TrainConfig
from evals.compare import compare
from evals.promotion import ALL_ROWS, decide, eval_command
from tests.evals.synthetic import make_run

IDS = [f"t{i:02d}" for i in range(12)]


def _runs(coverage_change: float, tokens: float) -> tuple[object, object]:
    base = np.random.default_rng(2).uniform(0.4, 0.6, len(IDS))
    a = make_run("single_pass", {i: {"concept_coverage": float(x), "tokens": 100.0}
                                 for i, x in zip(IDS, base, strict=True)})  # fmt: skip
    b = make_run("single_pass", {
        i: {"concept_coverage": float(x) + coverage_change * (1 + n / 20), "tokens": tokens}
        for n, (i, x) in enumerate(zip(IDS, base, strict=True))
    })  # fmt: skip
    return a, b


def test_a_student_worse_on_quality_is_refused_one_that_costs_more_is_not() -> None:
    worse = compare(*_runs(-0.1, 100.0))
    assert decide(worse, None) == ["concept_coverage"]
    assert decide(worse, ["all_words"]) == []  # the recipe names what may not worsen

    dearer = compare(*_runs(+0.1, 150.0))
    assert {m.metric: m.better for m in dearer.metrics}["tokens"] == "a"
    assert decide(dearer, None) == []


def test_both_sides_answer_the_recipes_evaluation_rows_under_its_preset(tmp_path: Path) -> None:
    recipe = TrainConfig.model_validate({"evaluation": {"preset": "single_pass", "sets": [
        {"path": "/d/cgh.jsonl", "first": 30}, {"path": "/d/qa.jsonl"}]}})  # fmt: skip
    command = eval_command(recipe, tmp_path / "base", concurrency=2)
    assert command[1:5] == ["-m", "api.cli.main", "eval", "run"]
    joined = " ".join(command[5:])
    assert joined == (
        f"--out {tmp_path / 'base'} --config single_pass --concurrency 2 --coherence "
        f"--dataset /d/cgh.jsonl --limit 30 --dataset /d/qa.jsonl --limit {ALL_ROWS}"
    )
