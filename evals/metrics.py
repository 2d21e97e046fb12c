"""Per-task metrics: concept coverage and the all-words rate for constrained tasks, the Ragas
metrics for grounded ones, the cost of the run, and the quality trajectory over iterations."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from core.text.lexicon import coverage
from core.text.plain import strip_citations
from evals.datasets import EvalTask
from evals.ragas_metrics import (
    CITATION,
    JUDGED,
    REFERENCE,
    RETRIEVAL,
    Judge,
    Scores,
    grounded_metrics,
)
from graph.runner import TaskResult

Family = Literal["task", "retrieval", "citation", "reference", "judge", "cost"]


class MetricInfo(BaseModel):
    family: Family
    higher_is_better: bool = True
    judge: str | None = None
    """The model that produced an LLM-judged metric."""


METRICS: dict[str, MetricInfo] = {
    "concept_coverage": MetricInfo(family="task"),
    "all_words": MetricInfo(family="task"),
    **{name: MetricInfo(family="retrieval") for name in RETRIEVAL},
    **{name: MetricInfo(family="citation") for name in CITATION},
    **{name: MetricInfo(family="reference") for name in [*REFERENCE, "semantic_similarity"]},
    **{name: MetricInfo(family="judge") for name in JUDGED},
    **{
        name: MetricInfo(family="cost", higher_is_better=False)
        for name in ("tokens", "calls", "wall_s", "iterations")
    },
}
"""Every metric an evaluation can report, with its family and which direction is better."""


def is_quality(name: str) -> bool:
    info = METRICS.get(name)
    return info is not None and info.family != "cost"


def constrained_metrics(task: EvalTask, answer: str) -> dict[str, float]:
    share = coverage(strip_citations(answer), task.required_words)
    return {"concept_coverage": share, "all_words": float(share == 1.0)}


def cost_metrics(result: TaskResult) -> dict[str, float]:
    usage = result.usage
    return {
        "tokens": float(usage.input_tokens + usage.output_tokens),
        "calls": float(usage.calls),
        "wall_s": result.wall_s,
        "iterations": float(result.iterations or 0),
    }


def trajectory(task: EvalTask, result: TaskResult) -> list[dict[str, float]]:
    """Per scored iteration: the engine's score and, for constrained tasks, the coverage of the
    answer the engine would return had it stopped there (its best-scoring draft so far)."""
    points: list[dict[str, float]] = []
    best_score, best_draft = -1.0, ""
    for record in sorted(result.history, key=lambda r: r["iteration"]):
        if record["score"] > best_score:
            best_score, best_draft = record["score"], record["draft"]
        point = {"iteration": float(record["iteration"]), "engine_score": best_score}
        if task.kind == "constrained":
            point["concept_coverage"] = constrained_metrics(task, best_draft)["concept_coverage"]
        points.append(point)
    return points


async def task_metrics(task: EvalTask, result: TaskResult, judge: Judge | None = None) -> Scores:
    """Every applicable quality metric and the cost of one task's result (a failed run's
    answer is empty, so it scores as badly as an answer can), with the error of each metric
    that failed on it (see `Scores`)."""
    answer = result.answer or ""
    scores = Scores()
    if task.required_words:
        scores |= constrained_metrics(task, answer)
    if task.kind == "grounded":
        scores |= await grounded_metrics(task, answer, result.passages)
        if judge is not None:
            scores |= await judge.score(task, answer, result.passages)
    return scores | cost_metrics(result)


def describe(names: list[str], judge: str | None) -> dict[str, dict[str, Any]]:
    """Metric metadata for a run's summary; judged metrics name their judge."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        info = METRICS.get(name, MetricInfo(family="task"))
        if info.family == "judge":
            info = info.model_copy(update={"judge": judge})
        out[name] = info.model_dump()
    return out
