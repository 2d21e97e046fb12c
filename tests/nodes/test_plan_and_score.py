"""The orchestrator's plan, the score combination and the stopping rule."""

from __future__ import annotations

from typing import Any

from core.run_config import load_config
from core.stopping import stop_reason
from nodes.plan import make_plan
from nodes.score import combine, score

CONFIG = load_config("refine_default")


def test_plan_for_constrained_task_skips_critic_and_retrieval() -> None:
    plan = make_plan({"task": "t", "constraints": {"required_words": ["a"]}}, CONFIG)
    assert plan == {
        "retrieve": False,
        "summarise": [],
        "critic": False,
        "validators": ["repetition", "required_words"],
    }


def test_plan_for_grounded_task_retrieves_and_summarises_long_documents() -> None:
    docs = [{"id": "short", "text": "tiny"}, {"id": "long", "text": "word " * 2000}]
    plan = make_plan({"task": "t", "documents": docs}, CONFIG)
    assert plan["retrieve"] and plan["summarise"] == ["long"]
    assert {"grounding", "citations"} <= set(plan["validators"])


def test_plan_for_free_task_uses_the_critic() -> None:
    assert make_plan({"task": "write a poem"}, CONFIG)["critic"] is True


def test_combine_weights_the_critic() -> None:
    validation = {"scores": {"required_words": 0.5}, "findings": []}
    critique = {"score": 10.0, "feedback": [], "parsed": True}
    assert combine(validation, critique, 0.0, CONFIG)[0] == 0.5
    assert combine(validation, critique, 1.0, CONFIG)[0] == 0.75


async def _scored(prev: dict[str, Any], value: float, draft: str) -> dict[str, Any]:
    state = {
        "task": "t",
        "config": "refine_default",
        "constraints": {"required_words": ["x"]},
        "draft": draft,
        "validation": {"scores": {"required_words": value}, "findings": []},
        "critique": None,
        **prev,
    }
    return {**state, **(await score(state))}


async def test_score_keeps_the_best_draft_and_counts_stale_rounds() -> None:
    s = await _scored({}, 0.8, "good")
    s = await _scored({**s, "history": []}, 0.5, "worse")
    assert s["best_draft"] == "good"
    assert s["stale"] == 1


def test_stop_reasons() -> None:
    base = {"config": "refine_default", "findings": []}
    assert stop_reason({**base, "score": 0.99, "iteration": 0}, CONFIG) == "passed"
    errors = [{"source": "x", "severity": "error", "message": "m"}]
    assert stop_reason({**base, "score": 0.99, "findings": errors, "iteration": 0}, CONFIG) is None
    assert stop_reason({**base, "score": 0.5, "iteration": 4}, CONFIG) == "max_iterations"
    assert stop_reason({**base, "score": 0.5, "iteration": 1, "stale": 2}, CONFIG) == "plateau"
