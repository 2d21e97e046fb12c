"""The refiner's deterministic repairs (no model)."""

from nodes.refine import (
    cite_uncited,
    claimed_sources,
    cover_ask,
    drop_repeats,
    echoes,
    gains,
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


def test_the_sentence_task_asks_for_the_word_itself_where_the_draft_derived_it() -> None:
    draft = "A snowy morning, a dog runs to the snow-covered window."
    ask = cover_ask("A dog runs.", ["snow", "scarf"], draft)
    assert 'a sentence from a story: "A dog runs."' in ask  # it continues that sentence
    assert "uses all of these words: snow, scarf." in ask
    assert "Write each word exactly as given: snow (not snowy)." in ask
    assert "exactly" not in cover_ask("A dog runs.", ["scarf"], draft)  # nothing derived from it


def test_an_unsupported_sentence_is_restated_from_the_document_it_cites() -> None:
    passages = [
        ("harbour-a", "Alder Freight was founded in 1921 in Tallowford harbour."),
        ("harbour-b", "Birch Freight, a Tallowford harbour firm, was founded in 1934."),
    ]
    sentence = "Birch Freight was founded in Tallowford harbour in 1921 [harbour-b]."
    assert claimed_sources(sentence, passages) == [passages[1]]
    assert claimed_sources("Birch Freight was founded in 1921.", passages) == passages


def test_a_continuation_that_says_its_sentence_again_is_an_echo() -> None:
    anchor = "The toe moved, causing the sander to work."
    assert echoes("The toe floated, causing the sander to work.", anchor)
    assert not echoes("The lady bathed in the cool stream while the concert went on.", anchor)
    assert not echoes("A dog barked.", "")


def test_an_edit_is_judged_by_the_repeats_it_adds_not_those_the_text_had() -> None:
    required = ["piano", "wine", "lamp"]
    text = (
        "She pressed the piano with her hand, feeling the cold air. "
        "She pressed the wine with her hand, feeling the cold air."  # kept: the only "wine"
    )
    assert repeated_sentences(text)
    woven = text + " A lamp glowed in the window."
    assert gains(woven, text, required)
    echoed = text + " She pressed the lamp with her hand, feeling the cold air."
    assert not gains(echoed, text, required)


def test_an_edit_that_takes_a_used_word_out_is_refused_whatever_it_adds() -> None:
    required = ["piano", "wine", "lamp", "snow"]
    text = "She played the piano by the lamp."
    assert gains("She played the piano by the lamp, sipping wine in the snow.", text, required)
    assert not gains("She played the piano, sipping wine in the snow.", text, required)
