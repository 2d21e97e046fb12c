"""Per-task metrics: concept coverage and the all-words rate for constrained tasks, the Ragas
metrics and the key facts stated (`evals.facts`) for grounded ones, instruction following
(IFEval/IFBench verifiers) and the content guard's figures for instruction tasks, how well the
answer reads to a second model (`evals.coherence`) for both, the cost of the run, and the quality
trajectory over iterations."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any, Literal

from pydantic import BaseModel

from core.text.plain import strip_citations
from evals.coherence import READER
from evals.concepts import concept_coverage
from evals.datasets import EvalTask
from evals.facts import ABSTAINED, FULLY_CORRECT, KEY_FACT_RECALL, fact_metrics
from evals.ragas_metrics import (
    CITATION,
    JUDGED,
    REFERENCE,
    RETRIEVAL,
    Judge,
    Scores,
    grounded_metrics,
)
from evals.repetition import repeated_frames
from evals.verifiers import DIFFERENCES, InstructionCheck, benchmark_of, check
from graph.runner import TaskResult

log = logging.getLogger(__name__)

Family = Literal[
    "task",
    "retrieval",
    "citation",
    "reference",
    "facts",
    "judge",
    "instructions",
    "coherence",
    "content",
    "abstention",
    "cost",
]
INFORMATIONAL: frozenset[str] = frozenset({"content", "abstention", "cost"})
"""Families reported beside quality: no verdict and no gate on them."""


class MetricInfo(BaseModel):
    family: Family
    higher_is_better: bool = True
    judge: str | None = None
    """The model that produced an LLM-judged metric."""
    weight: str | None = None
    """The row count (`TaskRow.counts`) that weights this metric's mean over a run: a micro
    average, as a benchmark reports it (None: the plain mean over tasks)."""
    notes: str | None = None
    """Where the metric can differ from its reference implementation."""


INSTRUCTION_COUNT = "instructions_total"
INSTRUCTIONS = {
    "prompt_strict": MetricInfo(family="instructions", notes=DIFFERENCES),
    "prompt_loose": MetricInfo(family="instructions", notes=DIFFERENCES),
    "instruction_strict": MetricInfo(
        family="instructions", weight=INSTRUCTION_COUNT, notes=DIFFERENCES
    ),
    "instruction_loose": MetricInfo(
        family="instructions", weight=INSTRUCTION_COUNT, notes=DIFFERENCES
    ),
}
"""Prompt level: 1.0 when every instruction was followed; instruction level: the share followed
(over a run, the share of all instructions). Loose: the IFEval variants (first or last line
dropped, asterisks removed) may pass an instruction."""
CONTENT = {
    "content_to_task": "to_task",
    "content_to_first_draft": "to_first_draft",
    "content_length_share": "length_share",
    "content_echo": "echo",
}
"""Our name -> the content guard's figure (`nodes.content.figures`): informational."""


FACTS = {
    KEY_FACT_RECALL: MetricInfo(family="facts"),
    FULLY_CORRECT: MetricInfo(family="facts"),
    ABSTAINED: MetricInfo(family="abstention"),
}
"""Key-fact metrics of grounded tasks with key facts (`evals.facts.fact_metrics`): the share of
key facts stated (answerable tasks) and whether the answer is fully correct (every fact, no
abstention; on an unanswerable task, the abstention) are quality; `abstained` is informational,
right on unanswerable tasks and wrong on the rest."""


COHERENCE = {
    "perplexity": MetricInfo(family="coherence", higher_is_better=False, judge=READER),
    "perplexity_ratio": MetricInfo(family="coherence", higher_is_better=False, judge=READER),
    "judged_not_worse": MetricInfo(family="coherence", judge=READER),
    "pairwise": MetricInfo(family="coherence", judge=READER),
}
"""How well the answer reads to a second model, not the writer (`evals.coherence.measure`):
the final answer's per-token perplexity and its ratio to the first draft's, and the pairwise
judgement of the final answer against the first draft (1 preferred, 0.5 tie or the two orders
disagree, 0 worse) with whether it is not worse. Constrained and instruction tasks."""
COHERENT_KINDS = frozenset({"constrained", "instructions"})
LOOPS = {"repeated_frames": MetricInfo(family="coherence", higher_is_better=False)}
"""The share of the answer's sentences that repeat an earlier one's frame, counted without a
model (`evals.repetition`): the loops that perplexity rewards. Constrained and instruction
tasks, with or without the second model."""


METRICS: dict[str, MetricInfo] = {
    "concept_coverage": MetricInfo(family="task"),
    "all_words": MetricInfo(family="task"),
    **{name: MetricInfo(family="retrieval") for name in RETRIEVAL},
    **{name: MetricInfo(family="citation") for name in CITATION},
    **{name: MetricInfo(family="reference") for name in [*REFERENCE, "semantic_similarity"]},
    **FACTS,
    **{name: MetricInfo(family="judge") for name in JUDGED},
    **INSTRUCTIONS,
    **COHERENCE,
    **LOOPS,
    **{name: MetricInfo(family="content") for name in CONTENT},
    **{
        name: MetricInfo(family="cost", higher_is_better=False)
        for name in ("tokens", "calls", "wall_s", "iterations")
    },
}
"""Every metric an evaluation can report, with its family and which direction is better."""


def is_quality(name: str) -> bool:
    info = METRICS.get(name)
    return info is not None and info.family not in INFORMATIONAL


def following(checks: list[InstructionCheck]) -> dict[str, float]:
    """The four instruction metrics of one task's checks."""
    strict = sum(c.strict for c in checks) / len(checks)
    loose = sum(c.loose for c in checks) / len(checks)
    return {
        "prompt_strict": float(strict == 1.0),
        "prompt_loose": float(loose == 1.0),
        "instruction_strict": strict,
        "instruction_loose": loose,
    }


def instruction_metrics(task: EvalTask, answer: str) -> Scores:
    """Each of the task's instructions checked on `answer` by its benchmark's verifiers; a
    verifier that raises leaves the four metrics NaN with the error."""
    try:
        benchmark = task.benchmark or benchmark_of(task.instruction_id_list)
        checks = check(benchmark, task.task, task.instruction_id_list, task.kwargs, answer)
    except Exception as exc:  # one broken verifier never stops the evaluation
        log.warning("instruction verifiers failed on %s: %s", task.id, exc)
        error = f"{type(exc).__name__}: {exc}"[:300]
        return Scores(dict.fromkeys(INSTRUCTIONS, math.nan), dict.fromkeys(INSTRUCTIONS, error))
    return Scores(following(checks), checks=checks)


async def content_metrics(task: EvalTask, result: TaskResult) -> Scores:
    """The content guard's figures of the answer: similarity to the task and to the first draft
    and its length as a share of the first draft's (an empty answer scores 0; without a first
    draft those two do not apply: NaN)."""
    answer, first = result.answer or "", result.first_draft or ""
    if not answer.strip():
        return Scores(dict.fromkeys(CONTENT, 0.0))
    from nodes.content import figures

    try:
        seen = await asyncio.to_thread(figures, answer, first or answer, task.task)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
        return Scores(dict.fromkeys(CONTENT, math.nan), dict.fromkeys(CONTENT, error))
    values = {name: seen[key] for name, key in CONTENT.items()}
    if not first.strip():
        values |= {"content_to_first_draft": math.nan, "content_length_share": math.nan}
    return Scores(values)


async def coherence_metrics(task: EvalTask, result: TaskResult) -> Scores:
    """How well the answer reads beside the first draft (`COHERENCE`); a failure of the second
    model leaves the four NaN with the error."""
    from evals.coherence import measure

    answer, first = result.answer or "", result.first_draft or ""
    try:
        values = await asyncio.to_thread(measure, task.task, first, answer)
    except Exception as exc:  # the reader failing never stops the evaluation
        log.warning("coherence metrics failed on %s: %s", task.id, exc)
        error = f"{type(exc).__name__}: {exc}"[:300]
        return Scores(dict.fromkeys(COHERENCE, math.nan), dict.fromkeys(COHERENCE, error))
    return Scores(values)


def constrained_metrics(task: EvalTask, answer: str) -> dict[str, float]:
    share = concept_coverage(strip_citations(answer), task.required_words)
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
    answer the engine would return had it stopped there (its best-scoring draft so far), for
    instruction tasks whether that answer followed every instruction (`prompt_loose`)."""
    points: list[dict[str, float]] = []
    best_score, best_draft = -1.0, ""
    for record in sorted(result.history, key=lambda r: r["iteration"]):
        if record["score"] > best_score:
            best_score, best_draft = record["score"], record["draft"]
        point = {"iteration": float(record["iteration"]), "engine_score": best_score}
        if task.kind == "constrained":
            point["concept_coverage"] = constrained_metrics(task, best_draft)["concept_coverage"]
        if task.kind == "instructions":
            followed = instruction_metrics(task, best_draft).values["prompt_loose"]
            if not math.isnan(followed):
                point["prompt_loose"] = followed
        points.append(point)
    return points


async def task_metrics(
    task: EvalTask, result: TaskResult, judge: Judge | None = None, *, coherence: bool = True
) -> Scores:
    """Every applicable quality metric and the cost of one task's result (a failed run's
    answer is empty, so it scores as badly as an answer can), with the error of each metric
    that failed on it (see `Scores`); `coherence` False leaves out the second model's metrics."""
    answer = result.answer or ""
    scores = Scores()
    if task.required_words:
        scores |= constrained_metrics(task, answer)
    if task.kind == "grounded":
        scores |= await grounded_metrics(task, answer, result.passages)
        scores |= fact_metrics(task, answer)
        if judge is not None:
            scores |= await judge.score(task, answer, result.passages)
    if task.kind == "instructions":
        scores |= instruction_metrics(task, answer)
        scores |= await content_metrics(task, result)
    if task.kind in COHERENT_KINDS:
        scores |= {"repeated_frames": repeated_frames(answer)}
    if coherence and task.kind in COHERENT_KINDS:
        scores |= await coherence_metrics(task, result)
    return scores | cost_metrics(result)


def describe(names: list[str], judge: str | None) -> dict[str, dict[str, Any]]:
    """Metric metadata for a run's summary; judged metrics name their judge (the run's, or the
    second model for the coherence metrics)."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        info = METRICS.get(name, MetricInfo(family="task"))
        if info.family == "judge":
            info = info.model_copy(update={"judge": judge})
        out[name] = info.model_dump()
    return out
