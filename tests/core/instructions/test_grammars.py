"""Grammars for word-shape rules and sentence rewordings: which rules have one, and that the
embedded model, asked under one, writes only text that follows the rule or makes the change."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from core.instructions import Instruction, parse_instruction
from core.instructions.grammars import (
    _steps,
    containing,
    ending_with,
    opening,
    without_letters,
)
from core.instructions.shape import edge_words
from core.llm.factory import complete
from core.llm.local_server import stop_local_server
from core.run_config import RoleModel
from nodes.draft import grammar_of
from nodes.prompts import WRITER
from nodes.sentence_changes import has_word
from testkit.llm import Configure

WITH_GRAMMARS = ("alphabet_chain", "no_same_first_letter", "vowel_limit")
GLUED_OR_FILLER = (
    "prime_length_words", "consonant_clusters", "sentence_initials_alphabet", "word_count",
)  # fmt: skip
"""Rules without one: under a grammar the model glued words together or ran into filler (see
`core.instructions.grammars`), or no grammar says the rule."""


def spec(kind: str) -> Instruction:
    return parse_instruction(
        {"kind": kind, "at_least": 10} if kind == "word_count" else {"kind": kind}
    )


def test_only_rules_a_model_writes_readably_under_have_a_grammar() -> None:
    assert all(spec(kind).grammar() for kind in WITH_GRAMMARS)
    assert not any(spec(kind).grammar() for kind in GLUED_OR_FILLER)


def test_the_first_rule_with_a_grammar_gives_the_response_s_grammar() -> None:
    specs = [spec("word_count"), spec("vowel_limit"), spec("alphabet_chain")]
    assert grammar_of(specs) == spec("vowel_limit").grammar()
    assert grammar_of([spec("word_count")]) is None


def test_a_vowel_limit_keeps_the_most_used_vowels() -> None:
    assert parse_instruction({"kind": "vowel_limit", "at_most": 3}).grammar() == without_letters(
        "iu"
    )
    assert without_letters("iu") == "root ::= [^IUiu\\n]+"
    assert parse_instruction({"kind": "vowel_limit", "at_most": 5}).grammar() == (
        "root ::= [^\\n]+"
    )


@pytest.fixture
def embedded(llm_settings: Configure) -> Iterator[None]:
    """The embedded model on one slot, cache off, with a call timeout a slow machine cannot
    hit."""
    stop_local_server()
    llm_settings(llm_timeout_s=600, local_parallel=1, llm_cache=False)
    yield
    stop_local_server()


@pytest.mark.model
@pytest.mark.parametrize("kind", WITH_GRAMMARS)
async def test_the_embedded_model_writes_only_what_the_grammar_allows(
    embedded: None, kind: str
) -> None:
    """Asked in words alone, the 1.5B model breaks these rules in its first few words; under
    the grammar, any reply follows the rule, whole or cut at its cap."""
    rule = spec(kind)
    ask = f"Describe a harbour at dawn in two sentences. {rule.describe()}"
    role = RoleModel(temperature=0.7, max_tokens=40, seed=0)
    [reply], _ = await complete("test", role, [ask], WRITER, grammar=rule.grammar())
    assert len(reply.split()) >= 3, reply
    assert rule.check(reply) is None, reply


SENTENCE = "The harbour was quiet at dawn, and the boats rocked slowly."
REWORDINGS = [
    (containing(["lantern"]), 'it uses the word "lantern"', lambda new: has_word(new, "lantern")),
    (
        containing(["snow", "piano"]),
        'it also uses the words "snow" and "piano"',
        lambda new: has_word(new, "snow") and has_word(new, "piano"),
    ),
    (
        opening("dawn"),
        'it starts with the word "dawn" and still ends with the word "slowly"',
        lambda new: edge_words(new)[0] == "dawn",
    ),
    (ending_with("?"), 'it becomes a question ending with "?"', lambda new: new.endswith("?")),
]


@pytest.mark.model
@pytest.mark.parametrize(("grammar", "change", "done"), REWORDINGS)
async def test_a_sentence_reworded_under_its_change_s_grammar_makes_the_change(
    embedded: None, grammar: str, change: str, done: Callable[[str], bool]
) -> None:
    ask = f'One sentence of a longer text: "{SENTENCE}"\n\nRewrite this sentence so that {change}.'
    role = RoleModel(temperature=0.3, max_tokens=60, seed=0)
    [reply], _ = await complete("test", role, [ask], WRITER, grammar=grammar)
    assert "\n" not in reply and done(reply), reply


def test_the_word_automaton_keeps_the_longest_start_of_the_word_matched() -> None:
    """`containing` lets the word come only where a word ends: its rules step through the
    word's letters as a KMP automaton, so a text that half-writes it and starts again
    ("lanlantern") still reaches it."""
    assert _steps("lantern", 0, "l") == 1 and _steps("lantern", 6, "n") == 7
    assert _steps("lantern", 3, "l") == 1  # "lanl": only the new "l" starts the word again
    assert _steps("abab", 3, "a") == 1 and _steps("abab", 3, "b") == 4
    assert _steps("nana", 3, "n") == 1 and _steps("nana", 2, "n") == 3
    assert "w0s6 ::=" in containing(["lantern"]) and "w1s0" in containing(["snow", "piano"])
