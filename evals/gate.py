"""The regression gate: a run fails when a quality metric falls (rises, where lower is better)
by more than a set share against a stored baseline, or when a metric the baseline scored is
missing, NaN or errored in the candidate (a metric that broke must not pass as one that held);
the message names the metric, the drop or the gap, and the tasks."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from evals.compare import paired_values, paired_weights
from evals.evaluate import EvalRun, TaskRow
from evals.metrics import METRICS, is_quality

MAX_DROP = 0.05
"""The default: a 5% relative fall of any quality metric asks for a review."""


class WorseTask(BaseModel):
    id: str
    baseline: float
    candidate: float


class MissingTask(BaseModel):
    """A task the baseline scored on a metric and the candidate did not."""

    id: str
    why: str
    """`missing` (no row or no value), `NaN` (no value, no error), or the recorded error."""


class GateFailure(BaseModel):
    metric: str
    kind: Literal["drop", "missing"] = "drop"
    """`drop`: the mean fell too far; `missing`: tasks the baseline scored have no value."""
    baseline: float
    candidate: float
    drop: float
    """Relative fall, (baseline - candidate) / baseline, or relative rise where lower is better
    (NaN where `kind` is `missing`)."""
    higher_is_better: bool = True
    worse: list[WorseTask] = Field(default_factory=list)
    missing: list[MissingTask] = Field(default_factory=list)

    def message(self, max_drop: float, show: int = 10) -> str:
        if self.kind == "missing":
            gaps = ", ".join(f"{t.id} ({t.why})" for t in self.missing[:show])
            more = f" and {len(self.missing) - show} more" if len(self.missing) > show else ""
            return (
                f"{self.metric} has no value on {len(self.missing)} task(s) the baseline "
                f"scored ({self.baseline:.3f} there): {gaps}{more}"
            )
        tasks = ", ".join(
            f"{t.id} ({t.baseline:.3f} -> {t.candidate:.3f})" for t in self.worse[:show]
        )
        more = f" and {len(self.worse) - show} more" if len(self.worse) > show else ""
        moved = "fell" if self.higher_is_better else "rose"
        return (
            f"{self.metric} {moved} {self.drop:.1%} ({self.baseline:.3f} -> "
            f"{self.candidate:.3f}; allowed {max_drop:.0%}); {len(self.worse)} task(s) got "
            f"worse: {tasks}{more}"
        )


def _why_missing(row: TaskRow | None, metric: str) -> str | None:
    """Why the candidate's `row` has no usable value of `metric`; None when it has one."""
    if row is None or metric not in row.metrics:
        return "missing"
    if metric in row.metric_errors:
        return f"error: {row.metric_errors[metric]}"
    if math.isnan(row.metrics[metric]):
        return "NaN"
    return None


def missing_values(baseline: EvalRun, candidate: EvalRun, metric: str) -> GateFailure | None:
    """The tasks on which the baseline has a value of `metric` and the candidate has none."""
    rows = {row.id: row for row in candidate.rows}
    scored = {
        row.id: row.metrics[metric]
        for row in baseline.rows
        if not math.isnan(row.metrics.get(metric, math.nan))
    }
    gaps = [
        MissingTask(id=task_id, why=why)
        for task_id in scored
        if (why := _why_missing(rows.get(task_id), metric)) is not None
    ]
    if not gaps:
        return None
    return GateFailure(
        metric=metric,
        kind="missing",
        baseline=sum(scored[g.id] for g in gaps) / len(gaps),
        candidate=math.nan,
        drop=math.nan,
        missing=gaps,
    )


def _drop(baseline: EvalRun, candidate: EvalRun, name: str, max_drop: float) -> GateFailure | None:
    ids, base, cand = paired_values(baseline, candidate, name)
    if not ids:
        return None
    weights = paired_weights(candidate, ids, name)  # a micro average stays one
    base_mean = float(np.average(base, weights=weights))
    cand_mean = float(np.average(cand, weights=weights))
    if base_mean <= 0:
        return None
    info = METRICS.get(name)
    sign = -1 if info is not None and not info.higher_is_better else 1
    drop = sign * (base_mean - cand_mean) / base_mean
    if drop <= max_drop or math.isclose(drop, max_drop):
        return None
    worse = sorted(
        (
            WorseTask(id=i, baseline=float(b), candidate=float(c))
            for i, b, c in zip(ids, base, cand, strict=True)
            if sign * (c - b) < 0
        ),
        key=lambda t: sign * (t.candidate - t.baseline),
    )
    return GateFailure(
        metric=name,
        baseline=base_mean,
        candidate=cand_mean,
        drop=drop,
        worse=worse,
        higher_is_better=sign == 1,
    )


def check(
    baseline: EvalRun,
    candidate: EvalRun,
    max_drop: float = MAX_DROP,
    metrics: list[str] | None = None,
) -> list[GateFailure]:
    """Every quality metric (or those named) that the candidate lacks on a task the baseline
    scored, or whose mean over the tasks both runs scored fell (rose, where lower is better) by
    more than `max_drop` of the baseline's mean; a metric the baseline lacks (one added since it
    was made) is not gated; empty when the candidate passes. A named metric the baseline never
    scored is a usage error (ValueError): there is nothing to gate it against."""
    names = metrics or sorted(n for n in baseline.summary.means if is_quality(n))
    unknown = [n for n in names if n not in baseline.summary.means]
    if unknown:
        raise ValueError(f"the baseline has no value of {', '.join(unknown)} to gate against")
    failures = []
    for name in names:
        failure = missing_values(baseline, candidate, name) or _drop(
            baseline, candidate, name, max_drop
        )
        if failure:
            failures.append(failure)
    return failures
