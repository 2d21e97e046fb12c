"""Retrieval: ranks the request's documents by hybrid search (BM25 + MiniLM embeddings, fused
by reciprocal rank) and keeps the best few as the passages the answer must rest on; a question
of several parts is searched part by part, among the versions of a dated document in force at
the time it asks about (`core.questions.versions`)."""

from __future__ import annotations

from typing import Any

from core.questions.facts import Fact, find_facts
from core.questions.plan import QuestionPlan
from core.questions.versions import in_force
from core.run_config import load_config
from core.state import Document, Passage, RefineState
from core.text.search import RRF_K, hybrid_search, ranking

__all__ = ["hybrid_search", "ranking", "retrieve", "retrieve_parts"]


def retrieve_parts(
    question: QuestionPlan, documents: list[Document], k: int
) -> tuple[list[Passage], list[Fact | None]]:
    """Passages for a question of several parts: each part searched on its own (so a second
    document is found even when the whole question matches the first far better), the
    document stating each part's fact first, then the whole question's best matches, up to
    `k` plus one per part; and the facts."""
    rankings = [ranking(part.query, documents) for part in question.parts]
    facts = find_facts(question, documents, rankings, " ".join(p.query for p in question.parts))
    by_id = {d["id"]: d for d in documents}
    chosen: list[str] = [f.doc_id for f in facts if f is not None]
    for ranked in rankings:
        chosen += ranked[:1]
    whole = hybrid_search(" ".join(p.query for p in question.parts), documents, k)
    chosen += [p["doc_id"] for p in whole]
    unique = list(dict.fromkeys(chosen))[: k + len(question.parts)]
    return [
        {"doc_id": i, "text": by_id[i]["text"], "score": 1.0 / (RRF_K + rank)}
        for rank, i in enumerate(unique, 1)
    ], facts


def retrieve(state: RefineState) -> dict[str, Any]:
    config = load_config(state["config"])
    documents = state.get("documents") or []
    k = config.budgets.passages
    planned = (state.get("plan") or {}).get("question")
    if config.retrieval == "every_document":
        every = [{"doc_id": d["id"], "text": d["text"], "score": 1.0} for d in documents]
        return {"passages": every}
    if not planned:
        return {"passages": hybrid_search(state["task"], documents, k)}
    question = QuestionPlan.model_validate(planned)
    documents = in_force(documents, state["task"])
    if question.multi:
        passages, facts = retrieve_parts(question, documents, k)
    else:
        passages = hybrid_search(state["task"], documents, k)
        facts = find_facts(question, documents, [ranking(state["task"], documents)], state["task"])
    return {"passages": passages, "facts": [f.as_dict() if f else None for f in facts]}
