"""Synthetic evaluation runs for the statistics and gate tests (no model involved)."""

from __future__ import annotations

from evals.datasets import DatasetInfo
from evals.evaluate import EvalRun, RunStamp, TaskRow, summarise


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
