"""Context summarising: compresses one long document to the token budget, keeping the sentences
most relevant to the task and dropping near-duplicates (extractive, no model call)."""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

from core.text.compress import DUPLICATE_SIMILARITY, is_near_duplicate
from core.text.embeddings import cosine, embed
from core.text.plain import estimate_tokens, sentences


class SummariseInput(TypedDict):
    """What `plan` sends for each long document."""

    task: str
    doc_id: str
    text: str
    budget: int


def extractive_summary(task: str, text: str, budget: int) -> str:
    """The task-relevant sentences of `text`, in their original order, within `budget` tokens."""
    parts = sentences(text)
    if not parts:
        return ""
    vectors = embed([task, *parts])
    relevance = cosine(vectors[:1], vectors[1:])[0]
    kept: list[int] = []
    used = 0
    for i in np.argsort(-relevance, kind="stable"):
        cost = estimate_tokens(parts[i])
        if used + cost > budget:
            continue
        if is_near_duplicate(vectors[1 + i], vectors[[1 + j for j in kept]], DUPLICATE_SIMILARITY):
            continue
        kept.append(int(i))
        used += cost
    return " ".join(parts[i] for i in sorted(kept))


def summarise(payload: SummariseInput) -> dict[str, Any]:
    summary = extractive_summary(payload["task"], payload["text"], payload["budget"])
    return {"summaries": {payload["doc_id"]: summary}}
