"""Checks on the shape of words and sentences, on passing and failing answers."""

from __future__ import annotations

import pytest

from core.instructions.shape import (
    AlliterationGrowth,
    AlphabetChain,
    ConsonantClusters,
    KeywordAtPosition,
    KeywordInSentence,
    LastWordFirstNext,
    LinesStartEndSame,
    NoSameFirstLetter,
    NthWordJapanese,
    PalindromeCount,
    PrimeLengthWords,
    SecondWordBothEnds,
    SentenceGrowth,
    SentenceInitialsAlphabet,
    SyllableAlternation,
    VowelLimit,
    syllables,
)


def test_keyword_in_sentence_says_which_sentence() -> None:
    spec = KeywordInSentence(keyword="snow", sentence=2)
    assert spec.check("It was cold. SNOW fell. Done.") is None
    finding = spec.check("Snow fell. It was cold.")
    assert finding is not None
    assert finding["message"] == "sentence 2 lacks the keyword 'snow': It was cold."
    short = spec.check("Snow fell.")
    assert short is not None
    assert "only 1 sentences" in short["message"]
    assert spec.check("It was cold. Snowy days.") is not None  # whole words only


def test_keyword_at_position_counts_punctuation_tokens_with_case() -> None:
    spec = KeywordAtPosition(keyword="snow", sentence=2, word=3)
    assert spec.check("Hello. The white snow fell.") is None
    finding = spec.check("Hello. Then, the snow fell.")  # ",": token 2
    assert finding is not None
    assert finding["message"] == "word 3 of sentence 2 is 'the', not 'snow'"
    assert spec.check("Hello. The white Snow fell.") is not None


def test_second_word_both_ends() -> None:
    spec = SecondWordBothEnds(keyword="blue")
    assert spec.check("The blue sky is very blue.") is None  # "." is the last token
    assert spec.check("The blue sky is very blue today") is None  # no final "."
    wrong = spec.check("The blue sky is grey today.")
    assert wrong is not None
    assert wrong["message"] == "the second-to-last word is 'today', not 'blue'"


def test_sentence_growth() -> None:
    spec = SentenceGrowth(step=1)
    assert spec.check("I ran. I ran far. I ran very far.") is None
    finding = spec.check("I ran. I ran far. I ran.")
    assert finding is not None
    assert finding["message"].startswith("sentence 3 has 2 words, it needs 4")


def test_last_word_first_next() -> None:
    spec = LastWordFirstNext()
    assert spec.check("I saw the sea. Sea birds flew. Flew away!") is None
    finding = spec.check("I saw the sea. Birds flew.")
    assert finding is not None
    assert "sentence 2 must start with 'sea'" in finding["message"]


def test_lines_start_end_same() -> None:
    spec = LinesStartEndSame()
    assert spec.check("Rain falls on rain.\n\nHope keeps hope") is None
    finding = spec.check("Rain falls on rain.\nSun rises.")
    assert finding is not None
    assert finding["message"] == "line 2 starts with 'sun' but ends with 'rises'"


def test_alphabet_chain_loops_after_z() -> None:
    spec = AlphabetChain()
    assert spec.check("Yes, zebras are big.") is None
    finding = spec.check("A big dog.")
    assert finding is not None
    assert finding["message"] == "word 3 'dog' should start with 'c'"
    assert spec.check("42 apples") is not None


def test_consonant_clusters() -> None:
    spec = ConsonantClusters()
    assert spec.check("Strong winds blew") is None
    finding = spec.check("Strong wind, a sea")
    assert finding is not None
    assert finding["message"] == "2 words lack two consonants in a row: a, sea"


def test_vowel_limit_wants_one_line() -> None:
    spec = VowelLimit()
    assert spec.check("A cat sat on a mat") is None
    assert spec.check("A cat\nsat") is not None
    finding = spec.check("I sue a cat on time")
    assert finding is not None
    assert finding["message"] == "5 different vowels used (a, e, i, o, u), at most 3"


def test_no_same_first_letter() -> None:
    assert NoSameFirstLetter().check("A big cat") is None
    finding = NoSameFirstLetter().check("Big bad cat")
    assert finding is not None
    assert finding["message"] == "1 neighbouring words share a first letter: big bad"


def test_palindromes() -> None:
    assert PalindromeCount(at_least=2).check("Level, the radar!") is None
    finding = PalindromeCount(at_least=2).check("A civic wow.")  # "wow" is too short
    assert finding is not None
    assert "1 palindromes of 5+ letters" in finding["message"]


@pytest.mark.parametrize(("text", "passes"), [("We ran to the sea", True), ("I ran", False)])
def test_prime_length_words(text: str, passes: bool) -> None:
    assert (PrimeLengthWords().check(text) is None) is passes


def test_alliteration_growth() -> None:
    spec = AlliterationGrowth()
    assert spec.check("Big bears run. Silly snakes slide slowly.") is None
    finding = spec.check("Silly snakes slide. Big bears run.")
    assert finding is not None
    assert finding["message"].startswith("sentence 2 has 2 alliterating words")


def test_nth_word_japanese_lets_numbers_through() -> None:
    spec = NthWordJapanese(every=3)
    assert spec.check("I like 寿司 very much, 1 2 3 ありがとう") is None
    finding = spec.check("I like sushi very much")
    assert finding is not None
    assert finding["message"] == "word 3 'sushi' is not Japanese"
    assert spec.check("I like 42") is None


def test_sentence_initials_alphabet() -> None:
    spec = SentenceInitialsAlphabet(count=3)
    assert spec.check('All cats nap. "Big dogs run." Cows moo.') is None
    finding = spec.check("All cats nap. Dogs run. Cows moo.")
    assert finding is not None
    assert finding["message"] == "sentence 2 starts with 'd', not 'b'"
    assert spec.check("All cats nap.") is not None


@pytest.mark.parametrize(
    ("word", "count"),
    [("cat", 1), ("water", 2), ("make", 1), ("table", 2), ("banana", 3), ("free", 1), ("", 0)],
)
def test_syllables(word: str, count: int) -> None:
    assert syllables(word) == count


def test_syllable_alternation() -> None:
    spec = SyllableAlternation()
    assert spec.check("Cat water dog table") is None
    finding = spec.check("Cat dog water")
    assert finding is not None
    assert finding["message"] == "words 1 and 2 ('cat', 'dog') both have odd numbers of syllables"


def test_last_word_first_next_keeps_punctuation_after_the_first_word() -> None:
    assert LastWordFirstNext().check("I saw the sea. Sea, birds flew.") is not None


def test_lines_that_do_not_end_with_their_first_word_get_it_before_the_closing_mark() -> None:
    spec = LinesStartEndSame()
    text = "Tides turn twice a day.\n\nSunrise paints the harbour gold!\nBoats rest, boats"
    assert spec.repair(text) == (
        "Tides turn twice a day, tides.\n\nSunrise paints the harbour gold, sunrise!\n"
        "Boats rest, boats"
    )


def test_a_keyword_rule_on_a_later_sentence_splits_joined_clauses_to_reach_it() -> None:
    spec = KeywordInSentence(keyword="tide", sentence=3)
    text = "The river floods every spring; the town moves its market uphill. It rains."
    grouped = spec.regroup(text)
    assert grouped == "The river floods every spring. The town moves its market uphill. It rains."
    assert spec.regroup(grouped) is None  # sentence 3 is there: the keyword is a rewording


def test_the_share_of_links_that_hold_is_how_near_a_chain_of_sentences_is() -> None:
    spec = LastWordFirstNext()
    assert spec.nearness("The tide rises. Rises are slow. Boats wait. Waiting is long.") == 1 / 3
    assert spec.nearness("The tide rises. Rises are slow.") == 0.0  # it holds: nothing to near
