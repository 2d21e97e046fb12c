"""Assembles the retrieved context for a prompt: passages best first, long documents replaced
by their summaries, cut at the context token budget."""

from __future__ import annotations

from core.run_config import RunConfig
from core.state import RefineState
from core.text.plain import estimate_tokens
from nodes.prompts import document_block


def context_passages(state: RefineState, config: RunConfig) -> list[tuple[str, str]]:
    """(doc_id, text) pairs that fit the context budget."""
    summaries = state.get("summaries") or {}
    chosen: list[tuple[str, str]] = []
    used = 0
    for passage in state.get("passages") or []:
        text = summaries.get(passage["doc_id"]) or passage["text"]
        cost = estimate_tokens(text)
        if chosen and used + cost > config.budgets.context_tokens:
            break
        chosen.append((passage["doc_id"], text))
        used += cost
    return chosen


def context_block(state: RefineState, config: RunConfig) -> str:
    return "\n".join(document_block(i, t) for i, t in context_passages(state, config))
