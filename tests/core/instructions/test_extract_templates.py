"""The extractor reads each benchmark's own wording of its instructions: the descriptions
if-verifiable's instruction classes generate (random values, seeded), for every IFEval kind
and every IFBench kind the library checks. The ids map to kinds here, in the test: the engine
never sees them."""

from __future__ import annotations

import random
import re

import pytest

from core.instructions.extract import extract
from evals import verifiers  # noqa: F401 - puts the shipped nltk data first, refuses downloads

IFEVAL = {
    "keywords:existence": "included_keywords", "keywords:frequency": "keyword_frequency",
    "keywords:forbidden_words": "forbidden_words", "keywords:letter_frequency": "letter_frequency",
    "language:response_language": "response_language",
    "length_constraints:number_sentences": "sentence_count",
    "length_constraints:number_paragraphs": "paragraph_count",
    "length_constraints:number_words": "word_count",
    "length_constraints:nth_paragraph_first_word": "nth_paragraph_first_word",
    "detectable_content:number_placeholders": "placeholders",
    "detectable_content:postscript": "postscript",
    "detectable_format:number_bullet_lists": "bullet_count",
    "detectable_format:constrained_response": "constrained_response",
    "detectable_format:number_highlighted_sections": "highlighted_sections",
    "detectable_format:multiple_sections": "sections",
    "detectable_format:json_format": "json_format", "detectable_format:title": "title",
    "combination:two_responses": "two_responses", "combination:repeat_prompt": "repeat_prompt",
    "startend:end_checker": "end_phrase", "startend:quotation": "quotation",
    "change_case:capital_word_frequency": "capital_word_frequency",
    "change_case:english_capital": "all_capitals",
    "change_case:english_lowercase": "all_lowercase", "punctuation:no_comma": "no_commas",
}  # fmt: skip
"""IFEval's 25 instruction ids and the kind that checks each."""

UNREAD = {"custom:european_capitals_sort", "words:start_verb", "custom:word_reverse",
          "custom:character_reverse"}  # fmt: skip
"""IFBench ids the extractor does not read: no kind for a verb lexicon or reversals, and the
capitals list is a question of facts (`item_list` checks an answer given the list)."""


def ifbench_kinds() -> dict[str, str]:
    """IFBench's ids and the kind whose docstring names it (plus the few named otherwise)."""
    from if_verifiable.ifbench.instructions_registry import INSTRUCTION_DICT

    from core.instructions import SPECS

    kinds = {
        iid: kind
        for kind, spec in SPECS.items()
        for iid in re.findall(r"`([a-z_]+:[a-z_\-]+)`", spec.__doc__ or "")
        if iid in INSTRUCTION_DICT and iid not in UNREAD
    }
    return kinds | {
        "count:word_count_range": "word_count", "count:pronouns": "pronoun_count",
        "custom:csv_special_character": "csv_table", "custom:csv_quotes": "csv_table",
        "count:keywords_multiple": "keyword_frequency",
    }  # fmt: skip


def descriptions(registry: dict[str, type], iid: str, n: int = 6) -> list[str]:
    random.seed(f"{iid}-templates")
    made = []
    for _ in range(n):
        instruction = registry[iid](iid)
        try:
            made.append(instruction.build_description())
        except ValueError:  # the repeat kinds need the request they repeat
            made.append(instruction.build_description(prompt_to_repeat="Describe the sea."))
    return made


def impossible(text: str) -> bool:
    """IFEval's generator can ask paragraph 3 of 2 to start with a word: no spec holds that."""
    count = re.search(r"There should be (\d+) paragraphs", text)
    nth = re.search(r"Paragraph (\d+) must start", text)
    return bool(count and nth and int(nth[1]) > int(count[1]))


@pytest.mark.parametrize("iid", sorted(IFEVAL))
def test_every_ifeval_template_is_read_as_its_kind(iid: str) -> None:
    from if_verifiable.ifeval.instructions_registry import INSTRUCTION_DICT

    for text in descriptions(INSTRUCTION_DICT, iid):
        if impossible(text):
            continue
        kinds = [e.instruction.kind for e in extract(f"Write about the sea. {text}")]
        assert IFEVAL[iid] in kinds, text


@pytest.mark.parametrize("iid", sorted(ifbench_kinds()))
def test_every_ifbench_template_the_library_checks_is_read_as_its_kind(iid: str) -> None:
    from if_verifiable.ifbench.instructions_registry import INSTRUCTION_DICT

    for text in descriptions(INSTRUCTION_DICT, iid):
        kinds = [e.instruction.kind for e in extract(f"Write about the sea. {text}")]
        assert ifbench_kinds()[iid] in kinds, text


def test_only_the_listed_ifbench_ids_have_no_kind() -> None:
    from if_verifiable.ifbench.instructions_registry import INSTRUCTION_DICT

    assert set(INSTRUCTION_DICT) - set(ifbench_kinds()) == UNREAD
