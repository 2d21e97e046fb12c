"""Finalizing: the answer is the best-scoring draft, not the last one (after a reviewer's
edit, the edit); a reviewer's edit or rejection is the run's stop reason."""

from __future__ import annotations

from typing import Any

from core.state import RefineState


async def finalize(state: RefineState) -> dict[str, Any]:
    final = {
        "answer": state["best_draft"],
        "score": state["best_score"],
        "iterations": state.get("iteration", 0),
    }
    reviews = state.get("reviews") or []
    if reviews and reviews[-1]["action"] in REVIEWER_ENDINGS:
        final["stop_reason"] = REVIEWER_ENDINGS[reviews[-1]["action"]]
    return final


REVIEWER_ENDINGS = {"edit": "edited", "reject": "rejected"}
