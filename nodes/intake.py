"""Intake: normalises the request and resolves its run configuration before any work starts."""

from __future__ import annotations

from typing import Any

from core.review import ReviewPolicy
from core.run_config import DEFAULT_CONFIG, load_config
from core.state import Constraints, RefineState


def _clean_words(words: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for word in words:
        w = " ".join(str(word).split()).lower()
        if w and w not in seen:
            seen[w] = w
    return list(seen)


async def intake(state: RefineState) -> dict[str, Any]:
    """Trim the task, de-duplicate required words, check the configuration name exists."""
    return cleaned(state)


def cleaned(state: RefineState) -> dict[str, Any]:
    """The request as the rest of the graph reads it (raises on an unknown configuration)."""
    name = state.get("config") or DEFAULT_CONFIG
    load_config(name)  # raises UnknownConfigError with the known names
    constraints: Constraints = dict(state.get("constraints") or {})  # type: ignore[assignment]
    if "required_words" in constraints:
        constraints["required_words"] = _clean_words(constraints["required_words"])
    cleaned = {
        "task": state["task"].strip(),
        "constraints": constraints,
        "documents": list(state.get("documents") or []),
        "config": name,
        "priority": state.get("priority") or "normal",
    }
    if state.get("review"):  # fails here, not at the end of the run
        cleaned["review"] = ReviewPolicy.model_validate(state["review"]).model_dump()
    return cleaned
