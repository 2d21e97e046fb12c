"""Ragas metrics for grounded tasks: retrieval, citations and reference overlap with no LLM,
and optionally the LLM-judged ones (labelled with the judge model that produced them)."""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from langchain_core.embeddings import Embeddings
from ragas.dataset_schema import SingleTurnSample
from ragas.metrics import (
    BleuScore,
    ChrfScore,
    IDBasedContextPrecision,
    IDBasedContextRecall,
    NonLLMContextPrecisionWithReference,
    NonLLMContextRecall,
    NonLLMStringSimilarity,
    RougeScore,
    SemanticSimilarity,
)
from ragas.metrics.base import SingleTurnMetric

from core.text.citations import cited_ids
from core.text.embeddings import embed
from core.text.plain import strip_citations
from evals.datasets import EvalTask
from evals.verifiers import InstructionCheck

log = logging.getLogger(__name__)

RETRIEVAL = {
    "retrieval_precision": IDBasedContextPrecision,
    "retrieval_recall": IDBasedContextRecall,
    "context_precision": NonLLMContextPrecisionWithReference,
    "context_recall": NonLLMContextRecall,
}
"""Our name -> ragas metric, on the retrieved passages (ids or texts) against the references."""
CITATION = {"citation_precision": IDBasedContextPrecision, "citation_recall": IDBasedContextRecall}
"""The same id-based metrics on the documents the answer cites."""
REFERENCE = {
    "rouge_l": RougeScore,
    "chrf": ChrfScore,
    "bleu": BleuScore,
    "string_similarity": NonLLMStringSimilarity,
}
"""Answer against the reference answer."""
JUDGED = ("faithfulness", "answer_relevancy", "factual_correctness")


@lru_cache(maxsize=1)
def _plain_metrics() -> dict[str, SingleTurnMetric]:
    metrics = {name: cls() for name, cls in {**RETRIEVAL, **CITATION, **REFERENCE}.items()}
    metrics["semantic_similarity"] = SemanticSimilarity(embeddings=_embeddings())
    return metrics


class _MiniLM(Embeddings):
    """The engine's own MiniLM (`core.text.embeddings`) as a LangChain `Embeddings`."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return embed([text])[0].tolist()


@lru_cache(maxsize=1)
def _embeddings() -> Any:
    """The engine's MiniLM through Ragas' LangChain wrapper, for SemanticSimilarity and for
    ResponseRelevancy, which calls `embed_query` and `embed_documents` (Ragas' own
    `HuggingFaceEmbeddings` has neither: with it, answer_relevancy failed on every task). One
    model in memory; semantic_similarity is the same to the last digit as with Ragas' class."""
    from ragas.embeddings.base import LangchainEmbeddingsWrapper

    return LangchainEmbeddingsWrapper(_MiniLM())


def sample_of(task: EvalTask, answer: str, passages: list[str]) -> SingleTurnSample:
    """The ragas sample of one grounded answer (citations stripped from the response)."""
    return SingleTurnSample(
        user_input=task.task,
        response=strip_citations(answer).strip() or " ",
        reference=task.reference or "",
        retrieved_contexts=[task.document_text(i) for i in passages],
        retrieved_context_ids=passages,
        reference_contexts=[task.document_text(i) for i in task.reference_doc_ids],
        reference_context_ids=task.reference_doc_ids,
    )


@dataclass
class Scores:
    """Metric values of one answer, and why each metric that could not score it failed: a
    failed metric's value is NaN *and* it has an entry in `errors`, so a run whose metrics broke
    is told apart from one they could not apply to (the gate fails on the first)."""

    values: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    checks: list[InstructionCheck] = field(default_factory=list)
    """Each verifiable instruction's outcome, behind the instruction metrics."""

    def __or__(self, other: Scores | dict[str, float]) -> Scores:
        if isinstance(other, dict):
            return Scores({**self.values, **other}, dict(self.errors), list(self.checks))
        return Scores(
            {**self.values, **other.values},
            {**self.errors, **other.errors},
            [*self.checks, *other.checks],
        )


async def _score(name: str, metric: SingleTurnMetric, sample: SingleTurnSample) -> Scores:
    try:
        value = float(await metric.single_turn_ascore(sample))
    except Exception as exc:  # one metric failing on one task never stops the evaluation
        log.warning("ragas metric %s failed: %s", name, exc)
        return Scores({name: math.nan}, {name: f"{type(exc).__name__}: {exc}"[:300]})
    if math.isnan(value):
        return Scores({name: value}, {name: "the metric returned NaN"})
    return Scores({name: value})


def _joined(parts: list[Scores]) -> Scores:
    out = Scores()
    for part in parts:
        out = out | part
    return out


async def grounded_metrics(task: EvalTask, answer: str, passages: list[str]) -> Scores:
    """Every no-LLM ragas metric of one grounded answer; an empty retrieval scores 0."""
    metrics = _plain_metrics()
    sample = sample_of(task, answer, passages)
    known = {doc.id for doc in task.documents or []}
    cited = sample.model_copy(update={"retrieved_context_ids": cited_ids(answer, known)})
    parts: list[Scores] = []
    for name in RETRIEVAL:
        parts.append(await _score(name, metrics[name], sample) if passages else Scores({name: 0.0}))
    for name in CITATION:
        empty = not cited.retrieved_context_ids
        parts.append(Scores({name: 0.0}) if empty else await _score(name, metrics[name], cited))
    if task.reference:
        names = [*REFERENCE, "semantic_similarity"]
        parts += await asyncio.gather(*(_score(n, metrics[n], sample) for n in names))
    return _joined(parts)


class Judge:
    """LLM-judged ragas metrics run by one chat model; results carry its name."""

    def __init__(self, llm: Any, name: str) -> None:
        from ragas.llms import LangchainLLMWrapper
        from ragas.metrics import FactualCorrectness, Faithfulness, ResponseRelevancy

        wrapped = LangchainLLMWrapper(llm)
        self.name = name
        self.metrics: dict[str, SingleTurnMetric] = {
            "faithfulness": Faithfulness(llm=wrapped),
            "answer_relevancy": ResponseRelevancy(llm=wrapped, embeddings=_embeddings()),
            "factual_correctness": FactualCorrectness(llm=wrapped),
        }

    async def score(self, task: EvalTask, answer: str, passages: list[str]) -> Scores:
        sample = sample_of(task, answer, passages)
        return _joined([await _score(name, m, sample) for name, m in self.metrics.items()])
