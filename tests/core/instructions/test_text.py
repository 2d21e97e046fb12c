"""The units the checks count: words, sentences and paragraphs, split without downloaded data."""

from __future__ import annotations

import pytest

from core.instructions.text import (
    blank_line_paragraphs,
    rule_sentences,
    sentences,
    split_clauses,
    star_paragraphs,
    tokens,
    words,
)


def test_words_are_runs_of_word_characters_as_ifeval_counts_them() -> None:
    assert words("Don't stop: 3.5 well-known_cases!") == [
        "Don",
        "t",
        "stop",
        "3",
        "5",
        "well",
        "known_cases",
    ]


def test_tokens_keep_inner_apostrophes_hyphens_and_dots() -> None:
    assert tokens("Don't visit the U.S. well-known sites") == [
        "Don't",
        "visit",
        "the",
        "U.S",
        "well-known",
        "sites",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He ran. She slept! Why?", ["He ran.", "She slept!", "Why?"]),
        ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
        ("It costs 3.50 dollars. Cheap.", ["It costs 3.50 dollars.", "Cheap."]),
        ("Use tools, e.g. hammers. Done.", ["Use tools, e.g. hammers.", "Done."]),
        ('"Stop!" she said. He did.', ['"Stop!"', "she said.", "He did."]),  # as punkt
        ("it rains. we stay in.", ["it rains.", "we stay in."]),
        ("Wait... then go. Now.", ["Wait... then go.", "Now."]),
        ("J. R. R. Tolkien wrote it. Yes.", ["J. R. R. Tolkien wrote it.", "Yes."]),
        ("The answer is no. It is not.", ["The answer is no.", "It is not."]),
        ("no end punctuation", ["no end punctuation"]),
        ("", []),
        ("***", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_a_line_without_end_punctuation_runs_into_the_next_sentence() -> None:
    assert sentences("Title line\nThe body. More.") == ["Title line\nThe body.", "More."]


def test_star_paragraphs_split_like_ifeval() -> None:
    assert star_paragraphs("One.\n***\nTwo.") == ["One.", "Two."]
    assert star_paragraphs("One.\n\n***\n\nTwo.") == ["One.\n", "\nTwo."]
    assert star_paragraphs("One. *** Two.") == ["One.", "Two."]


def test_blank_line_paragraphs_drop_empty_blocks() -> None:
    assert blank_line_paragraphs("\n\nOne.\n \nTwo\nlines.\n\n\n") == ["One.", "Two\nlines."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("snow fell. the dog ran! why?", ["snow fell.", "the dog ran!", "why?"]),
        (
            "Mr. Smith paid 3.5 dollars at shop.com today.",
            ["Mr. Smith paid 3.5 dollars at shop.com today."],
        ),
        ('He said "go." Then left.', ['He said "go".', "Then left."]),
        ("Wait... then go.", ["Wait...", "then go."]),
        ("The U.S. He left.", ["The U.S.", "He left."]),
        ("One\ntwo. Three", ["One two.", "Three"]),
        ("Hi!! There", ["Hi!", "!", "There"]),
        ("", []),
    ],
)
def test_rule_sentences_split_as_ifbench_does(text: str, expected: list[str]) -> None:
    assert rule_sentences(text) == expected


def test_words_count_an_emoji_variation_selector_as_nltk_does() -> None:
    assert len(words("Snow ❄️ fell")) == 3
    assert len(words("Snow ❄ fell")) == 2


CLAUSES = (
    "The river floods every spring; the town moves its market uphill. We visited Paris, Rome, "
    "and the little town of Siena. Birds migrate south in autumn, but many of them return to "
    "the same nests in spring. The old bridge was built in 1820, and it still carries carts "
    "over the water today."
)


def test_joined_clauses_become_sentences_the_longest_sentences_first() -> None:
    assert len(rule_sentences(CLAUSES)) == 4
    one = split_clauses(CLAUSES, 1)
    assert "Birds migrate south in autumn. But many of them return" in one
    assert len(rule_sentences(one)) == 5
    every = split_clauses(CLAUSES, 10)
    assert "The river floods every spring. The town moves" in every
    assert "built in 1820. It still carries carts" in every
    assert "Paris, Rome, and the little town of Siena." in every  # a list is no clause
    assert len(rule_sentences(every)) == 7
    assert split_clauses(CLAUSES, 0) == CLAUSES
    assert split_clauses("Short; too short, and short.", 3) == "Short; too short, and short."
