"""Finalizing: the answer is the best-scoring draft, not the last one."""

from __future__ import annotations

from typing import Any

from core.state import RefineState


async def finalize(state: RefineState) -> dict[str, Any]:
    return {
        "answer": state["best_draft"],
        "score": state["best_score"],
        "iterations": state.get("iteration", 0),
    }
