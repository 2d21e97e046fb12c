"""The registry: instructions read from plain dicts, clear errors, every check run together,
and the contract every kind keeps (a description; a repair passes and never empties the text)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from core.instructions import (
    KINDS,
    SPECS,
    Instruction,
    catalogue,
    check_all,
    parse_instruction,
    parse_instructions,
)

EXAMPLES: dict[str, dict[str, Any]] = {
    "included_keywords": {"keywords": ["frost"]},
    "keyword_frequency": {"keyword": "snow", "at_least": 2},
    "forbidden_words": {"words": ["snow"]},
    "letter_frequency": {"letter": "z", "at_least": 1},
    "capital_word_frequency": {"at_least": 2},
    "unique_word_count": {"at_least": 30},
    "word_count": {"at_most": 8},
    "sentence_count": {"at_most": 2},
    "paragraph_count": {"exactly": 2},
    "nth_paragraph_first_word": {"paragraphs": 2, "nth": 2, "first_word": "finally"},
    "bullet_count": {"exactly": 2},
    "placeholders": {"at_least": 1},
    "highlighted_sections": {"at_least": 2},
    "sections": {"exactly": 2},
    "json_format": {},
    "title": {},
    "constrained_response": {},
    "two_responses": {},
    "end_phrase": {"phrase": "Any other questions?"},
    "start_phrase": {"phrase": "In short"},
    "starts_with_verb": {},
    "repeat_prompt": {"prompt": "Describe a winter morning."},
    "quotation": {},
    "postscript": {},
    "response_language": {"language": "fr"},
    "all_capitals": {},
    "all_lowercase": {},
    "no_commas": {},
    "no_marks": {"marks": ["!", ";"]},
    "number_count": {"exactly": 3},
    "conjunction_count": {"at_least": 4},
    "pronoun_count": {"at_least": 5},
    "name_count": {"names": ["Emma", "Liam"], "at_least": 1},
    "all_punctuation": {},
    "stop_word_ratio": {"percent": 10},
    "sentence_type_ratio": {},
    "sentence_type_balance": {},
    "word_repeat_limit": {"at_most": 1},
    "keyword_in_sentence": {"keyword": "coffee", "sentence": 1},
    "keyword_at_position": {"keyword": "snow", "sentence": 2, "word": 1},
    "second_word_both_ends": {"keyword": "snow"},
    "sentence_growth": {"step": 2},
    "last_word_first_next": {},
    "lines_start_end_same": {},
    "alphabet_chain": {},
    "consonant_clusters": {},
    "vowel_limit": {},
    "no_same_first_letter": {},
    "palindrome_count": {"at_least": 1},
    "prime_length_words": {},
    "alliteration_growth": {},
    "emoji_per_sentence": {},
    "indent_stairs": {},
    "one_word_per_line": {},
    "options_only": {"options": ["yes", "no"]},
    "quotes_explained": {},
    "nested_quotes": {},
    "nested_brackets": {},
    "sub_bullets": {},
    "sentences_then_bullets": {},
    "custom_bullets": {"marker": "..."},
    "italic_thesis": {},
    "title_case": {},
    "template_labels": {"labels": ["My Answer:"]},
    "no_whitespace": {},
    "exact_text": {"text": "Only this."},
    "repeat_changed_first_word": {"prompt": "Describe a winter morning."},
    "trigram_overlap": {"reference": "Snow fell over the quiet town.", "percent": 90},
    "equal_sentences": {},
    "nth_word_japanese": {"every": 5},
    "sentence_initials_alphabet": {"count": 3},
    "syllable_alternation": {},
    "csv_table": {"columns": ["ID", "City"], "rows": 2},
    "number_sequence": {"numbers": [14, 21]},
    "date_list": {"from_year": 1769, "to_year": 1821},
    "item_list": {"items": ["Oslo", "Riga"]},
    "sorted_lines": {"at_least": 3},
    "multiple_choice": {},
}
DRAFT = (
    "Snow fell over the quiet town, and the dog barked at the window. "
    "Coffee steamed on the table.\n\n"
    "A scarf hung by the door. Nobody spoke, and then the sun rose."
)

FAILING = {
    "quotes_explained": 'He said "hi" "bye"',
    "no_marks": "Snow fell; the dog ran! It was a cold, bright day.",
}
"""A failing text for the kinds the draft happens to follow."""


def test_every_kind_has_an_example() -> None:
    assert set(EXAMPLES) == set(KINDS)
    assert len(KINDS) == len(set(KINDS))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_describes_itself_and_fails_the_draft(kind: str) -> None:
    spec = parse_instruction({"kind": kind, **EXAMPLES[kind]})
    assert spec.kind == kind
    description = spec.describe()
    assert description[0].isupper()
    assert description.rstrip().endswith((".", "'", '"'))
    finding = spec.check(FAILING.get(kind, DRAFT))
    assert finding is not None
    assert finding["source"] == f"instruction:{kind}"
    assert finding["severity"] == "error"
    assert finding["data"][0] == kind
    assert finding["message"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_repair_passes_and_keeps_content(kind: str) -> None:
    spec = parse_instruction({"kind": kind, **EXAMPLES[kind]})
    draft = FAILING.get(kind, DRAFT)
    fixed = spec.repair(draft)
    if fixed is None:
        return  # the model's job: a targeted sub-task
    assert spec.check(fixed) is None
    assert any(ch.isalnum() for ch in fixed)
    if kind in ("exact_text", "repeat_changed_first_word"):
        return  # replacing the answer (by the given text, by the request) is what it asks
    if kind == "no_whitespace":
        assert fixed == "".join(DRAFT.split())
        return
    kept = set(draft.lower().split()) & set(fixed.lower().replace("*", "").split())
    assert len(kept) >= 4, fixed
    assert spec.repair(fixed) == fixed  # a text that passes is left alone


REPAIRED = {
    "capital_word_frequency",
    "sub_bullets",
    "nested_brackets",
    "nested_quotes",
    "sentences_then_bullets",
    "template_labels",
    "word_count",
    "sentence_count",
    "paragraph_count",
    "highlighted_sections",
    "sections",
    "json_format",
    "title",
    "end_phrase",
    "start_phrase",
    "repeat_changed_first_word",
    "repeat_prompt",
    "quotation",
    "postscript",
    "all_capitals",
    "all_lowercase",
    "no_commas",
    "no_marks",
    "emoji_per_sentence",
    "indent_stairs",
    "one_word_per_line",
    "italic_thesis",
    "title_case",
    "lines_start_end_same",
    "nth_paragraph_first_word",
    "two_responses",
    "no_whitespace",
    "exact_text",
}


def test_the_repairable_kinds_repair_the_draft() -> None:
    repaired = {
        kind
        for kind in KINDS
        if parse_instruction({"kind": kind, **EXAMPLES[kind]}).repair(FAILING.get(kind, DRAFT))
        is not None
    }
    assert repaired == REPAIRED


def test_unknown_kind_is_a_clear_validation_error() -> None:
    with pytest.raises(ValidationError) as error:
        parse_instruction({"kind": "rhymes", "at_least": 2})
    assert "rhymes" in str(error.value)
    assert "word_count" in str(error.value)  # the known kinds are listed


def test_missing_kind_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="kind"):
        parse_instruction({"at_least": 2})


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "word_count", "at_most": "many"}, "at_most"),
        ({"kind": "word_count", "at_most": 5, "words": 3}, "words"),  # extra field
        ({"kind": "keyword_frequency", "at_least": 2}, "keyword"),
        ({"kind": "keyword_frequency", "keyword": "  ", "at_least": 2}, "keyword"),
        ({"kind": "forbidden_words", "words": []}, "words"),
        ({"kind": "end_phrase", "phrase": "x" * 501}, "phrase"),
        ({"kind": "sections", "splitter": "SECTION\\d", "at_least": 2}, "splitter"),
    ],
)
def test_bad_fields_are_named(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        parse_instruction(data)


def test_parse_instructions_locates_the_bad_item() -> None:
    with pytest.raises(ValidationError, match=r"^1 validation error.*\n1\.word_count"):
        parse_instructions([{"kind": "no_commas"}, {"kind": "word_count"}])


def test_specs_are_frozen() -> None:
    spec = parse_instruction({"kind": "word_count", "at_most": 5})
    with pytest.raises(ValidationError):
        spec.at_most = 6  # type: ignore[misc]


def test_check_all_reports_only_what_fails_in_order() -> None:
    instructions: list[Instruction] = parse_instructions(
        [
            {"kind": "all_lowercase"},
            {"kind": "word_count", "at_most": 100},
            {"kind": "no_commas"},
        ]
    )
    findings = check_all(DRAFT, instructions)
    assert [f["data"][0] for f in findings] == ["all_lowercase", "no_commas"]
    assert check_all("snow fell.", instructions) == []


def test_a_blank_answer_follows_no_instruction() -> None:
    instructions = parse_instructions([{"kind": "no_commas"}, {"kind": "all_lowercase"}])
    findings = check_all("  \n", instructions)
    assert [f["message"] for f in findings] == ["the answer is empty", "the answer is empty"]
    assert [f["data"][0] for f in findings] == ["no_commas", "all_lowercase"]


def test_catalogue_lists_every_kind_with_its_fields_in_one_line() -> None:
    lines = catalogue().splitlines()
    assert [line.split("(")[0] for line in lines] == list(KINDS)
    assert (
        "word_count(at_least?, at_most?, exactly?): The number of words"
        in lines[KINDS.index("word_count")]
    )
    assert not any("IFBench's" in line or "(IFEval" in line for line in lines)
    assert set(SPECS) == set(KINDS)


def test_the_schema_is_a_discriminated_union() -> None:
    schema = TypeAdapter(list[Instruction]).json_schema()
    mapping = schema["items"]["discriminator"]["mapping"]
    assert set(mapping) == set(KINDS)
