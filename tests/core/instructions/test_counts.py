"""Checks that count kinds of words and sentences, on passing and failing answers."""

from __future__ import annotations

import pytest

from core.instructions.counts import (
    AllPunctuation,
    ConjunctionCount,
    EqualSentences,
    NameCount,
    NumberCount,
    PronounCount,
    SentenceTypeBalance,
    SentenceTypeRatio,
    StopWordRatio,
    TrigramOverlap,
    WordRepeatLimit,
    join_shortest_statements,
    sentence_types,
)
from core.instructions.words import UniqueWordCount


def test_numbers_count_once_with_decimals_and_thousands() -> None:
    spec = NumberCount(exactly=3)
    assert spec.check("It cost 3.50 for 1,000 items in 2024.") is None
    finding = NumberCount(exactly=1).check("7 cats and 8 dogs")
    assert finding is not None
    assert finding["message"] == "2 numbers, exactly 1 required: 1 too many"
    assert finding["data"][-2:] == ["7", "8"]


def test_too_many_numbers_are_written_out_from_the_last_small_one() -> None:
    spec = NumberCount(at_most=2)
    assert spec.repair("We need 3 cups and 4 spoons. 5 friends came.") == (
        "We need 3 cups and 4 spoons. Five friends came."
    )
    steps = "Steps:\n1. Mix 3 eggs.\n2. Bake at 180 degrees in 2023 for $4.50 and 7 hours."
    assert NumberCount(exactly=6).repair(steps) == steps.replace("7 hours", "seven hours")
    assert NumberCount(exactly=3).repair(steps) is None  # list numbers, years, amounts stay
    assert NumberCount(at_least=9).repair(steps) is None  # too few: the model's work


def test_a_numbered_list_over_the_count_has_its_last_items_joined() -> None:
    points = (
        "Key points:\n1. It is a bilayer.\n2. It holds proteins.\n3. It aids signalling.\n"
        "4. It regulates transport.\n\nThat is all."
    )
    assert NumberCount(exactly=3).repair(points) == (
        "Key points:\n1. It is a bilayer.\n2. It holds proteins.\n"
        "3. It aids signalling; it regulates transport.\n\nThat is all."
    )  # every word kept, one number fewer
    mixed = "We saw 3 cats.\n1. One item.\n2. Two items.\n3. SQL items."
    assert NumberCount(exactly=2).repair(mixed) == (
        "We saw three cats.\n1. One item.\n2. Two items; SQL items."
    )  # small numbers first, then the list; an acronym keeps its capitals
    assert NumberCount(exactly=1).repair("1. One.\n2. Two.") is None  # two items: no list left


def test_conjunctions_are_distinct_and_name_the_unused() -> None:
    spec = ConjunctionCount(at_least=3)
    assert spec.check("Tea and cake, but no jam, so we left.") is None
    finding = spec.check("Tea and cake and AND jam.")
    assert finding is not None
    assert finding["message"].startswith("1 different coordinating conjunctions")
    assert "unused: but, for, nor, or, so, yet" in finding["message"]


def test_missing_conjunctions_replace_the_adverbs_that_say_the_same_link() -> None:
    spec = ConjunctionCount(at_least=4)
    text = (
        "Moreover, games help. However, they cost time, because of the rain. "
        'Therefore, McGonigal plays. "Fun." Still, they reward, because they teach.\n'
        "- Additionally, it rains."
    )
    regrouped = spec.regroup(text)
    assert regrouped == (
        "And games help. But they cost time, because of the rain. "
        'So McGonigal plays. "Fun." Still, they reward, for they teach.\n'
        "- Additionally, it rains."
    )  # four swaps for four missing; "because of" is no "for"; a name keeps its capital
    assert spec.check(regrouped) is None
    only_two = ConjunctionCount(at_least=2).regroup("However, it rains. Thus, we wait.")
    assert only_two == "But it rains. So we wait."
    one = ConjunctionCount(at_least=1).regroup("Still, it rains. Thus, we wait.")
    assert one == "But it rains. Thus, we wait."  # no more swaps than missing
    assert ConjunctionCount(at_least=1).regroup("However, I stay.") == "But I stay."
    listed = ConjunctionCount(at_least=1).regroup("Steps:\n1. Otherwise, stop.")
    assert listed == "Steps:\n1. Or stop."  # a list item's opening
    assert spec.regroup("It rains, however, all day.") is None  # no opening adverb
    assert ConjunctionCount(at_least=1).regroup("Tea and jam.") is None  # it holds


def test_pronouns_count_every_use_and_split_on_slashes() -> None:
    assert PronounCount(at_least=4).check("She/her/hers said it.") is None
    assert PronounCount(at_least=2).check("The cat sat.") is not None
    assert PronounCount(at_least=1).check("This is something.") is not None  # as in 0.1.2
    assert PronounCount(at_least=1).check("It's here.") is None  # "its"


def test_names_are_whole_words_with_case() -> None:
    spec = NameCount(names=["Emma", "Leo"], at_least=2)
    assert spec.check("Emma met Leo.") is None
    assert spec.check("Emma met Leonard and emma.") is not None


def test_all_punctuation_needs_an_interrobang_and_every_mark() -> None:
    spec = AllPunctuation()
    assert spec.check("Wait, what?! Yes: go; now. Really? Yes!") is None
    no_bang = spec.check("Wait, what? Yes: go; now.")
    assert no_bang is not None
    assert "interrobang" in no_bang["message"]
    missing = spec.check("What?! Yes.")
    assert missing is not None
    assert missing["message"] == "punctuation marks never used: , ! ? ; :"


def test_punctuation_marks_that_need_no_new_words_are_put_in() -> None:
    spec = AllPunctuation()
    text = (
        "Here is the plan. It is short. Is it good? Why not?\nKey points\n"
        "1. The membrane is thin, and it bends.\n2. It moves."
    )
    assert spec.nearness(text) == pytest.approx(3 / 7)  # no ! ; : or interrobang
    regrouped = spec.regroup(text)
    assert regrouped == (
        "Here is the plan; it is short. Is it good? Why not?!\nKey points:\n"
        "1. The membrane is thin, and it bends.\n2. It moves!"
    )  # the shortest pair joined, a list introduced, one question of two astonished
    assert spec.check(regrouped) is None
    lone = "It is late. Why?"
    assert spec.regroup(lone) is None  # one question stays a question; no pair to join
    assert spec.regroup("### Steps\n1. Mix it, then stop.") is None  # a header takes no colon


def test_stop_word_ratio() -> None:
    spec = StopWordRatio(percent=40)
    assert spec.check("Cats chase mice quickly.") is None
    finding = spec.check("The cat is in the box and it is on the mat.")
    assert finding is not None
    assert finding["message"].startswith("stop words are ")
    assert "the" in finding["message"]
    assert spec.check("") is not None


@pytest.mark.parametrize(
    ("text", "passes"),
    [
        ("It rains. It pours. Why?", True),
        ("It rains. Why?", False),
        ("", True),  # zero of each is 2:1 too, as in IFBench
        ('He said "go." She went. "Why?"', True),
    ],
)
def test_sentence_type_ratio(text: str, passes: bool) -> None:
    assert (SentenceTypeRatio().check(text) is None) is passes


def test_sentence_type_balance() -> None:
    spec = SentenceTypeBalance()
    assert spec.check("It rains. Why? Wow!") is None
    finding = spec.check("It rains. It pours. Why? Wow!")
    assert finding is not None
    assert finding["message"].startswith("2 statements, 1 questions and 1 exclamations")


def test_word_repeat_limit_names_the_repeated_words() -> None:
    spec = WordRepeatLimit(at_most=2)
    assert spec.check("The cat and the dog.") is None
    finding = spec.check("The cat, the dog, THE bird.")
    assert finding is not None
    assert "'the' 3 times" in finding["message"]


def test_unique_words_strip_punctuation_and_case() -> None:
    assert UniqueWordCount(at_least=3).check("Cat, cat! CAT dog.") is not None
    assert UniqueWordCount(at_least=2).check("Cat, cat! CAT dog.") is None


def test_trigram_overlap_within_tolerance() -> None:
    reference = "The quick brown fox jumps over the lazy dog."
    assert TrigramOverlap(reference=reference, percent=100).check(reference) is None
    spec = TrigramOverlap(reference=reference, percent=50, tolerance=2)
    finding = spec.check(reference)
    assert finding is not None
    assert finding["message"].startswith("100% of the answer's character trigrams come from the")
    assert "copy less of" in finding["message"]
    low = spec.check("Zzz qqq vvv, xxx!")
    assert low is not None
    assert "copy more of" in low["message"]
    assert spec.check("Hi") is not None


def test_trigram_overlap_is_reached_by_taking_out_whole_sentences() -> None:
    reference = "The quick brown fox jumps over the lazy dog. It sleeps all day in the sun."
    own = "Wombats dig burrows with strong claws."
    text = f"Foxes are fast. {reference} {own}"
    spec = TrigramOverlap(reference=reference, percent=80)  # 56% as it is
    assert spec.check(text) is not None  # the wombat sentence is its own wording
    fixed = spec.repair(text)
    assert fixed == f"Foxes are fast. {reference}"  # that sentence out, nothing reworded
    assert spec.nearness(text) < 1
    copied = TrigramOverlap(reference=reference, percent=40)
    assert copied.repair(reference) is None  # a copy cannot become its own words by cutting
    assert "in the sun" not in copied.describe()  # named by its opening, not pasted again


def test_equal_sentences() -> None:
    spec = EqualSentences()
    assert spec.check("Cats nap. Dogs run. Owls fly.") is None
    uneven = spec.check("Cats nap. Dogs run far. Owls fly.")
    assert uneven is not None
    assert uneven["message"] == "the sentences have 9, 13, 9 characters: they must be equal"
    repeated = spec.check("Cats nap. Cats run. Owls fly.")
    assert repeated is not None
    assert repeated["message"] == "words used more than once: cats"
    assert spec.check("Cats nap. Dogs run.") is not None


def test_a_balance_regroups_statements_so_the_count_splits_three_ways() -> None:
    spec = SentenceTypeBalance()
    text = (
        "The war began in 1914. It ended in 1918. Millions of soldiers died in the trenches "
        "of France and Belgium and in the mountains of Italy.\n\nThe peace did not last. "
        "Ottoman forces withdrew."
    )
    joined = spec.regroup(text)
    assert joined == (
        "The war began in 1914; it ended in 1918. Millions of soldiers died in the trenches "
        "of France and Belgium and in the mountains of Italy.\n\nThe peace did not last; "
        "Ottoman forces withdrew!"
    )  # the two shortest pairs joined (a name keeps its capital, no join across a
    # paragraph), then the shortest statement an exclamation: a question is left to a model
    assert sentence_types(joined) == {".": 2, "!": 1}
    assert spec.regroup("It rains. It pours. Why? Wow! Stop. Go.") == (
        "It rains. It pours. Why? Wow! Stop! Go."
    )  # six already: no join, one more exclamation
    assert spec.regroup("It rains. Why? Wow! Stop!") is None  # no two statements side by side
    assert spec.regroup("It rains? It pours!") is None  # too few to balance, nothing to do
    assert join_shortest_statements("It takes steps. Below is a plan.") == (
        "It takes steps; below is a plan."
    )  # a stop word is no name
    assert join_shortest_statements("It rains. I stay.") == "It rains; I stay."


def test_sentence_types_and_repeats_earn_nearness_as_they_get_closer() -> None:
    def text(marks: str) -> str:
        return " ".join(f"Cats sleep{mark}" for mark in marks)

    ratio = SentenceTypeRatio()
    near = [ratio.nearness(text(m)) for m in ("....", "...?", "..??")]
    assert near == pytest.approx([0.0, 0.75, 0.5])  # 2:2 is past 2:1
    balance = SentenceTypeBalance()
    near = [balance.nearness(text(m)) for m in ("......", ".....?", "....!?")]
    assert near == pytest.approx([0.0, 0.25, 0.5])
    repeats = WordRepeatLimit(at_most=2)
    assert repeats.nearness("the the the the cat") < repeats.nearness("the the the cat")
