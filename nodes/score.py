"""Scoring: joins the validators' and the critic's verdicts into one score in [0, 1], keeps the
best draft so far (self-correction can make an answer worse), and records the iteration."""

from __future__ import annotations

from typing import Any

from core.run_config import RunConfig, load_config
from core.state import Critique, Finding, IterationRecord, RefineState, Validation
from nodes.plan import critic_weight


def combine(
    validation: Validation, critique: Critique | None, weight_of_critic: float, config: RunConfig
) -> tuple[float, dict[str, float]]:
    """The weighted mean of every component's score, and the components themselves."""
    weights = config.weights.model_dump()
    components = dict(validation["scores"])
    pairs = [(score, weights.get(name, 1.0)) for name, score in components.items()]
    if critique is not None:
        components["critic"] = critique["score"] / 10.0
        pairs.append((components["critic"], weight_of_critic))
    total = sum(w for _, w in pairs)
    combined = sum(s * w for s, w in pairs) / total if total else 1.0
    return round(combined, 4), components


def critic_findings(critique: Critique | None) -> list[Finding]:
    if not critique:
        return []
    return [
        {"source": "critic", "severity": "warning", "message": item}
        for item in critique["feedback"]
    ]


async def score(state: RefineState) -> dict[str, Any]:
    config = load_config(state["config"])
    critique = state.get("critique")
    combined, components = combine(
        state["validation"], critique, critic_weight(state, config), config
    )
    findings = state["validation"]["findings"] + critic_findings(critique)
    iteration = state.get("iteration", 0)
    record: IterationRecord = {
        "iteration": iteration,
        "draft": state["draft"],
        "score": combined,
        "components": components,
        "findings": findings,
    }
    update: dict[str, Any] = {"score": combined, "findings": findings, "history": [record]}
    best = state.get("best_score")
    if best is None or combined > best:
        update |= {"best_draft": state["draft"], "best_score": combined, "best_findings": findings}
    improved = best is None or combined >= best + config.min_improvement
    update["stale"] = 0 if improved else state.get("stale", 0) + 1
    return update
