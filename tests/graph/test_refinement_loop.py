"""The whole refinement loop on a fake model that speaks the OpenAI protocol on loopback:
drafting, parallel validation and critique, refinement in small pieces, stop reasons, the best
draft kept, usage and history recorded, summarisers sent in parallel for long documents."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from core.text.lexicon import coverage
from graph.builder import build_graph
from graph.runner import run_task
from testkit.fake_openai import FakeOpenAI, cooperative_responder
from testkit.llm import Configure, serve_fake

WORDS = ["dog", "snow", "piano", "wine", "rink", "mother", "counter", "tool", "circle"]
CONSTRAINED = {"task": "Write a short text.", "constraints": {"required_words": WORDS}}


def half_draft(messages: list[dict[str, Any]]) -> str:
    """A weak drafter: uses four of the required words; sub-tasks work."""
    prompt = str(messages[-1]["content"])
    if "each using its words" in prompt:
        return "The dog ran in the snow. The mother played the piano. Then they went home."
    return cooperative_responder(messages)


@pytest.fixture
def fake(llm_settings: Configure) -> Iterator[FakeOpenAI]:
    yield from serve_fake(llm_settings, half_draft)


async def test_refinement_covers_every_word_and_passes(fake: FakeOpenAI) -> None:
    graph = build_graph(InMemorySaver())
    result = await run_task(graph, CONSTRAINED)
    assert result.error is None
    assert coverage(result.first_draft or "", WORDS) == pytest.approx(4 / 9)
    assert coverage(result.answer or "", WORDS) == 1.0
    assert result.stop_reason == "passed"
    assert result.iterations == 1
    assert [h["iteration"] for h in result.history] == [0, 1]
    assert result.history[0]["findings"][0]["data"] == ["wine", "rink", "counter", "tool", "circle"]
    assert result.usage.by_node.keys() == {"draft", "refine"}
    # one draft; the five missing words in three groups (two pairs and the fifth), each
    # reworded into one of its three sentences
    assert result.usage.calls == 1 + 3
    assert result.answer.startswith("The dog ran in the snow with the")  # woven in place
    assert 0.5 < (result.confidence or 0) <= 1


async def test_single_pass_never_refines(fake: FakeOpenAI) -> None:
    result = await run_task(build_graph(None), CONSTRAINED, config_name="single_pass")
    assert result.stop_reason == "max_iterations"
    assert result.iterations == 0
    assert result.answer == result.first_draft
    assert fake.served == 1


async def test_a_worse_refinement_is_not_the_answer(llm_settings: Configure) -> None:
    """Sub-tasks that only repeat the text never replace the better first draft."""

    def stubborn(messages: list[dict[str, Any]]) -> str:
        return "The dog ran in the snow. The mother played the piano. Then they went home."

    server = FakeOpenAI(responder=stubborn).serve()
    try:
        llm_settings(openai_base_url=server.base_url, llm_cache=False)
        result = await run_task(build_graph(None), CONSTRAINED)
    finally:
        server.stop()
    assert result.stop_reason == "plateau"
    assert result.answer == result.first_draft
    assert len(result.history) == 1 + 2  # the plateau patience of refine_default


async def test_grounded_request_retrieves_and_summarises_in_parallel(fake: FakeOpenAI) -> None:
    long_text = " ".join(f"Filler sentence number {i} about other matters." for i in range(200))
    request = {
        "task": "How many locomotives are battery-electric?",
        "documents": [
            {"id": "fleet", "text": "It runs 84 locomotives, of which 31 are battery-electric."},
            {"id": "garden", "text": "The garden covers 42 hectares."},
            {"id": "long", "text": long_text + " Locomotives are inspected every 21 days."},
        ],
    }
    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "grounded"}}
    steps = [list(u) async for u in graph.astream(request, config, stream_mode="updates")]
    flat = [node for step in steps for node in step]
    assert flat.index("retrieve") < flat.index("draft")
    assert flat.index("summarise") < flat.index("draft")
    state = (await graph.aget_state(config)).values
    assert state["passages"][0]["doc_id"] == "fleet"
    assert set(state["summaries"]) == {"long"}
    assert len(state["summaries"]["long"]) < len(long_text) / 4
    assert re.search(r"\[fleet\]", state["answer"])
    assert state["stop_reason"] == "passed"


async def test_the_critic_runs_beside_the_validators_only_where_it_has_weight(
    fake: FakeOpenAI,
) -> None:
    """A checkable request (critic weight 0) runs no critique node; an open request runs the
    critic in the same superstep as the validators, and each draft is scored once."""
    graph = build_graph(InMemorySaver())

    async def steps(request: dict[str, Any], thread: str) -> list[set[str]]:
        """The nodes of each superstep, in order."""
        config = {"configurable": {"thread_id": thread}}
        by_step: dict[int, set[str]] = {}
        async for event in graph.astream(request, config, stream_mode="debug"):
            if event["type"] == "task":
                by_step.setdefault(event["step"], set()).add(event["payload"]["name"])
        return [by_step[step] for step in sorted(by_step)]

    checked = await steps(CONSTRAINED, "checked")
    assert not any("critique" in step for step in checked)
    assert sum("score" in step for step in checked) == 2  # the draft and one refinement

    open_ended = await steps({"task": "Write a haiku about the sea."}, "open")
    assert {"validate", "critique"} in open_ended, "the critic runs beside the validators"
    scored = [i for i, step in enumerate(open_ended) if "score" in step]
    assert scored and all(open_ended[i - 1] == {"validate", "critique"} for i in scored)


async def test_a_run_past_its_deadline_stops_with_an_error_and_keeps_its_checkpoint(
    llm_settings: Configure,
) -> None:
    server = FakeOpenAI(faults={2: "hang"}).serve()  # the first refinement call never answers
    try:
        llm_settings(openai_base_url=server.base_url, llm_cache=False, run_deadline_s=2)
        graph = build_graph(InMemorySaver())
        request = {"task": "Write.", "constraints": {"required_words": ["dog", "snow", "lamp"]}}
        result = await run_task(graph, request)
        assert result.error is not None and result.error.startswith("DeadlineExceeded: ")
        assert "deadline of 2 s" in result.error
        state = await graph.aget_state({"configurable": {"thread_id": result.thread_id}})
        assert state.values["first_draft"]  # the draft before the hung call was checkpointed
    finally:
        server.stop()
