"""A finished run's outcome as every face reports it (CLI result lines, API responses): the
fields both read from the graph's final state in one place."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.usage import TokenUsage

OUTCOME_KEYS = ("answer", "first_draft", "score", "confidence", "iterations", "stop_reason")
"""Final-state keys copied as they are."""


class RunOutcome(BaseModel):
    """What a run produced: the best answer, the first draft, scores and cost."""

    answer: str | None = None
    first_draft: str | None = None
    score: float | None = None
    confidence: float | None = None
    iterations: int | None = None
    stop_reason: str | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    instructions: list[dict[str, Any]] = Field(default_factory=list)
    """The verifiable instructions the run checked (given, and read from the task's words)."""
    failing: list[str] = Field(default_factory=list)
    """The kinds of instruction the answer still does not follow."""
    review: dict[str, Any] | None = Field(None, exclude_if=lambda value: value is None)
    """Set only while the run is paused for a person: what the reviewer is shown (the
    `review` event's payload); `answer` is None until the run is resumed with a decision."""
    reviews: list[dict[str, Any]] = Field(default_factory=list, exclude_if=lambda value: not value)
    """Every review of the run so far (`core.review.review_record`); left out when none."""

    @staticmethod
    def fields_of(state: dict[str, Any]) -> dict[str, Any]:
        """The outcome fields of a final graph state."""
        planned = (state.get("plan") or {}).get("instructions") or []
        findings = state.get("best_findings") or []
        failing = [f["data"][0] for f in findings if f["source"].startswith("instruction:")]
        return {key: state.get(key) for key in OUTCOME_KEYS} | {
            "usage": state.get("usage") or {},
            "instructions": planned,
            "failing": failing,
            "reviews": [dict(r) for r in state.get("reviews") or []],
        }
