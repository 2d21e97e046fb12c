"""The refiner's deterministic repairs (no model)."""

from nodes.refine import (
    cite_uncited,
    claimed_sources,
    drop_repeats,
)
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


VISITS = "The Mirela garden opens at 8:00 and closes at 18:00 from April to September."


def test_cite_uncited_cites_a_supported_sentence_and_replaces_an_echoed_placeholder() -> None:
    passages = [("mirela-visits", VISITS), ("kestrel-pay", "Kestrel pays drivers monthly.")]
    known = {"mirela-visits", "kestrel-pay", "mirela-garden"}
    unsupported = "Kestrel pays a bonus in spring."  # "bonus", "spring": for the grounding check
    text = f"The garden closes at 18:00 from April to September [document-id]. {unsupported}"
    assert cite_uncited(text, passages, known) == (
        f"The garden closes at 18:00 from April to September [mirela-visits]. {unsupported}"
    )
    cited = "The garden closes at 18:00 [mirela-garden]."
    assert cite_uncited(cited, passages, known) == cited  # a known citation is the model's call


def test_an_unsupported_sentence_is_restated_from_the_document_it_cites() -> None:
    passages = [
        ("harbour-a", "Alder Freight was founded in 1921 in Tallowford harbour."),
        ("harbour-b", "Birch Freight, a Tallowford harbour firm, was founded in 1934."),
    ]
    sentence = "Birch Freight was founded in Tallowford harbour in 1921 [harbour-b]."
    assert claimed_sources(sentence, passages) == [passages[1]]
    assert claimed_sources("Birch Freight was founded in 1921.", passages) == passages
