"""A question over documents, end to end against the stand-in model: a comparison answered from
one document is completed from the other and its conclusion worked out from the values; a part
no document states is declined, never made up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from graph.builder import build_graph
from graph.runner import TaskResult, run_task
from nodes.prompts import recognise
from testkit.fake_openai import FakeOpenAI, cooperative_responder
from testkit.llm import Configure, serve_fake

KESTREL = "Kestrel Freight was founded in 2009 in Tamsk. It runs 84 locomotives."
TOVA = "Tova Labs, a software firm, was founded in 2021 by two engineers."
GARDEN = "The Mirela garden covers 42 hectares on the south bank of the Vess."
DOCUMENTS = [
    {"id": "kestrel", "text": KESTREL},
    {"id": "tova", "text": TOVA},
    {"id": "garden", "text": GARDEN},
]


@pytest.fixture
def fake(llm_settings: Configure) -> Iterator[FakeOpenAI]:
    yield from serve_fake(llm_settings, cooperative_responder)


async def run(fake: FakeOpenAI, task: str) -> tuple[TaskResult, list[str]]:
    since = len(fake.received)
    result = await run_task(build_graph(None), {"task": task, "documents": DOCUMENTS})
    assert result.error is None, result.error
    assert fake.unrecognised == []
    found = [recognise(text) for _, text in fake.received[since:]]
    return result, [k[0] for k in found if k]


async def test_a_comparison_is_completed_from_both_documents(fake: FakeOpenAI) -> None:
    result, sent = await run(fake, "Which was founded first, Kestrel Freight or Tova Labs?")
    assert result.first_draft == "Kestrel Freight was founded in 2009 in Tamsk [kestrel]."
    incomplete = [f for f in result.history[0]["findings"] if f["source"] == "answer"]
    assert incomplete and incomplete[0]["data"][0] == "incomplete"
    # the stand-in's rewrite from the facts states one of them again: the facts are composed
    assert sent == ["draft_grounded", "answer_from_facts"]
    assert result.answer == (
        "Kestrel Freight [kestrel, tova]. Kestrel Freight was founded in 2009 in Tamsk [kestrel]. "
        "Tova Labs, a software firm, was founded in 2021 by two engineers [tova]."
    )
    assert result.stop_reason == "passed"
    assert {"kestrel", "tova"} <= set(result.passages)  # each part found its own document


async def test_a_part_no_document_states_is_declined(fake: FakeOpenAI) -> None:
    result, sent = await run(fake, "Was Tova Labs founded before the Mirela garden opened?")
    answer = result.answer or ""
    assert answer == (
        "Tova Labs, a software firm, was founded in 2021 by two engineers [tova]. "
        "The documents do not say when the Mirela garden opened."  # in no document
    )
    assert not any(f["source"] == "answer" for f in result.history[-1]["findings"])
    assert sent == ["draft_grounded"]  # declining needs no model call


def answers_with(reply: str) -> Any:
    def responder(messages: list[dict[str, Any]]) -> str:
        known = recognise(str(messages[-1]["content"]))
        if known and known[0] == "answer_from_facts":
            return reply
        return cooperative_responder(messages)

    return responder


async def test_a_one_part_question_gets_the_kind_of_answer_it_asks_for(
    fake: FakeOpenAI,
) -> None:
    fake.responder = answers_with("Kestrel Freight runs 84 locomotives [kestrel].")
    result, sent = await run(fake, "How many locomotives does Kestrel Freight run?")
    assert result.first_draft == "Kestrel Freight was founded in 2009 in Tamsk [kestrel]."
    assert sent == ["draft_grounded", "answer_from_facts"]
    assert result.answer == "Kestrel Freight runs 84 locomotives [kestrel]."


async def test_a_repair_that_still_misses_the_question_is_not_kept(fake: FakeOpenAI) -> None:
    fake.responder = answers_with("Kestrel Freight has trains [kestrel].")
    result, sent = await run(fake, "How many locomotives does Kestrel Freight run?")
    assert sent.count("answer_from_facts") == 1  # asked once a run
    assert result.answer == result.first_draft
    last = result.history[-1]["findings"]
    assert [f["data"] for f in last if f["source"] == "answer"] == [["type", "number"]]


async def test_a_wrong_yes_to_a_one_part_question_gives_way_to_what_its_sentence_says(
    fake: FakeOpenAI,
) -> None:
    """The model's repair still says yes where the document says "closed on Tuesdays": the
    answer is composed from that sentence, opening with the no it gives."""
    fake.responder = answers_with("Yes, the Orne Gallery is open on Tuesdays [gallery].")
    gallery = "The Orne Gallery shows maps. It is open Wednesday to Sunday, and closed on Tuesdays."
    since = len(fake.received)
    task = "Is the Orne Gallery open on Tuesdays?"
    result = await run_task(
        build_graph(None),
        {"task": task, "documents": [*DOCUMENTS, {"id": "gallery", "text": gallery}]},
    )
    assert result.error is None, result.error
    sent = [k[0] for _, text in fake.received[since:] if (k := recognise(text))]
    assert sent.count("answer_from_facts") == 1
    assert result.answer == (
        "No [gallery]. The Orne Gallery is open Wednesday to Sunday, and closed on Tuesdays "
        "[gallery]."
    )
    assert not any(f["source"] == "answer" for f in result.history[-1]["findings"])


async def test_a_thing_the_question_describes_is_found_first_then_asked_about(
    fake: FakeOpenAI,
) -> None:
    """The rules read "the town where ... - how many people live there?" as one fact; the
    model's look-ups chain it (the brewery's town, then that town's people), and the answer is
    completed from the second document, which names neither the brewery nor the question's
    words for the town."""
    chain = [
        {"about": "Harwick Brewing", "look_up": "the town where Harwick Brewing is based"},
        {"about": "that town", "look_up": "how many people live in that town"},
    ]

    def responder(messages: list[dict[str, Any]]) -> str:
        known = recognise(str(messages[-1]["content"]))
        if known and known[0] == "split_question":
            return json.dumps({"facts": chain})
        return cooperative_responder(messages)

    fake.responder = responder
    brewery = "Harwick Brewing was set up in 1994. It is based in Selby, by the old canal."
    selby = "Selby is a market town on the Arle. It has 9,400 residents and a weekly market."
    since = len(fake.received)
    result = await run_task(
        build_graph(None),
        {
            "task": "The town where Harwick Brewing is based - how many people live there?",
            "documents": [
                *DOCUMENTS,
                {"id": "brewery", "text": brewery},
                {"id": "selby", "text": selby},
            ],
        },
    )
    assert result.error is None, result.error
    sent = [k[0] for _, text in fake.received[since:] if (k := recognise(text))]
    assert sent[0] == "split_question"
    assert {"brewery", "selby"} <= set(result.passages)
    assert "9,400" in (result.answer or "") and "[selby]" in (result.answer or "")
    assert result.stop_reason == "passed"
