"""Review points in the graph, on the fake model: a run pauses on LangGraph's `interrupt` where
its review policy asks (never by default), and `Command(resume=...)` with each reviewer action
finishes it (approve, edit, reject) or sends the loop round again (feedback)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import ValidationError

from core.review import preference_pairs
from graph.builder import build_graph
from graph.runner import run_task
from testkit.fake_openai import FakeOpenAI, cooperative_responder
from testkit.llm import Configure, serve_fake

WORDS = ["dog", "snow", "piano", "wine"]
REQUEST: dict[str, Any] = {"task": "Write a short text.", "constraints": {"required_words": WORDS}}


@pytest.fixture
def fake(llm_settings: Configure) -> Iterator[FakeOpenAI]:
    yield from serve_fake(llm_settings, cooperative_responder)


def reviewed(when: str = "always", **policy: Any) -> dict[str, Any]:
    return REQUEST | {"review": {"when": when, **policy}}


async def test_review_off_runs_as_before_and_says_nothing_of_reviews(fake: FakeOpenAI) -> None:
    graph = build_graph(InMemorySaver())
    plain = await run_task(graph, REQUEST)
    never = await run_task(graph, reviewed("never"))
    assert plain.review is None and plain.reviews == []
    assert "review" not in plain.model_dump() and "reviews" not in plain.model_dump()
    assert (never.answer, never.stop_reason, never.score) == (
        plain.answer,
        plain.stop_reason,
        plain.score,
    )
    nodes = [
        s.next for s in graph.get_state_history({"configurable": {"thread_id": plain.thread_id}})
    ]
    assert all("request_review" not in n and "human_review" not in n for n in nodes)


async def test_a_paused_run_shows_the_reviewer_what_they_need(fake: FakeOpenAI) -> None:
    graph = build_graph(InMemorySaver())
    paused = await run_task(graph, reviewed())
    assert paused.answer is None and paused.error is None
    review = paused.review
    assert review is not None
    best = max(paused.history, key=lambda h: h["score"])
    assert review["draft"] == best["draft"]
    assert review["score"] == max(h["score"] for h in paused.history)
    assert review["scores"] == [h["score"] for h in paused.history]
    assert review["confidence"] == paused.confidence
    assert review["round"] == 1 and review["why"].startswith("every answer is reviewed")
    assert review["actions"] == ["approve", "edit", "feedback", "reject"]
    state = await graph.aget_state({"configurable": {"thread_id": paused.thread_id}})
    [pending] = state.interrupts
    assert pending.id == review["review_id"]
    assert pending.value["draft"] == review["draft"]


async def test_approve_finishes_with_the_draft_shown(fake: FakeOpenAI) -> None:
    graph = build_graph(InMemorySaver())
    paused = await run_task(graph, reviewed())
    done = await run_task(
        graph, None, thread_id=paused.thread_id, review={"action": "approve", "comment": "fine"}
    )
    assert done.review is None
    assert done.answer == paused.review["draft"]
    assert done.stop_reason == paused.stop_reason
    [record] = done.reviews
    assert record["action"] == "approve" and record["comment"] == "fine"
    assert record["draft"] == paused.review["draft"]
    assert record["waited_s"] == pytest.approx(
        record["decided_at"] - record["requested_at"], abs=1e-3
    )


async def test_an_edit_is_scored_and_becomes_the_answer(fake: FakeOpenAI) -> None:
    graph = build_graph(InMemorySaver())
    paused = await run_task(graph, reviewed())
    edit = "The dog ran through the snow. Later it heard the piano and smelled the wine."
    done = await run_task(
        graph, None, thread_id=paused.thread_id, review={"action": "edit", "text": edit}
    )
    assert done.answer == edit
    assert done.stop_reason == "edited"
    assert done.history[-1]["draft"] == edit
    assert done.score == done.history[-1]["score"]
    assert done.iterations == paused.history[-1]["iteration"] + 1
    [record] = done.reviews
    assert record["corrected"] == edit and record["draft"] == paused.review["draft"]
    assert record["diff"] and all(
        d["op"] in {"replace", "insert", "delete"} for d in record["diff"]
    )
    assert preference_pairs(REQUEST["task"], done.reviews) == [
        {
            "prompt": REQUEST["task"],
            "chosen": edit,
            "rejected": paused.review["draft"],
            "kind": "edit",
            "round": 1,
        }
    ]


async def test_an_edit_that_scores_worse_is_still_the_answer(fake: FakeOpenAI) -> None:
    graph = build_graph(InMemorySaver())
    paused = await run_task(graph, reviewed())
    done = await run_task(
        graph, None, thread_id=paused.thread_id, review={"action": "edit", "text": "No."}
    )
    assert done.answer == "No."
    assert done.score is not None and done.score < paused.review["score"]


async def test_feedback_runs_the_loop_again_with_the_notes_and_pauses_again(
    fake: FakeOpenAI,
) -> None:
    graph = build_graph(InMemorySaver())
    paused = await run_task(graph, reviewed())
    note = 'Add the sentence "The dog slept by the piano."'
    again = await run_task(
        graph,
        None,
        thread_id=paused.thread_id,
        review={"action": "feedback", "text": "Give it an ending.", "changes": [note]},
    )
    rewrites = [text for _, text in fake.received if "A reviewer asked for these changes" in text]
    assert rewrites and note in rewrites[-1] and "Give it an ending." in rewrites[-1]
    assert again.review is not None and again.review["round"] == 2
    assert again.review["draft"].endswith("The dog slept by the piano.")
    assert len(again.history) == len(paused.history) + 1
    done = await run_task(graph, None, thread_id=paused.thread_id, review={"action": "approve"})
    assert done.answer == again.review["draft"]
    assert [r["action"] for r in done.reviews] == ["feedback", "approve"]
    assert done.reviews[0]["notes"] == ["Give it an ending.", note]
    [pair] = preference_pairs(REQUEST["task"], done.reviews)
    assert (pair["kind"], pair["rejected"], pair["chosen"]) == (
        "feedback",
        paused.review["draft"],
        done.answer,
    )


async def test_reject_finishes_saying_so(fake: FakeOpenAI) -> None:
    graph = build_graph(InMemorySaver())
    paused = await run_task(graph, reviewed())
    done = await run_task(
        graph, None, thread_id=paused.thread_id, review={"action": "reject", "reason": "off topic"}
    )
    assert done.stop_reason == "rejected"
    assert done.reviews[0]["reason"] == "off topic"
    assert preference_pairs(REQUEST["task"], done.reviews) == []


async def test_an_invalid_decision_saves_nothing_and_the_pause_can_be_answered(
    fake: FakeOpenAI,
) -> None:
    graph = build_graph(InMemorySaver())
    paused = await run_task(graph, reviewed())
    config = {"configurable": {"thread_id": paused.thread_id}}
    with pytest.raises(ValidationError, match="feedback needs"):
        await graph.ainvoke(Command(resume={"action": "feedback"}), config)
    state = await graph.aget_state(config)
    assert [i.id for i in state.interrupts] == [paused.review["review_id"]]
    done = await run_task(graph, None, thread_id=paused.thread_id, review={"action": "approve"})
    assert done.answer == paused.review["draft"]


async def test_uncertain_reviews_only_a_doubtful_answer(fake: FakeOpenAI) -> None:
    graph = build_graph(InMemorySaver())
    sure = await run_task(graph, reviewed("uncertain", confidence_below=0.0))
    assert sure.stop_reason == "passed" and sure.review is None and sure.answer
    doubtful = await run_task(graph, reviewed("uncertain", confidence_below=1.0))
    assert doubtful.review is not None and doubtful.answer is None
    assert doubtful.review["why"] == (f"confidence {doubtful.confidence:.2f} is under 1.00")
    stopped = await run_task(graph, reviewed("uncertain"), config_name="single_pass")
    assert stopped.review is not None
    assert stopped.review["why"] == "the loop stopped without passing (max_iterations)"


async def test_a_preset_can_ask_for_review(
    fake: FakeOpenAI, tmp_path, llm_settings: Configure
) -> None:
    (tmp_path / "reviewed.json").write_text('{"review": {"when": "always"}}')
    llm_settings(presets_dir=str(tmp_path))
    from core.run_config import load_config

    load_config.cache_clear()
    try:
        paused = await run_task(build_graph(InMemorySaver()), REQUEST, config_name="reviewed")
    finally:
        load_config.cache_clear()
    assert paused.review is not None and paused.answer is None


def test_a_default_review_policy_keeps_every_preset_fingerprint() -> None:
    from core.review import ReviewPolicy
    from core.run_config import RunConfig

    plain = RunConfig()
    assert plain.fingerprint() == RunConfig(review=ReviewPolicy(when="never")).fingerprint()
    assert plain.fingerprint() != RunConfig(review=ReviewPolicy(when="always")).fingerprint()
