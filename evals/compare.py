"""A/B comparison of two evaluation runs, paired by task: Wilcoxon signed-rank tests, paired
bootstrap confidence intervals, effect sizes, Holm correction across metrics, and a verdict."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field
from scipy import stats

from evals.evaluate import EvalRun, RunStamp
from evals.instruction_summary import InstructionSummary
from evals.metrics import INFORMATIONAL, METRICS, MetricInfo

ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 5000
SEED = 20240601
Side = Literal["a", "b", "none"]


class MetricComparison(BaseModel):
    """One metric's paired comparison; differences are B minus A."""

    metric: str
    family: str
    higher_is_better: bool
    judge: str | None = None
    n: int
    mean_a: float
    """The run's mean over the paired tasks; weighted as in the run's summary (`weighted`)."""
    mean_b: float
    mean_diff: float
    ci_low: float
    ci_high: float
    """Paired bootstrap 95% confidence interval of the mean difference (resampling tasks)."""
    weighted: bool = False
    """The means and interval are micro averages over the metric's units (e.g. instructions);
    the test and effect sizes stay per task."""
    p_value: float
    """Two-sided Wilcoxon signed-rank test (Pratt's handling of zero differences)."""
    p_holm: float
    """`p_value` after Holm's correction within its group (quality, content, or cost)."""
    rank_biserial: float
    """Matched-pairs rank-biserial correlation in [-1, 1]: positive when B's values are larger."""
    cohens_dz: float | None
    """Mean difference over the standard deviation of the differences (None when they are all
    equal)."""
    wins: int
    """Tasks on which B is better than A."""
    losses: int
    better: Side
    """Which run is significantly better on this metric (after Holm), if either."""


class Comparison(BaseModel):
    a: RunStamp
    b: RunStamp
    paired_tasks: int
    alpha: float = ALPHA
    metrics: list[MetricComparison]
    verdict: Literal["b_better", "a_better", "mixed", "no_difference", "incomplete"]
    verdict_text: str
    instructions_a: dict[str, InstructionSummary] = Field(default_factory=dict)
    """Run A's instruction following per benchmark, as its summary has it (over all its tasks)."""
    instructions_b: dict[str, InstructionSummary] = Field(default_factory=dict)


def paired_values(a: EvalRun, b: EvalRun, metric: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The tasks both runs scored on `metric` (no NaN), with each run's values."""
    left = {row.id: row.metrics.get(metric, math.nan) for row in a.rows}
    ids, xs, ys = [], [], []
    for row in b.rows:
        x, y = left.get(row.id, math.nan), row.metrics.get(metric, math.nan)
        if not (math.isnan(x) or math.isnan(y)):
            ids.append(row.id)
            xs.append(x)
            ys.append(y)
    return ids, np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def paired_weights(b: EvalRun, ids: list[str], metric: str) -> np.ndarray | None:
    """Each paired task's weight in `metric`'s mean (see `TaskRow.weight`); None when the
    metric is a plain mean or a task lacks its count."""
    info = METRICS.get(metric)
    if info is None or info.weight is None:
        return None
    rows = {row.id: row for row in b.rows}
    found = [rows[i].weight(metric) for i in ids]
    if any(w is None for w in found):
        return None
    return np.asarray(found, dtype=float)


def wilcoxon_p(diffs: np.ndarray) -> float:
    if not np.any(diffs != 0):
        return 1.0
    return float(stats.wilcoxon(diffs, zero_method="pratt").pvalue)


def bootstrap_ci(diffs: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean paired difference (resampling tasks); with
    `weights`, of the weighted mean (a task carries its weight into each resample)."""
    mean = float(np.average(diffs, weights=weights))
    if len(diffs) < 2 or np.all(diffs == diffs[0]):
        return mean, mean
    if weights is None:
        data: tuple[np.ndarray, ...] = (diffs,)
        statistic: Any = np.mean
    else:
        data = (diffs, weights)

        def statistic(d: np.ndarray, w: np.ndarray, axis: int = -1) -> np.ndarray:
            return np.sum(d * w, axis=axis) / np.sum(w, axis=axis)

    result = stats.bootstrap(
        data,
        statistic,
        paired=weights is not None,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(SEED),
    )
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)


def rank_biserial(diffs: np.ndarray) -> float:
    nonzero = diffs[diffs != 0]
    if not len(nonzero):
        return 0.0
    ranks = stats.rankdata(np.abs(nonzero))
    return float((ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / ranks.sum())


def cohens_dz(diffs: np.ndarray) -> float | None:
    """Mean difference over its standard deviation; None where the differences do not vary
    (a spread within float rounding of the values, as 0.2 - 0.0 and 0.4 - 0.2 give, counts as
    none: dividing by it printed dz = 6.6e15)."""
    if len(diffs) < 2:
        return None
    sd = float(diffs.std(ddof=1))
    return float(diffs.mean()) / sd if sd > 1e-9 * max(1.0, float(np.abs(diffs).max())) else None


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control), in the input order."""
    m = len(p_values)
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def compare_metric(a: EvalRun, b: EvalRun, name: str) -> MetricComparison | None:
    ids, xs, ys = paired_values(a, b, name)
    if not ids:
        return None
    info = METRICS.get(name, MetricInfo(family="task"))
    diffs = ys - xs
    weights = paired_weights(b, ids, name)
    low, high = bootstrap_ci(diffs, weights)
    sign = 1 if info.higher_is_better else -1
    return MetricComparison(
        metric=name,
        family=info.family,
        higher_is_better=info.higher_is_better,
        judge=b.summary.stamp.judge if info.family == "judge" else info.judge,
        n=len(ids),
        mean_a=float(np.average(xs, weights=weights)),
        mean_b=float(np.average(ys, weights=weights)),
        mean_diff=float(np.average(diffs, weights=weights)),
        ci_low=low,
        ci_high=high,
        weighted=weights is not None,
        p_value=wilcoxon_p(diffs),
        p_holm=1.0,
        rank_biserial=rank_biserial(diffs),
        cohens_dz=cohens_dz(diffs),
        wins=int(np.sum(sign * diffs > 0)),
        losses=int(np.sum(sign * diffs < 0)),
        better="none",
    )


def _correct(family: list[MetricComparison], alpha: float) -> None:
    """Holm over the metrics that differ on some task; a metric equal on every task has no
    test to run (p = 1) and would only weaken the correction of the others."""
    tested = [m for m in family if m.wins or m.losses]
    for item, adjusted in zip(tested, holm([m.p_value for m in tested]), strict=True):
        item.p_holm = adjusted
        if adjusted < alpha and item.mean_diff != 0:
            b_larger = item.mean_diff > 0
            item.better = "b" if b_larger == item.higher_is_better else "a"


def group(family: str) -> str:
    """Which Holm family a metric is corrected in: quality (the verdict), or its informational
    family (content, abstention, cost)."""
    return family if family in INFORMATIONAL else "quality"


def verdict(metrics: list[MetricComparison], a: str, b: str, alpha: float) -> tuple[str, str]:
    quality = [m for m in metrics if group(m.family) == "quality"]
    up = [m.metric for m in quality if m.better == "b"]
    down = [m.metric for m in quality if m.better == "a"]
    tested = sum(1 for m in quality if m.wins or m.losses)
    family = f"Holm-corrected over the {tested} quality metrics that differ, alpha {alpha}"
    if up and down:
        return (
            "mixed",
            f"mixed: {b} is better on {', '.join(up)} and worse on {', '.join(down)} ({family})",
        )
    if up:
        return "b_better", f"{b} is better than {a} on {', '.join(up)} and worse on none ({family})"
    if down:
        return (
            "a_better",
            f"{b} is worse than {a} on {', '.join(down)} and better on none ({family})",
        )
    return "no_difference", f"no significant difference between {a} and {b} ({family})"


def unscored_quality(a: EvalRun, b: EvalRun, names: tuple[str, str]) -> list[str]:
    """Each quality metric a run could not score, with where: it failed on some of the run's
    tasks, or scored none of them ("prompt_loose: failed on 98 tasks of refine_default")."""
    out: dict[str, list[str]] = {}
    for run, name in zip((a, b), names, strict=True):
        for metric, n in sorted(run.summary.errored.items()):
            if group(METRICS.get(metric, MetricInfo(family="task")).family) == "quality":
                out.setdefault(metric, []).append(f"failed on {n} tasks of {name}")
        for metric in run.summary.unscored:
            if group(METRICS.get(metric, MetricInfo(family="task")).family) == "quality":
                out.setdefault(metric, []).append(f"scored no task of {name}")
    return [f"{metric}: {', '.join(where)}" for metric, where in sorted(out.items())]


def cost_note(metrics: list[MetricComparison], b: str) -> str:
    labels = {"tokens": "tokens", "wall_s": "wall time"}
    parts = [
        f"{m.mean_b / m.mean_a:.2f}x the {labels[m.metric]}"
        for m in metrics
        if m.metric in labels and m.mean_a > 0
    ]
    return f"; {b} costs {' and '.join(parts)}" if parts else ""


def compare(a: EvalRun, b: EvalRun, alpha: float = ALPHA) -> Comparison:
    """Compare run B against run A on every metric both report, paired by task id."""
    names = sorted(set(a.summary.means) & set(b.summary.means))
    found = [compare_metric(a, b, name) for name in names]
    metrics = [m for m in found if m is not None]
    for name in ("quality", *sorted(INFORMATIONAL)):
        _correct([m for m in metrics if group(m.family) == name], alpha)
    name_a, name_b = a.summary.stamp.config, b.summary.stamp.config
    if name_a == name_b:
        name_a, name_b = f"A ({name_a})", f"B ({name_b})"
    kind, text = verdict(metrics, name_a, name_b, alpha)
    missing = unscored_quality(a, b, (name_a, name_b))
    if missing:  # a verdict over the metrics that ran would pass off the rest as equal
        kind = "incomplete"
        text = f"incomplete: {'; '.join(missing)}; on the metrics scored, {text}"
    paired = len({r.id for r in a.rows} & {r.id for r in b.rows})
    return Comparison(
        a=a.summary.stamp,
        b=b.summary.stamp,
        paired_tasks=paired,
        alpha=alpha,
        metrics=metrics,
        verdict=kind,
        verdict_text=text + cost_note(metrics, name_b),
        instructions_a=a.summary.instructions,
        instructions_b=b.summary.instructions,
    )
