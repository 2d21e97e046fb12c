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
    current = in_force(documents, state["task"])
    if question.multi:
        passages, facts = retrieve_parts(question, current, k)
    else:
        passages = hybrid_search(state["task"], current, k)
        facts = find_facts(question, current, [ranking(state["task"], current)], state["task"])
    facts, passages = still_said(question, facts, passages, documents, current, state["task"])
    return {"passages": passages, "facts": [f.as_dict() if f else None for f in facts]}


def still_said(
    question: QuestionPlan,
    facts: list[Fact | None],
    passages: list[Passage],
    documents: list[Document],
    current: list[Document],
    asked: str,
) -> tuple[list[Fact | None], list[Passage]]:
    """The facts, each part the versions in force do not state surely taken from a version they
    replaced where that states it surely (a thing the new rules do not say again still holds:
    blind gb07, "What's higher up, Scarrow Hut or ...?", where only the hut's rules of 2019 say
    it "stands at 2,610 metres"); its document joins the passages."""
    kept = {d["id"] for d in current}
    older = [d for d in documents if d["id"] not in kept]
    if not older or all(f is not None and f.sure for f in facts):
        return facts, passages
    rankings = [ranking(part.query, documents) for part in question.parts]
    again = find_facts(question, documents, rankings, asked)
    out = [
        g if (f is None or not f.sure) and g is not None and g.sure and g.doc_id not in kept else f
        for f, g in zip(facts, again, strict=True)
    ]
    by_id = {d["id"]: d for d in documents}
    have = {p["doc_id"] for p in passages}
    added = [f.doc_id for f in out if f is not None and f.doc_id not in have]
    extra: list[Passage] = [
        {"doc_id": i, "text": by_id[i]["text"], "score": 1.0} for i in dict.fromkeys(added)
    ]
    return out, extra + passages
