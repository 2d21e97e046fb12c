"""Synthetic evaluation runs for the statistics and gate tests (no model involved)."""

from __future__ import annotations

from evals.datasets import DatasetInfo
from evals.evaluate import EvalRun, RunStamp, TaskRow, summarise
from evals.metrics import following
from evals.verifiers import InstructionCheck


def make_run(
    config: str, metrics: dict[str, dict[str, float]], kind: str = "constrained"
) -> EvalRun:
    """A run of `config` whose task `id` scored `metrics[id]`."""
    stamp = RunStamp(
        config=config,
        fingerprint=f"{config[:6]:0<12}",
        model="synthetic",
        endpoint="none",
        git_commit="0" * 40,
        git_dirty=False,
        datasets=[DatasetInfo(path="synthetic.jsonl", sha256="0" * 16, tasks=len(metrics))],
        started_at="2025-01-01T00:00:00+00:00",
    )
    rows = [
        TaskRow(
            id=task_id,
            dataset="synthetic",
            kind=kind,
            metrics=values,
            trajectory=[
                {
                    "iteration": 0.0,
                    "engine_score": values.get("concept_coverage", 0.0),
                    "concept_coverage": values.get("concept_coverage", 0.0),
                }
            ],
        )
        for task_id, values in metrics.items()
    ]
    return EvalRun(summary=summarise(stamp, rows), rows=rows)


def make_instruction_run(
    config: str,
    checks: dict[str, list[InstructionCheck]],
    benchmark: str = "ifbench",
    extra: dict[str, dict[str, float]] | None = None,
) -> EvalRun:
    """A run of `config` over instruction tasks: task `id` had `checks[id]` (its metrics follow
    from them), plus `extra[id]` (e.g. content figures, tokens)."""
    stamp = make_run(config, {}).summary.stamp
    rows = [
        TaskRow(
            id=task_id,
            dataset="synthetic",
            kind="instructions",
            metrics=following(found) | (extra or {}).get(task_id, {}),
            benchmark=benchmark,
            instructions=found,
        )
        for task_id, found in checks.items()
    ]
    return EvalRun(summary=summarise(stamp, rows), rows=rows)
