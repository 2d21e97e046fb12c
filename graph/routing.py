"""Routers: pure functions of the state that pick the next node.

They are `async def` although they never await: LangGraph runs a plain function of an async
graph in its thread pool, and a thread hop costs more than the routing itself."""

from __future__ import annotations

from typing import Literal

from langgraph.types import Send

from core.run_config import load_config
from core.state import RefineState
from core.stopping import stop_reason
from nodes.review import edited, review_due


async def after_score(state: RefineState) -> Literal["refine", "confidence"]:
    """Refine again unless the draft passed, the budget is spent or the score plateaued (or it
    is a reviewer's edit, which is final once scored)."""
    if edited(state):
        return "confidence"
    return "confidence" if stop_reason(state, load_config(state["config"])) else "refine"


async def after_confidence(state: RefineState) -> Literal["request_review", "finalize"]:
    """To a person when the run's review policy asks for one now; else straight to the end."""
    due = review_due(state, load_config(state["config"]))
    return "request_review" if due else "finalize"


async def to_checks(state: RefineState) -> list[str]:
    """After a draft: the validators, and the critic in parallel when the plan gives it weight."""
    return ["validate", "critique"] if state["plan"]["critic"] else ["validate"]


async def after_plan(state: RefineState) -> list[Send] | Literal["draft"]:
    """Retrieval and one summariser per long document, in parallel; else straight to drafting."""
    plan = state["plan"]
    if not plan["retrieve"]:
        return "draft"
    config = load_config(state["config"])
    documents = {d["id"]: d["text"] for d in state.get("documents") or []}
    sends = [Send("retrieve", state)]
    sends += [
        Send(
            "summarise",
            {
                "task": state["task"],
                "doc_id": doc_id,
                "text": documents[doc_id],
                "budget": config.budgets.document_tokens,
            },
        )
        for doc_id in plan["summarise"]
    ]
    return sends
