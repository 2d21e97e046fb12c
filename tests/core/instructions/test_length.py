"""Checks on length: words, sentences, paragraphs and paragraph openings, with their repairs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.instructions.length import (
    NthParagraphFirstWord,
    ParagraphCount,
    SentenceCount,
    WordCount,
    trim_to_words,
)

ESSAY = (
    "Snow fell over the quiet town. The dog barked at the window.\n\n"
    "Coffee steamed on the table. A scarf hung by the door. Nobody spoke.\n\n"
    "Then the sun rose. Everyone went out to run."
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"at_least": 1, "at_most": 0}, "above"),
        ({"exactly": 3, "at_least": 1}, "alone"),
        ({}, "one of"),
        ({"at_least": -1}, "greater than or equal"),
        ({"at_most": 10**9}, "less than or equal"),
    ],
)
def test_count_relations_are_validated(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WordCount(**kwargs)


def test_word_count_counts_word_character_runs() -> None:
    assert WordCount(exactly=4).check("Don't stop now") is None  # "Don", "t", "stop", "now"
    finding = WordCount(at_least=10).check("Too short.")
    assert finding is not None
    assert finding["message"] == "2 words, at least 10 required: 8 more needed"
    assert finding["data"] == ["word_count", "2", "at least 10"]
    assert WordCount(at_least=2, at_most=3).check("one two three") is None
    finding = WordCount(at_least=2, at_most=3).check("one two three four")
    assert finding is not None
    assert "between 2 and 3" in finding["message"]


def test_word_count_repair_trims_to_whole_sentences() -> None:
    spec = WordCount(at_most=15)
    fixed = spec.repair(ESSAY)
    assert fixed == "Snow fell over the quiet town. The dog barked at the window."
    assert spec.check(fixed) is None


def test_a_word_range_the_end_cannot_reach_skips_a_sentence_too_long() -> None:
    text = (
        "Snow fell on the town. The long night brought wind, ice and a cold that reached "
        "every house on the hill. Morning came.\n\nThe dog barked. Then the sun rose."
    )
    spec = WordCount(at_least=9, at_most=11)
    assert len(trim_to_words(text, 11).split()) == 5  # cut at the end: too short
    fixed = spec.repair(text)
    assert fixed == "Snow fell on the town. Morning came.\n\nThe dog barked."
    assert spec.check(fixed) is None
    assert WordCount(exactly=27).repair(text) is None  # no choice lands there
    assert WordCount(at_least=2, at_most=3).repair(text) is not None  # the first, cut


def test_word_count_repair_cuts_inside_a_sentence_when_none_fits() -> None:
    assert trim_to_words("One two three four five.", 3) == "One two three"
    assert WordCount(at_least=50).repair(ESSAY) is None


def test_sentence_count_and_its_trim() -> None:
    spec = SentenceCount(at_most=3)
    finding = spec.check(ESSAY)
    assert finding is not None
    assert finding["message"] == "7 sentences, at most 3 required: 4 too many"
    fixed = spec.repair(ESSAY)
    assert fixed is not None
    assert fixed.endswith("Coffee steamed on the table.")
    assert ESSAY.startswith(fixed)
    assert SentenceCount(at_least=8).repair(ESSAY) is None


def test_paragraph_count_with_star_dividers_is_ifevals() -> None:
    spec = ParagraphCount(exactly=2)
    assert spec.check("One.\n***\nTwo.") is None
    assert spec.check("***\nOne.\n***\nTwo.\n***") is None  # empty ends do not count
    empty_middle = spec.check("One.\n***\n***\nTwo.")
    assert empty_middle is not None
    assert "paragraph 2 is empty" in empty_middle["message"]
    blank_lines_only = spec.check("One.\n\nTwo.")
    assert blank_lines_only is not None
    assert "1 paragraphs divided by ***" in blank_lines_only["message"]


def test_paragraph_count_with_blank_lines() -> None:
    assert ParagraphCount(exactly=3, divider="blank line").check(ESSAY) is None
    assert ParagraphCount(at_least=4, divider="blank line").check(ESSAY) is not None


@pytest.mark.parametrize(
    "spec",
    [
        ParagraphCount(exactly=3),
        ParagraphCount(exactly=2),
        ParagraphCount(exactly=5),
        ParagraphCount(at_least=4, divider="blank line"),
        ParagraphCount(at_most=1, divider="blank line"),
    ],
)
def test_paragraph_repair_regroups_and_keeps_every_word(spec: ParagraphCount) -> None:
    fixed = spec.repair(ESSAY)
    assert fixed is not None
    assert spec.check(fixed) is None
    assert fixed.replace("***", "").split() == ESSAY.split()


def test_paragraph_repair_gives_up_without_enough_sentences() -> None:
    assert ParagraphCount(exactly=3).repair("One sentence only.") is None


def test_nth_paragraph_first_word() -> None:
    spec = NthParagraphFirstWord(paragraphs=3, nth=2, first_word="coffee")
    assert spec.check(ESSAY) is None
    wrong = NthParagraphFirstWord(paragraphs=3, nth=3, first_word="Finally").check(ESSAY)
    assert wrong is not None
    assert wrong["message"] == "paragraph 3 starts with 'then', not 'Finally'"
    count = NthParagraphFirstWord(paragraphs=2, nth=1, first_word="snow").check(ESSAY)
    assert count is not None
    assert "3 paragraphs divided by blank lines, exactly 2 required" in count["message"]


def test_nth_paragraph_first_word_strips_quotes_and_stops_at_a_comma() -> None:
    spec = NthParagraphFirstWord(paragraphs=2, nth=2, first_word="however")
    assert spec.check('Intro.\n\n"However, it rained.') is None
    assert spec.check("Intro.\n\nHowever: it rained.") is not None  # "however:" != "however"


def test_nth_paragraph_reads_the_raw_split_like_ifeval() -> None:
    # Three blank lines leave an empty part: paragraph 2 of the raw split is empty.
    spec = NthParagraphFirstWord(paragraphs=2, nth=2, first_word="two")
    finding = spec.check("One.\n\n\n\nTwo.")
    assert finding is not None
    assert "empty" in finding["message"]


def test_nth_must_be_within_the_paragraphs() -> None:
    with pytest.raises(ValidationError, match="beyond"):
        NthParagraphFirstWord(paragraphs=2, nth=3, first_word="x")


def test_the_nth_paragraph_is_opened_with_its_word_when_the_count_is_right() -> None:
    from core.instructions.length import NthParagraphFirstWord

    spec = NthParagraphFirstWord(paragraphs=2, nth=2, first_word="today")
    text = "Bikes began in 1817.\n\nModern bicycles are light. Mary rides one."
    assert spec.repair(text) == (
        "Bikes began in 1817.\n\nToday, modern bicycles are light. Mary rides one."
    )
    assert spec.repair("I was young.\n\nI rode.") == "I was young.\n\nToday, I rode."
    assert spec.repair("Only one paragraph.") is None  # the count is the model's to fix
