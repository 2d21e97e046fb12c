"""What the draft and refine nodes keep of a model's text."""

from __future__ import annotations

from typing import Any

from core.instructions import parse_instruction
from core.run_config import load_config
from nodes import prompts
from nodes.draft import (
    draft_role,
    draft_sentences,
    one_pass_messages,
    plan_lines,
    tidy,
    word_plan,
    words_wanted,
)


def test_tidy_writes_citations_of_the_requests_documents_in_one_form() -> None:
    state: Any = {"documents": [{"id": "kestrel-pay", "text": "..."}]}
    reply = 'A night shift carries 15 percent [document id="kestrel-pay"]. See [1].'
    assert tidy(reply, state) == "A night shift carries 15 percent [kestrel-pay]. See [1]."
    assert tidy(reply, {"documents": []}) == reply  # type: ignore[typeddict-item]


def test_tidy_folds_a_sentence_that_only_names_the_source() -> None:
    state: Any = {"documents": [{"id": "kestrel-pay", "text": "..."}]}
    reply = "Drivers get 15 percent. This information is found in document [kestrel-pay]."
    assert tidy(reply, state) == "Drivers get 15 percent [kestrel-pay]."


def test_the_word_plan_deals_every_word_once_in_order_a_few_to_a_sentence() -> None:
    words = [f"w{i}" for i in range(30)]
    plan = word_plan(words)
    assert [w for group in plan for w in group] == words
    assert len(plan) == draft_sentences(words) and {len(g) for g in plan} == {3, 4}
    assert [len(g) for g in word_plan(words[:6])] == [2, 1, 1, 2]  # four sentences, evened out
    assert word_plan(["dog", "snow"]) == [["dog"], ["snow"]]
    assert plan_lines([["dog", "snow"], ["piano"]]) == "Sentence 1: dog, snow\nSentence 2: piano"


def test_the_draft_cap_holds_what_the_instructions_need() -> None:
    def state(*instructions: dict[str, Any]) -> Any:
        return {
            "task": "t",
            "config": "refine_default",
            "plan": {"instructions": list(instructions)},
        }

    config = load_config("refine_default")
    assert draft_role(state(), config).max_tokens == config.roles.draft.max_tokens
    late = {"kind": "keyword_in_sentence", "keyword": "migratory", "sentence": 28}
    assert words_wanted(parse_instruction(late)) == 28 * 18
    assert draft_role(state(late), config).max_tokens == int(28 * 18 * 1.4) + 60
    assert draft_role(state({"kind": "word_count", "at_least": 2000}), config).max_tokens == 1024
    assert words_wanted(parse_instruction({"kind": "no_commas"})) == 0
    alphabet = parse_instruction({"kind": "sentence_initials_alphabet"})
    assert words_wanted(alphabet) == 26 * 18  # a rule's own length need


def _user(messages: list[dict[str, str]] | None) -> str:
    assert messages is not None
    system, user = messages
    assert system == {"role": "system", "content": prompts.WRITER}
    assert user["role"] == "user"
    return user["content"]


def test_the_one_pass_messages_are_the_drafters_for_words_and_for_instructions_read_by_rules() -> (
    None
):
    words = ["Dog", "snow", "dog", "window", "scarf"]
    task = "Write a short story using dog, snow, window and scarf."
    prompt = _user(
        one_pass_messages({"task": f"  {task} ", "constraints": {"required_words": words}})
    )
    # intake's cleaning (trimmed, words de-duplicated), then the word plan of the drafter
    plan = word_plan(["dog", "snow", "window", "scarf"])
    assert prompt == prompts.DRAFT_WORDS.format(
        task="Write a short story using the words given.",
        sentences=len(plan),
        plan=plan_lines(plan),
    )
    ruled = _user(one_pass_messages({"task": "Describe rain in all lowercase, with no commas."}))
    assert ruled.startswith("Describe rain in all lowercase, with no commas.")
    assert "1. Write the entire answer in lower case" in ruled
    assert "2. Do not use any commas." in ruled
    free = _user(one_pass_messages({"task": "Name three rivers."}))
    assert free == prompts.DRAFT_FREE.format(task="Name three rivers.")


def test_a_grounded_request_has_no_one_pass_messages_of_its_own() -> None:
    request = {
        "task": "When did it open?",
        "documents": [{"id": "d1", "text": "It opened in 1990."}],
    }
    assert one_pass_messages(request) is None
