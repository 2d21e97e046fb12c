"""A person in the loop: `request_review` writes what the reviewer is shown (stamped with the
time it paused), `human_review` pauses on LangGraph's `interrupt` until a reviewer's decision
comes back as `Command(resume=...)` (on any replica, hours later: the pause is in the
checkpoint) and acts on it: approve and reject finish, an edit is scored and becomes the answer,
feedback sends the loop round again with the reviewer's notes as its findings."""

from __future__ import annotations

import time
from typing import Any, Literal

from langgraph.types import Command, interrupt

from core.review import (
    Decision,
    Edit,
    Feedback,
    ReviewDecision,
    ReviewPolicy,
    ReviewRequest,
    review_reason,
    review_record,
)
from core.run_config import RunConfig, load_config
from core.state import Finding, RefineState

REVIEWER = "reviewer"
"""The findings' `source` for a reviewer's notes (the refiner acts on them first)."""


def review_policy(state: RefineState, config: RunConfig) -> ReviewPolicy:
    """The request's own review policy, else the preset's."""
    given = state.get("review")
    return ReviewPolicy.model_validate(given) if given else config.review


def review_due(state: RefineState, config: RunConfig) -> str | None:
    """Why the finished loop's answer goes to a person now, or None (never after an edit:
    the reviewer's own text is final)."""
    reviews = state.get("reviews") or []
    if reviews and reviews[-1]["action"] == "edit":
        return None
    return review_reason(
        review_policy(state, config), state.get("confidence"), state.get("stop_reason")
    )


def edited(state: RefineState) -> bool:
    """Whether the draft under scoring is a reviewer's edit (it is final once scored)."""
    reviews = state.get("reviews") or []
    return bool(reviews) and reviews[-1]["action"] == "edit"


async def request_review(state: RefineState) -> dict[str, Any]:
    """The reviewer's view of the answer: best draft, score, findings, confidence, scores."""
    history = state.get("history") or []
    request = ReviewRequest(
        round=len(state.get("reviews") or []) + 1,
        why=review_due(state, load_config(state["config"])) or "asked for",
        draft=state["best_draft"],
        score=state["best_score"],
        confidence=state.get("confidence"),
        findings=list(state.get("best_findings") or []),
        stop_reason=state.get("stop_reason"),
        iteration=state.get("iteration", 0),
        scores=[h["score"] for h in history],
        requested_at=round(time.time(), 3),
    )
    return {"review_request": request.model_dump(mode="json")}


def _checks(state: RefineState) -> list[str]:
    return ["validate", "critique"] if state["plan"]["critic"] else ["validate"]


async def human_review(
    state: RefineState,
) -> Command[Literal["finalize", "refine", "validate", "critique"]]:
    """Pause for the reviewer's decision (validated by `interrupt` itself: an invalid one
    saves nothing, so the pause can be answered again), then act on it."""
    request = ReviewRequest.model_validate(state["review_request"])
    answer = interrupt(request.model_dump(mode="json"), response_schema=ReviewDecision)
    decision: Decision = answer.root
    record = review_record(request, decision, time.time())
    update: dict[str, Any] = {"reviews": [*(state.get("reviews") or []), record]}
    if isinstance(decision, Edit):
        # The edit is scored like any draft and becomes the best (so the answer) whatever its
        # score: a person wrote it.
        update |= {
            "draft": decision.text,
            "iteration": state.get("iteration", 0) + 1,
            "best_score": None,
        }
        return Command(update=update, goto=_checks(state))
    if isinstance(decision, Feedback):
        notes: list[Finding] = [
            {"source": REVIEWER, "severity": "error", "message": note} for note in decision.notes()
        ]
        findings = notes + list(state.get("best_findings") or [])
        # The reviewed draft is known to fall short: the next scored draft replaces it.
        update |= {"best_findings": findings, "best_score": None, "stale": 0}
        return Command(update=update, goto="refine")
    return Command(update=update, goto="finalize")
