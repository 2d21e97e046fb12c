"""Promotion's decision: a student significantly worse than its base on a quality metric (or
on a metric the recipe names) may not be promoted; costing more tokens does not block it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.training.config import TrainConfig
from evals import promotion
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


def _sides(monkeypatch: pytest.MonkeyPatch, coverage: dict[str, float]) -> list[dict[str, Any]]:
    """`run_side` answering from synthetic runs: each side's coverage is `coverage[side]` plus
    the same per-task spread; records how each side was asked for."""
    spread = np.random.default_rng(2).uniform(-0.05, 0.05, len(IDS))
    asked: list[dict[str, Any]] = []

    def run_side(recipe: Any, out: Path, adapter: Any, concurrency: int, *, base: bool = True):
        side = out.name
        asked.append({"side": side, "adapter": adapter, "base": base})
        return make_run("single_pass", {
            i: {"concept_coverage": coverage[side] + float(d) + n / 100, "tokens": 100.0}
            for n, (i, d) in enumerate(zip(IDS, spread, strict=True))
        })  # fmt: skip

    monkeypatch.setattr(promotion, "run_side", run_side)
    return asked


def test_a_student_must_also_hold_up_against_the_current_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _sides(monkeypatch, {"base": 0.4, "student": 0.6, "default": 0.8})
    recipe = TrainConfig()
    assert recipe.evaluation.against_default
    evaluation = promotion.evaluate_adapter(recipe, Path("/a/student.gguf"), tmp_path)

    assert [(a["side"], a["adapter"], a["base"]) for a in asked] == [
        ("base", None, True),
        ("student", Path("/a/student.gguf"), True),
        ("default", None, False),  # the deployment's own model, as its settings serve it
    ]
    assert evaluation.worse_on == []  # better than its base
    assert evaluation.worse_than_default_on == ["concept_coverage"]
    assert not evaluation.allows_promotion
    assert set(evaluation.means) == {"base", "student", "default"}
    assert evaluation.default_report == str(tmp_path / "vs-default" / "report.md")


def test_without_the_default_side_a_student_better_than_its_base_may_be_promoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _sides(monkeypatch, {"base": 0.4, "student": 0.6, "default": 0.8})
    recipe = TrainConfig.model_validate({"evaluation": {"against_default": False}})
    evaluation = promotion.evaluate_adapter(recipe, Path("/a/student.gguf"), tmp_path)
    assert [a["side"] for a in asked] == ["base", "student"]
    assert evaluation.allows_promotion and evaluation.default_report is None


def test_each_side_runs_on_its_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, str]] = []

    def run(command: list[str], env: dict[str, str], text: bool) -> Any:
        seen.append(env)
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(promotion.subprocess, "run", run)
    monkeypatch.setenv("REFINERY_MODEL_PATH", "/deployment/model.gguf")
    recipe = TrainConfig()
    for adapter, base in ((None, True), (Path("/a/s.gguf"), True), (None, False)):
        with pytest.raises(RuntimeError, match="failed"):
            promotion.run_side(recipe, tmp_path / "x", adapter, 1, base=base)
    base_env, student_env, default_env = seen
    assert base_env["REFINERY_MODEL_PATH"].endswith("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    assert "REFINERY_MODEL_LORA" not in base_env
    assert student_env["REFINERY_MODEL_LORA"] == "/a/s.gguf"
    assert default_env["REFINERY_MODEL_PATH"] == "/deployment/model.gguf"
    assert "REFINERY_MODEL_LORA" not in default_env
