"""Word-shape rules' grammars: which rules have one, and that the embedded model, asked under
one, writes only text that follows the rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.instructions import Instruction, parse_instruction
from core.instructions.grammars import without_letters
from core.llm.factory import complete
from core.llm.local_server import stop_local_server
from core.run_config import RoleModel
from nodes.draft import grammar_of
from nodes.prompts import WRITER
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


def test_a_rule_that_needs_marks_leaves_the_response_without_a_grammar() -> None:
    """An emoji after each sentence, or a JSON answer, cannot be written under a grammar of
    words; the word-shape rule is then asked for in words alone, and the marks can be."""
    shape = spec("no_same_first_letter")
    assert grammar_of([shape]) is not None
    assert grammar_of([spec("emoji_per_sentence"), shape]) is None
    assert grammar_of([shape, spec("json_format")]) is None
    bullets = parse_instruction({"kind": "custom_bullets", "marker": "-"})
    assert grammar_of([bullets, spec("no_same_first_letter")]) is not None


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
