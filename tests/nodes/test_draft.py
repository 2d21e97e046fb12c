"""What the draft and refine nodes keep of a model's text."""

from __future__ import annotations

from typing import Any

from nodes.draft import draft_prompt, plan_lines, tidy


def test_tidy_writes_citations_of_the_requests_documents_in_one_form() -> None:
    state: Any = {"documents": [{"id": "kestrel-pay", "text": "..."}]}
    reply = 'A night shift carries 15 percent [document id="kestrel-pay"]. See [1].'
    assert tidy(reply, state) == "A night shift carries 15 percent [kestrel-pay]. See [1]."
    assert tidy(reply, {"documents": []}) == reply  # type: ignore[typeddict-item]


def test_tidy_folds_a_sentence_that_only_names_the_source() -> None:
    state: Any = {"documents": [{"id": "kestrel-pay", "text": "..."}]}
    reply = "Drivers get 15 percent. This information is found in document [kestrel-pay]."
    assert tidy(reply, state) == "Drivers get 15 percent [kestrel-pay]."


def test_a_word_draft_is_asked_for_the_plans_groups_a_sentence_each() -> None:
    state: Any = {
        "task": "Write a story that uses all of these concepts: dog, snow, piano.",
        "config": "refine_default",
        "constraints": {"required_words": ["dog", "snow", "piano"]},
        "plan": {"word_groups": [["snow"], ["dog", "piano"]]},
    }
    ask = draft_prompt(state)
    assert "Sentence 1: snow\nSentence 2: dog, piano" in ask
    assert "dog, snow, piano" not in ask  # the task's own list is named, not said twice
    assert plan_lines([["dog", "snow"], ["piano"]]) == "Sentence 1: dog, snow\nSentence 2: piano"
