"""The model's reading of instructions the rules missed: only offered kinds, grounded in the
request, and of a kind the request names."""

from __future__ import annotations

import json

from core.instructions.extract import extract
from nodes.read_instructions import candidate_kinds, named, read_reply, uncovered

HIGHLIGHT = "Highlight at least two key phrases by wrapping each in single asterisks, like *this*."


def reply(*items: dict[str, object]) -> str:
    return json.dumps({"instructions": list(items)})


def test_a_kind_the_request_never_names_is_a_guess_and_is_dropped() -> None:
    kinds = ["two_responses", "sentences_then_bullets", "highlighted_sections"]
    got = read_reply(
        reply({"kind": "two_responses"}, {"kind": "sentences_then_bullets"},
              {"kind": "highlighted_sections", "at_least": 2}),
        kinds, HIGHLIGHT, [HIGHLIGHT],
    )  # fmt: skip
    assert [item["kind"] for item in got] == ["highlighted_sections"]


def test_names_are_matched_by_stem_and_numbers_do_not_count() -> None:
    assert named("bullet_count", ["Lay it out as three bulleted items."])
    assert not named("two_responses", ["Give two tips."])  # "two" names nothing
    assert named("two_responses", ["Give two different responses."])


def test_a_value_the_request_does_not_say_is_dropped() -> None:
    task = "Make sure the answer is laid out as three bulleted items."
    kinds = ["bullet_count"]
    assert read_reply(reply({"kind": "bullet_count", "exactly": 4}), kinds, task, [task]) == []
    [kept] = read_reply(reply({"kind": "bullet_count", "exactly": 3}), kinds, task, [task])
    assert kept["exactly"] == 3


def test_only_instruction_like_sentences_no_rule_read_are_offered() -> None:
    task = f"Tell me about study habits. {HIGHLIGHT}"
    assert uncovered(task, []) == [HIGHLIGHT]
    assert "highlighted_sections" in candidate_kinds([HIGHLIGHT])


def test_a_sentence_a_rule_read_in_part_is_not_offered_again() -> None:
    """The rule's words "four parts. Start each part with the word Section" run over two
    sentences; the second, with more words after them, was offered to the model, which read a
    second section count from it (ifeval-k45)."""
    task = (
        "Create an agenda with four parts. Start each part with the word Section and its number, "
        "e.g. Section 1. Leave square-bracket placeholders such as [time] for at least three of "
        "the details."
    )
    read = extract(task)
    assert {e.instruction.kind for e in read} == {"sections", "placeholders"}
    assert uncovered(task, read) == []
