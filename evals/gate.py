"""The regression gate: a run fails when a quality metric falls by more than a set share
against a stored baseline; the message names the metric, the drop and the tasks that got worse."""

from __future__ import annotations

import math

from pydantic import BaseModel

from evals.compare import paired_values
from evals.evaluate import EvalRun
from evals.metrics import is_quality

MAX_DROP = 0.05
"""The default: a 5% relative fall of any quality metric asks for a review."""


class WorseTask(BaseModel):
    id: str
    baseline: float
    candidate: float


class GateFailure(BaseModel):
    metric: str
    baseline: float
    candidate: float
    drop: float
    """Relative fall, (baseline - candidate) / baseline."""
    worse: list[WorseTask]

    def message(self, max_drop: float, show: int = 10) -> str:
        tasks = ", ".join(
            f"{t.id} ({t.baseline:.3f} -> {t.candidate:.3f})" for t in self.worse[:show]
        )
        more = f" and {len(self.worse) - show} more" if len(self.worse) > show else ""
        return (
            f"{self.metric} fell {self.drop:.1%} ({self.baseline:.3f} -> "
            f"{self.candidate:.3f}; allowed {max_drop:.0%}); {len(self.worse)} task(s) got "
            f"worse: {tasks}{more}"
        )


def check(
    baseline: EvalRun,
    candidate: EvalRun,
    max_drop: float = MAX_DROP,
    metrics: list[str] | None = None,
) -> list[GateFailure]:
    """Every quality metric (or those named) whose mean over the tasks both runs scored fell by
    more than `max_drop` of the baseline's mean; empty when the candidate passes."""
    names = metrics or sorted(n for n in baseline.summary.means if is_quality(n))
    failures = []
    for name in names:
        ids, base, cand = paired_values(baseline, candidate, name)
        if not ids or base.mean() <= 0:
            continue
        drop = float((base.mean() - cand.mean()) / base.mean())
        if drop > max_drop and not math.isclose(drop, max_drop):
            worse = sorted(
                (
                    WorseTask(id=i, baseline=float(b), candidate=float(c))
                    for i, b, c in zip(ids, base, cand, strict=True)
                    if c < b
                ),
                key=lambda t: t.candidate - t.baseline,
            )
            failures.append(
                GateFailure(
                    metric=name,
                    baseline=float(base.mean()),
                    candidate=float(cand.mean()),
                    drop=drop,
                    worse=worse,
                )
            )
    return failures
