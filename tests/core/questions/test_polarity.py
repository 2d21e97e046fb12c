"""A one-part yes/no question gets a yes or a no from its sentence's own words, or none."""

from __future__ import annotations

import pytest

from core.questions.polarity import clause_about, limit_verdict, polarity

GALLERY = "The gallery is open Wednesday to Sunday, 11:00 to 18:00, and closed on Tuesdays."


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("Is the Orne Gallery open on Tuesdays?", "no"),  # the opposite state, on the day asked
        ("Is the Orne Gallery open on Sundays?", "yes"),  # the state asked, on the day asked
        ("Is the Orne Gallery closed on Tuesdays?", "yes"),
        ("Is the Orne Gallery open on Mondays?", None),  # no clause names Monday
        ("Is the Orne Gallery not open on Tuesdays?", None),  # a negated question: unclear
    ],
)
def test_the_clause_about_the_day_asked_says_yes_or_no(question: str, verdict: str) -> None:
    assert polarity(question, GALLERY, "the Orne Gallery") == verdict


def test_the_clause_chosen_is_the_one_about_what_is_asked_not_the_subject() -> None:
    clause = clause_about("Is the Orne Gallery open on Tuesdays?", GALLERY, "the Orne Gallery")
    assert clause == "closed on Tuesdays."


def test_a_prohibition_of_a_compound_s_head_says_no() -> None:
    """ "campfire" is about the fires of a text that says "camping" and "fires" apart."""
    rules = "Open fires are banned at the lake all year; camping stoves are welcome."
    assert polarity("Can I light a campfire at Lake Orne?", rules, "Lake Orne") == "no"
    assert polarity("Can I use a camping stove at Lake Orne?", rules, "Lake Orne") == "yes"


def test_no_longer_is_a_no() -> None:
    sentence = "Since May, tickets are no longer sold on the ferry; buy them at the pier."
    assert polarity("Can I buy a ticket on the ferry?", sentence) == "no"


@pytest.mark.parametrize(("days", "verdict"), [("five", "no"), ("3", "yes"), ("2", "yes")])
def test_an_amount_past_a_limit_says_no_and_one_within_it_falls_to_the_clause(
    days: str, verdict: str
) -> None:
    rule = "Visiting boats are allowed to moor at the marina for at most 3 days."
    question = f"We want to moor our boat at Orne marina for {days} days. Is that allowed?"
    assert polarity(question, rule, "Orne") == verdict


def test_a_minimum_the_amount_falls_short_of_says_no() -> None:
    rule = "Kayaks are rented for at least 2 hours."
    assert limit_verdict("Can I rent a kayak for 1 hour?", rule) == "no"
    assert limit_verdict("Can I rent a kayak for 3 hours?", rule) == "yes"  # within it
    assert limit_verdict("Can I rent a kayak for 3 days?", rule) is None  # another unit


def test_an_amount_within_a_limit_of_the_same_thing_in_other_words_says_yes() -> None:
    """Blind gb17: "three bikes" against "at most 4 bicycles per bus"."""
    rule = "Bicycles travel on the rear rack for 4 crowns each, at most 4 bicycles per bus."
    assert limit_verdict("Can I bring three bikes on the post bus?", rule) == "yes"
    assert limit_verdict("Can I bring five bikes on the post bus?", rule) == "no"


@pytest.mark.parametrize(
    "sentence",
    [
        "Dogs are allowed only on the river path.",  # a condition, not a yes or a no
        "Dogs are welcome, except in the rose garden.",
        "The garden opens at 8:00 and closes at 18:00.",  # says nothing of dogs
    ],
)
def test_a_qualified_or_unrelated_sentence_gives_no_verdict(sentence: str) -> None:
    assert polarity("Can I bring my dog to the Orne garden?", sentence, "Orne") is None


def test_things_listed_with_commas_share_their_clause_s_verdict() -> None:
    rule = "Swimming, boating and fishing are forbidden on the lake."
    assert polarity("Can I go for a swim in Orne Lake?", rule, "Orne Lake") == "no"


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("Our van weighs 6 tonnes loaded. May we drive it over the Kell Bridge?", "yes"),
        ("Could a 12-tonne lorry cross the Kell Bridge?", "no"),
        ("We're a group of 7 friends. Can we all share one pitch?", "no"),
        ("There are five of us. Can we share one pitch?", "yes"),
    ],
)
def test_a_rule_applies_to_the_case_the_question_states(question: str, verdict: str) -> None:
    """A limit said as what is forbidden above it, and amounts said as a group or with a
    hyphen, meet the rule they are asked about; people are counted by any word for them."""
    rules = (
        "Vehicles heavier than 7.5 tonnes may not cross the Kell Bridge. "
        if "Bridge" in question
        else "Groups of up to 6 people may share one pitch; larger groups book two."
    )
    assert limit_verdict(question, rules) == verdict


def test_an_amount_breaking_any_one_of_several_limits_says_no() -> None:
    rules = "Groups of up to 8 people may book, and a stay is at most 3 nights."
    assert limit_verdict("We are 6 friends and want to stay 5 nights. OK?", rules) == "no"
    assert limit_verdict("We are 6 friends and want to stay 2 nights. OK?", rules) == "yes"
