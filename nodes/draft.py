"""Drafting: one strong prompt that writes the first answer (the single-pass baseline)."""

from __future__ import annotations

from typing import Any

from core.llm.factory import complete
from core.run_config import load_config
from core.state import RefineState
from core.text.citations import canonical_citations, fold_source_sentences
from core.text.plain import whole_sentences
from nodes import prompts
from nodes.context import context_block


def constraint_notes(state: RefineState) -> str:
    constraints = state.get("constraints") or {}
    return " ".join(
        note.format(value=constraints[key])  # type: ignore[literal-required]
        for key, note in prompts.CONSTRAINT_NOTES.items()
        if key in constraints
    )


def tidy(text: str, state: RefineState) -> str:
    """A model's text as the graph keeps it: citations of the request's documents in one form,
    a sentence that only names the source folded into the one it sources."""
    known = {d["id"] for d in state.get("documents") or []}
    return fold_source_sentences(canonical_citations(text, known), known)


def draft_prompt(state: RefineState) -> str:
    config = load_config(state["config"])
    words = (state.get("constraints") or {}).get("required_words") or []
    if state.get("passages"):
        prompt = prompts.DRAFT_GROUNDED.format(
            context=context_block(state, config),
            task=state["task"],
            example_id=state["passages"][0]["doc_id"],  # a real id: a placeholder gets echoed
        )
    elif words:
        sentences = max(2, min(8, (len(words) + 3) // 4))
        prompt = prompts.DRAFT_WORDS.format(
            task=state["task"], sentences=sentences, words=", ".join(words)
        )
    else:
        prompt = prompts.DRAFT_FREE.format(task=state["task"])
    notes = constraint_notes(state)
    return f"{prompt}\n{notes}" if notes else prompt


async def draft(state: RefineState) -> dict[str, Any]:
    config = load_config(state["config"])
    ask = draft_prompt(state)
    [reply], usage = await complete("draft", config.roles.draft, [ask], prompts.system_for(ask))
    text = tidy(whole_sentences(reply), state)  # cut at its cap: ends on its last full sentence
    return {
        "draft": text,
        "first_draft": text,
        "iteration": 0,
        "usage": usage,
    }
