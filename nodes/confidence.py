"""Confidence scoring: a 0-1 probability that the final answer is right, from the evidence the
run gathered (validator scores, the critic, errors left, whether it passed), by a logistic model
whose coefficients are part of the run configuration and can be refitted from evaluations."""

from __future__ import annotations

import math
from typing import Any

from core.run_config import ConfidenceModel, load_config
from core.state import Finding, RefineState
from core.stopping import stop_reason


def features(state: RefineState) -> dict[str, float]:
    """The evidence behind the best draft, as numbers."""
    history = state.get("history") or []
    best = max(history, key=lambda r: r["score"]) if history else None
    reviews = state.get("reviews") or []
    if reviews and reviews[-1]["action"] == "edit":  # a reviewer's edit is the answer
        best = history[-1]
    components = dict(best["components"]) if best else {}
    critic = components.pop("critic", 0.0)
    findings: list[Finding] = state.get("best_findings") or []
    return {
        "validators": sum(components.values()) / len(components) if components else 0.0,
        "critic": critic,
        "errors": float(sum(1 for f in findings if f["severity"] == "error")),
    }


def probability(evidence: dict[str, float], passed: bool, model: ConfidenceModel) -> float:
    z = (
        model.intercept
        + model.validators * evidence["validators"]
        + model.critic * evidence["critic"]
        + model.errors * evidence["errors"]
        + model.passed * float(passed)
    )
    return round(1.0 / (1.0 + math.exp(-z)), 4)


async def confidence(state: RefineState) -> dict[str, Any]:
    config = load_config(state["config"])
    reason = stop_reason(state, config) or "max_iterations"
    passed = state.get("best_score", 0.0) >= config.score_threshold and not any(
        f["severity"] == "error" for f in state.get("best_findings") or []
    )
    return {
        "confidence": probability(features(state), passed, config.confidence),
        "stop_reason": reason,
    }
