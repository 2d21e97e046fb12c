"""The orchestrator: decides which agents a request needs, before any model call."""

from __future__ import annotations

from typing import Any

from core.run_config import RunConfig, load_config
from core.state import Plan, RefineState
from core.text.plain import estimate_tokens


def critic_weight(state: RefineState, config: RunConfig) -> float:
    """The critic's weight for this request: low where validators can check the answer."""
    constraints = state.get("constraints") or {}
    checkable = bool(constraints) or bool(state.get("documents"))
    return config.weights.critic_checkable if checkable else config.weights.critic_free


def make_plan(state: RefineState, config: RunConfig) -> Plan:
    constraints = state.get("constraints") or {}
    documents = state.get("documents") or []
    validators = ["repetition"]
    if constraints.get("required_words"):
        validators.append("required_words")
    if {"max_words", "min_words", "max_sentences"} & constraints.keys():
        validators.append("length")
    if documents:
        validators += ["grounding", "citations"]
    long_docs = [
        d["id"] for d in documents if estimate_tokens(d["text"]) > config.budgets.document_tokens
    ]
    return {
        "retrieve": bool(documents),
        "summarise": long_docs,
        "validators": validators,
        "critic": critic_weight(state, config) > 0,
    }


async def plan(state: RefineState) -> dict[str, Any]:
    return {"plan": make_plan(state, load_config(state["config"]))}
