"""The refiner's deterministic repairs (no model)."""

from nodes.refine import drop_repeats
from nodes.validate import repeated_sentences


def test_drop_repeats_removes_each_repeat_that_carries_no_needed_word() -> None:
    first = "As the whole team walks slowly off the big stage after a long dinner, the tired "
    near = "As the whole team walks slowly off the big stage to dig after a long day, the tired "
    tail = "goalie smiles warmly at everyone there."
    opening = "A goalie sits on the stage. He takes a breath."
    text = f"{opening} {first}{tail} He takes a breath. {near}{tail}"
    assert repeated_sentences(text) == ["He takes a breath.", near + tail]
    repaired = drop_repeats(text, ["goalie", "stage", "dinner", "dig"])
    # the exact repeat goes; the near-repeat stays: it is the only place "dig" is used
    assert repaired == f"{opening} {first}{tail} {near}{tail}"


def test_drop_repeats_keeps_a_text_without_repeats() -> None:
    text = "The dog ran. The cat slept."
    assert drop_repeats(text, ["dog", "cat"]) == text


def test_drop_repeats_removes_a_near_repeat_whose_words_are_used_elsewhere() -> None:
    text = "The dog ran to the park. The dog ran to the park quickly. The cat slept."
    assert drop_repeats(text, ["dog", "park", "cat"]) == "The dog ran to the park. The cat slept."
