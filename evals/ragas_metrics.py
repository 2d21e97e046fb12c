"""Ragas metrics for grounded tasks: retrieval, citations and reference overlap with no LLM,
and optionally the LLM-judged ones (labelled with the judge model that produced them)."""

from __future__ import annotations

import asyncio
import logging
import math
from functools import lru_cache
from typing import Any

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
from core.text.plain import strip_citations
from evals.datasets import EvalTask

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


@lru_cache(maxsize=1)
def _embeddings() -> Any:
    from ragas.embeddings import HuggingFaceEmbeddings

    from core.text.embeddings import model_path

    return HuggingFaceEmbeddings(model=model_path(), device="cpu")


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


async def _score(metric: SingleTurnMetric, sample: SingleTurnSample) -> float:
    try:
        value = float(await metric.single_turn_ascore(sample))
    except Exception as exc:  # one metric failing on one task never stops the evaluation
        log.warning("ragas metric %s failed: %s", metric.name, exc)
        return math.nan
    return value


async def grounded_metrics(task: EvalTask, answer: str, passages: list[str]) -> dict[str, float]:
    """Every no-LLM ragas metric of one grounded answer; an empty retrieval scores 0."""
    metrics = _plain_metrics()
    sample = sample_of(task, answer, passages)
    known = {doc.id for doc in task.documents or []}
    cited = sample.model_copy(update={"retrieved_context_ids": cited_ids(answer, known)})
    out: dict[str, float] = {}
    for name in RETRIEVAL:
        out[name] = await _score(metrics[name], sample) if passages else 0.0
    for name in CITATION:
        out[name] = await _score(metrics[name], cited) if cited.retrieved_context_ids else 0.0
    if task.reference:
        names = [*REFERENCE, "semantic_similarity"]
        values = await asyncio.gather(*(_score(metrics[n], sample) for n in names))
        out |= dict(zip(names, values, strict=True))
    return out


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

    async def score(self, task: EvalTask, answer: str, passages: list[str]) -> dict[str, float]:
        sample = sample_of(task, answer, passages)
        return {name: await _score(m, sample) for name, m in self.metrics.items()}
