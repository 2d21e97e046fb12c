"""Thing-words written as actions: found where a verb stands, not where a noun may."""

from __future__ import annotations

from core.text.word_use import misused, noun_only, verb_uses


def test_a_word_is_a_thing_only_where_the_tables_know_no_verb_for_it() -> None:
    assert noun_only("rink") and noun_only("cupcake") and noun_only("priest")
    assert not noun_only("press") and not noun_only("snow")  # both
    assert noun_only("tricep")  # not in the tables, but "triceps" is, as a noun only
    assert not noun_only("sle")  # neither it nor "sles": nothing is claimed


def test_a_thing_word_in_a_verb_s_place_is_found_with_the_words_around_it() -> None:
    assert verb_uses("Then the priest rinks it slowly.", "rink") == ["the priest rinks it slowly"]
    assert verb_uses("They rink every winter.", "rink") == ["They rink every winter"]
    assert verb_uses("She will cupcake the guests.", "cupcake") == ["She will cupcake the guests"]
    assert verb_uses("We rinked all day.", "rink") == ["We rinked all day"]
    assert verb_uses("He wines the glass.", "wine")
    assert verb_uses("And then they tricep the axis.", "tricep") == ["then they tricep the axis"]


def test_a_thing_word_used_as_a_noun_is_not_a_misuse() -> None:
    fine = (
        "The rinks the town built were busy. Two rinks that opened in winter stayed full. "
        "She switched to wine. The mother's cupcakes sat on the rink's bench. "
        "The talented priest was bearded. From May they served cupcakes. "
        "We met at the Lakes Hostelling Trust. The two rinks hold years. The rink closed."
    )
    required = ["rink", "wine", "cupcake", "priest", "talent", "beard", "mother", "hostel", "year"]
    assert misused(fine, required) == []


def test_words_that_can_be_verbs_and_phrases_are_never_misused() -> None:
    assert verb_uses("They press the button.", "press") == []
    assert verb_uses("They ice skate.", "ice skate") == []


def test_stop_words_the_tables_call_nouns_are_left_alone() -> None:
    assert noun_only("all") and verb_uses("And we all laughed.", "all") == []
