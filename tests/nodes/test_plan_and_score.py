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
        "instructions": [],
        "conflicts": [],
    }


def test_plan_reads_the_requests_instructions_and_drops_the_critic() -> None:
    task = (
        "Describe a harbour at dawn in at most 80 words, all in lowercase, "
        "and end your response with the phrase 'Any questions?'"
    )
    plan = make_plan({"task": task}, CONFIG)
    read = [(i["kind"], i["read_from"]) for i in plan["instructions"]]
    assert read == [
        ("word_count", "at most 80 words"),
        ("all_lowercase", "all in lowercase"),
        ("end_phrase", "end your response with the phrase 'Any questions?'"),
    ]
    assert plan["instructions"][0]["at_most"] == 80
    assert plan["instructions"][2]["phrase"] == "Any questions?"
    assert plan["validators"] == ["repetition", "instructions", "content"]
    assert plan["critic"] is False


def test_plan_merges_given_instructions_with_those_read_and_reports_conflicts() -> None:
    given = [{"kind": "no_commas"}, {"kind": "all_capitals"}]
    task = "Write a poem without commas, all in lowercase."
    plan = make_plan({"task": task, "constraints": {"instructions": given}}, CONFIG)
    assert [(i["kind"], i["read_from"]) for i in plan["instructions"]] == [
        ("no_commas", "given"),
        ("all_capitals", "given"),
        ("all_lowercase", "all in lowercase"),
    ]
    assert plan["conflicts"] == [
        "all_capitals and all_lowercase: all capitals cannot be all lower case or title case"
    ]


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
