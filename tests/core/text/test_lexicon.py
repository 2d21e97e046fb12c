"""Required-word matching: inflections count, other words do not."""

from __future__ import annotations

import pytest

from core.text.lexicon import coverage, derived_forms, used_words


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("She runs home.", "run"),
        ("He ran home.", "run"),
        ("They were serving tea.", "serve"),
        ("Two cupcakes.", "cupcake"),
        ("He dunked it.", "dunk"),
        ("The mice hid.", "mouse"),
        ("She wore headphones.", "headphone"),
        ("The babies slept.", "baby"),
        ("He stopped.", "stop"),
    ],
)
def test_inflected_forms_count(text: str, word: str) -> None:
    assert used_words(text, [word]) == ([word], [])


def test_missing_words_are_reported_in_order() -> None:
    used, missing = used_words("A dog in the snow.", ["wine", "dog", "piano", "snow"])
    assert used == ["dog", "snow"]
    assert missing == ["wine", "piano"]


def test_a_prefix_is_not_a_use() -> None:
    assert used_words("The carpet was red.", ["car"])[1] == ["car"]


def test_a_word_inside_another_or_derived_from_it_is_not_a_use() -> None:
    text = "She encountered a reporter and a mower, waiting impatiently."
    assert used_words(text, ["counter", "report", "mow", "patient"])[0] == []
    assert used_words("She put on her head phones.", ["headphone"]) == (["headphone"], [])
    assert derived_forms("The mower hummed.", "mow") == ["mower"]  # hinted: write "mow"


def test_coverage_is_a_share() -> None:
    assert coverage("A dog.", ["dog", "cat"]) == 0.5
    assert coverage("anything", []) == 1.0


def test_a_part_of_a_hyphenated_word_counts_and_a_derived_word_does_not() -> None:
    assert used_words("The snow-covered deck.", ["snow", "deck"]) == (["snow", "deck"], [])
    assert used_words("A snowy deck.", ["snow"]) == ([], ["snow"])
    assert derived_forms("A snowy morning and snowballs, in the snow.", "snow") == [
        "snowy",
        "snowballs",
    ]
    assert derived_forms("She runs to the runner.", "run") == ["runner"]
