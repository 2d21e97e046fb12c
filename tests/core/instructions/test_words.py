"""Checks on which words appear and how often."""

from __future__ import annotations

import pytest

from core.instructions.words import (
    CapitalWordFrequency,
    ForbiddenWords,
    IncludedKeywords,
    KeywordFrequency,
    LetterFrequency,
    UniqueWordCount,
)


def test_included_keywords_match_any_case_and_name_the_missing() -> None:
    spec = IncludedKeywords(keywords=["Snow", "coffee", "dog"])
    assert spec.check("SNOW fell; the coffee was hot.") is not None
    finding = spec.check("snow and coffee")
    assert finding is not None
    assert finding["message"] == "missing keywords: dog"
    assert finding["data"] == ["included_keywords", "dog"]
    assert finding["source"] == "instruction:included_keywords"
    assert spec.check("Snow, coffee, a dog.") is None


def test_keyword_frequency_counts_substrings_like_ifeval() -> None:
    spec = KeywordFrequency(keyword="cat", at_least=2)
    assert spec.check("The cat sat in a category.") is None
    finding = spec.check("The cat sat.")
    assert finding is not None
    assert finding["message"] == "1 time for the keyword 'cat', at least 2 required: 1 more needed"


def test_keyword_frequency_whole_words_and_regex_characters() -> None:
    spec = KeywordFrequency(keyword="cat", at_least=2, whole_word=True)
    assert spec.check("The cat sat in a category.") is not None
    assert KeywordFrequency(keyword="c++", exactly=1).check("I like C++ a lot.") is None


def test_keyword_frequency_at_most_says_how_many_too_many() -> None:
    finding = KeywordFrequency(keyword="very", at_most=1).check("very very very good")
    assert finding is not None
    assert "3 times" in finding["message"]
    assert "2 too many" in finding["message"]


def test_forbidden_words_are_whole_words_in_any_case() -> None:
    spec = ForbiddenWords(words=["bad", "awful"])
    assert spec.check("A badge is not bad-ly made.") is not None  # \bbad\b matches "bad-ly"
    assert spec.check("A badge and a badger.") is None
    finding = spec.check("Awful, just AWFUL.")
    assert finding is not None
    assert finding["data"] == ["forbidden_words", "awful"]


def test_letter_frequency_counts_in_any_case() -> None:
    assert LetterFrequency(letter="q", at_least=2).check("Quick quiet.") is None
    finding = LetterFrequency(letter="z", at_most=1).check("Zig zag zoo")
    assert finding is not None
    assert "3 times for the letter 'z'" in finding["message"]


def test_letter_must_be_one_letter() -> None:
    with pytest.raises(ValueError, match="letter"):
        LetterFrequency(letter="ab", at_least=1)
    with pytest.raises(ValueError, match="letter"):
        LetterFrequency(letter="4", at_least=1)


def test_capital_word_frequency_counts_all_capital_words() -> None:
    spec = CapitalWordFrequency(at_least=2)
    assert spec.check("The NASA and ESA teams.") is None
    assert spec.check("The NASA team.") is not None
    assert CapitalWordFrequency(at_most=1).check("The U.S. and NASA.") is not None


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (CapitalWordFrequency(at_least=3), "The quick brown fox jumps over the dog."),
        (CapitalWordFrequency(at_most=1), "The NASA and ESA and JAXA teams met."),
        (CapitalWordFrequency(exactly=0), "WHY not? BECAUSE."),
    ],
)
def test_capital_word_repair_passes_and_keeps_the_words(
    spec: CapitalWordFrequency, text: str
) -> None:
    fixed = spec.repair(text)
    assert fixed is not None
    assert spec.check(fixed) is None
    assert fixed.lower() == text.lower()


def test_unique_word_count_ignores_case() -> None:
    spec = UniqueWordCount(at_least=3)
    assert spec.check("The the THE cat.") is not None
    assert spec.check("The cat sat.") is None


REVIEW = (
    "These shoes are comfortable from the first run. The mesh keeps my feet cool on hot days. "
    "A comfortable, springy sole softens every stride. The laces stay tied for the whole "
    "run. I would buy a comfortable pair like this again."
)


def test_too_many_uses_take_out_the_sentences_that_hold_them_first_and_last_kept() -> None:
    """The opening sentence stays, and the last goes only where no other will do."""
    fixed = KeywordFrequency(keyword="comfortable", at_most=2).repair(REVIEW)
    assert fixed == REVIEW.replace("A comfortable, springy sole softens every stride. ", "")
    assert KeywordFrequency(keyword="comfortable", at_most=0).repair(REVIEW) is None  # first
    assert KeywordFrequency(keyword="comfortable", at_least=5).repair(REVIEW) is None


def test_too_many_of_a_letter_take_out_the_sentences_using_it_most() -> None:
    text = "Zoe sat down. The zany jazz band played. It was late. Then we left."
    assert LetterFrequency(letter="z", at_most=1).repair(text) == (
        "Zoe sat down. It was late. Then we left."
    )
    assert LetterFrequency(letter="z", at_most=0).repair(text) is None  # the first stays


def test_a_forbidden_word_takes_out_the_sentences_that_use_it() -> None:
    """Held-out IFEval kinds: told not to mention a helmet, the model listed one among the gear
    to wear; the sentence goes, the advice around it stays."""
    advice = (
        "Start slowly and build up distance. Always wear proper gear, including a Helmet and "
        "gloves. Ask for help when unsure. Enjoy the ride!"
    )
    spec = ForbiddenWords(words=["helmet", "traffic"])
    assert spec.repair(advice) == (
        "Start slowly and build up distance. Ask for help when unsure. Enjoy the ride!"
    )
    assert spec.repair("Mind the traffic. It is heavy.") is None  # the first sentence stays
    fine = advice.replace("Helmet", "bell")
    assert spec.repair(fine) == fine
