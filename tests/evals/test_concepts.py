"""The evaluation's concept matcher: the word and its inflections, nothing else."""

from __future__ import annotations

import pytest

from evals.concepts import concept_coverage, concepts_used


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("The dogs barked.", "dog"),
        ("She ran home.", "run"),
        ("He was serving soup.", "serve"),
        ("They stopped the car.", "stop"),
        ("The puppies slept.", "puppy"),
        ("Wolves howled at night.", "wolf"),
        ("Two knives lay there.", "knife"),
        ("She presses the button.", "press"),
        ("The headphone broke.", "headphone"),
        ("The snow-covered wall.", "snow"),  # a tokenizer splits at the hyphen
    ],
)
def test_a_word_or_its_inflection_is_used(text: str, word: str) -> None:
    assert concepts_used(text, [word]) == [True]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("She encountered a bear.", "counter"),  # a substring, not the word
        ("He waited, impatient.", "patient"),
        ("The reporter spoke.", "report"),  # an agent noun derives a new word
        ("A snowy morning.", "snow"),
        ("She listened to music on her head phones.", "headphone"),  # two words are not one
    ],
)
def test_a_substring_or_a_derived_word_is_not(text: str, word: str) -> None:
    assert concepts_used(text, [word]) == [False]


def test_coverage_is_the_share_used() -> None:
    assert concept_coverage("The dog ran in the snow.", ["dog", "run", "piano", "snow"]) == 0.75
    assert concept_coverage("Anything.", []) == 1.0
