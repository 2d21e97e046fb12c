"""Checks on the shape of words and sentences (IFBench's words and sentence families): where a
keyword sits, how sentences grow, how words start and end, letters and palindromes.

Sentences are split as IFBench splits them (`text.rule_sentences`). Where IFBench tokenizes
with nltk, these use a regular expression (`_word_tokens`) that agrees on ordinary words and
punctuation and may differ on contractions ("don't" is "don" + "'t" here, "do" + "n't" there)."""

from __future__ import annotations

import re
import string
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import Field

from core.instructions import grammars
from core.instructions.base import Counted, Spec, Word
from core.instructions.text import bare_words, rule_sentences, split_clauses, strip_punctuation
from core.state import Finding

Position = Annotated[int, Field(ge=1, le=10_000)]


def _word_tokens(text: str) -> list[str]:
    """Words and punctuation marks as tokens, as nltk's `word_tokenize` gives them to
    if-verifiable 0.1.2 (a full stop is a token of its own)."""
    return re.findall(r"\w+(?:-\w+)*|'\w+|[^\w\s]", text)


SENTENCE_WORDS = 18
"""About how many words a sentence of an answer takes, for sizing a draft."""


def growing_to(n: int, text: str) -> float:
    """How near a text with fewer than `n` sentences is to having sentence `n`, at most 0.8
    (a text that has it but breaks the rule there earns nothing)."""
    have = len(rule_sentences(text))
    return 0.8 * have / n if have < n else 0.0


def at_least_sentences(n: int) -> str:
    """What a rule on sentence `n` adds to its wording, so a draft is long enough to have it
    (nothing for the first three)."""
    return f" (so the response has at least {n} sentences)" if n > 3 else ""


class KeywordInSentence(Spec):
    """The keyword appears as a whole word, in any case, in sentence `sentence`
    (IFBench's `sentence:keyword`)."""

    kind: Literal["keyword_in_sentence"] = "keyword_in_sentence"
    keyword: Word
    sentence: Position

    def words_needed(self) -> int:
        return self.sentence * SENTENCE_WORDS

    def nearness(self, text: str) -> float:
        return growing_to(self.sentence, text)

    def check(self, text: str) -> Finding | None:
        parts = rule_sentences(text)
        if len(parts) < self.sentence:
            return self.finding(
                f"only {len(parts)} sentences: the keyword {self.keyword!r} must be in sentence "
                f"{self.sentence}"
            )
        target = parts[self.sentence - 1]
        if re.search(rf"\b{re.escape(self.keyword)}\b", target, flags=re.IGNORECASE):
            return None
        return self.finding(
            f"sentence {self.sentence} lacks the keyword {self.keyword!r}: {target}", target
        )

    def describe(self) -> str:
        return (
            f"Use the word {self.keyword!r} in sentence number {self.sentence}"
            f"{at_least_sentences(self.sentence)}."
        )

    def regroup(self, text: str) -> str | None:
        """Clauses joined by a semicolon or a conjunction told as sentences of their own
        (`split_clauses`), where the text has fewer sentences than the rule's number."""
        have = len(rule_sentences(text))
        return split_clauses(text, self.sentence - have) if have < self.sentence else None


class KeywordAtPosition(Spec):
    """The keyword is token `word` of sentence `sentence`, with case. As in if-verifiable 0.1.2's
    `words:keywords_specific_position`, punctuation marks count as tokens ("Then, the": "the"
    is the third); IFBench's later versions skip them, which this does not."""

    kind: Literal["keyword_at_position"] = "keyword_at_position"
    keyword: Word
    sentence: Position
    word: Position

    def words_needed(self) -> int:
        return self.sentence * SENTENCE_WORDS

    def nearness(self, text: str) -> float:
        return growing_to(self.sentence, text)

    def check(self, text: str) -> Finding | None:
        parts = rule_sentences(text)
        if len(parts) < self.sentence:
            return self.finding(f"only {len(parts)} sentences, sentence {self.sentence} needed")
        found = _word_tokens(parts[self.sentence - 1])
        if len(found) < self.word:
            return self.finding(
                f"sentence {self.sentence} has {len(found)} words, {self.keyword!r} must be word "
                f"{self.word}"
            )
        if found[self.word - 1] == self.keyword:
            return None
        return self.finding(
            f"word {self.word} of sentence {self.sentence} is {found[self.word - 1]!r}, "
            f"not {self.keyword!r}"
        )

    def describe(self) -> str:
        return (
            f"Make {self.keyword!r} word number {self.word} of sentence number "
            f"{self.sentence}{at_least_sentences(self.sentence)}."
        )


class SecondWordBothEnds(Spec):
    """The second token and the second-to-last token are both the keyword, with case. As in
    if-verifiable 0.1.2's `words:words_position`, punctuation marks are tokens, so a final full
    stop is the last token and the keyword must come just before the last word."""

    kind: Literal["second_word_both_ends"] = "second_word_both_ends"
    keyword: Word

    def check(self, text: str) -> Finding | None:
        found = _word_tokens(text)
        if len(found) < 2:
            return self.finding("the answer has fewer than two words")
        second, second_last = found[1], found[-2]
        wrong = [
            f"the {where} word is {w!r}"
            for where, w in (("second", second), ("second-to-last", second_last))
            if w != self.keyword
        ]
        if not wrong:
            return None
        return self.finding(f"{' and '.join(wrong)}, not {self.keyword!r}")

    def describe(self) -> str:
        return (
            f"Make both the second word and the second-to-last word {self.keyword!r} "
            "(a final full stop counts as the last word)."
        )


class SentenceGrowth(Spec):
    """Each sentence has exactly `step` more words than the one before (IFBench's
    `sentence:increment`; words are whitespace-separated once punctuation is removed)."""

    kind: Literal["sentence_growth"] = "sentence_growth"
    step: Annotated[int, Field(ge=0, le=100)]

    def check(self, text: str) -> Finding | None:
        counts = [len(bare_words(s)) for s in rule_sentences(text)]
        for i in range(1, len(counts)):
            if counts[i] != counts[i - 1] + self.step:
                return self.finding(
                    f"sentence {i + 1} has {counts[i]} words, it needs {counts[i - 1] + self.step} "
                    f"({self.step} more than sentence {i}'s {counts[i - 1]})",
                    str(i + 1),
                )
        return None

    def describe(self) -> str:
        return f"Give each sentence exactly {self.step} more words than the sentence before it."


def edge_words(sentence: str) -> tuple[str, str]:
    """A sentence's first and last word as IFBench's `words:last_first` reads them (outer
    punctuation stripped, lower case)."""
    first = sentence.lstrip(string.punctuation + " ").split()
    last = sentence.rstrip(string.punctuation + " ").split()
    return (first[0].lower() if first else ""), (last[-1].lower() if last else "")


def _link(before: str, after: str) -> bool:
    """Whether `after` starts with the word `before` ends with, as IFBench compares them."""
    (_, last), (first, _) = edge_words(before), edge_words(after)
    return bool(last and first) and last == first


class LastWordFirstNext(Spec):
    """The last word of each sentence is the first word of the next, compared without case
    (IFBench's `words:last_first`: punctuation is stripped from the end of a sentence and the
    start of the next, so "Sea, birds" starts with "sea," and does not match "sea")."""

    kind: Literal["last_word_first_next"] = "last_word_first_next"

    def check(self, text: str) -> Finding | None:
        parts = rule_sentences(text)
        for i in range(len(parts) - 1):
            last = parts[i].rstrip(string.punctuation + " ").split()
            first = parts[i + 1].lstrip(string.punctuation + " ").split()
            if not _link(parts[i], parts[i + 1]):
                return self.finding(
                    f"sentence {i + 2} must start with {last[-1] if last else ''!r}, the last "
                    f"word of sentence {i + 1}; it starts with {first[0] if first else ''!r}",
                    str(i + 2),
                )
        return None

    def describe(self) -> str:
        return "Start each sentence with the last word of the sentence before it."

    def nearness(self, text: str) -> float:
        """The share of the links between sentences that hold (the rule is met link by link,
        so a round that mends some of them is the next round's start)."""
        parts = rule_sentences(text)
        links = list(pairwise(parts))
        held = sum(_link(a, b) for a, b in links)
        return held / len(links) if links and held < len(links) else 0.0


class LinesStartEndSame(Spec):
    """Each line (paragraph) ends with the word it starts with, compared without case
    (IFBench's `words:paragraph_last_first`, which splits paragraphs at every newline)."""

    kind: Literal["lines_start_end_same"] = "lines_start_end_same"

    def check(self, text: str) -> Finding | None:
        for i, line in enumerate(text.split("\n"), 1):
            found = strip_punctuation(line.strip().lower()).split()
            if found and found[0] != found[-1]:
                return self.finding(
                    f"line {i} starts with {found[0]!r} but ends with {found[-1]!r}", str(i)
                )
        return None

    def describe(self) -> str:
        return "End every paragraph (line) with the same word it starts with."

    def _repair(self, text: str) -> str | None:
        """Each line that does not already end with its first word gets it at the end, before
        the closing punctuation ("Tides turn twice a day, tides.")."""
        lines = []
        for line in text.split("\n"):
            found = strip_punctuation(line.strip().lower()).split()
            if found and found[0] != found[-1]:
                body = line.rstrip()
                cut = len(body.rstrip(string.punctuation + " "))
                line = f"{body[:cut]}, {found[0]}{body[cut:]}"
            lines.append(line)
        return "\n".join(lines)


class AlphabetChain(Spec):
    """Each word starts with the letter after the previous word's, Z looping to A (IFBench's
    `words:alphabet`; punctuation removed, the first word must start with a letter)."""

    kind: Literal["alphabet_chain"] = "alphabet_chain"

    def check(self, text: str) -> Finding | None:
        found = bare_words(text)
        if not found or found[0][0] not in string.ascii_lowercase:
            return self.finding("the answer must start with a word starting with a letter")
        letter = found[0][0]
        for i, word in enumerate(found[1:], 2):
            letter = string.ascii_lowercase[(string.ascii_lowercase.index(letter) + 1) % 26]
            if word[0] != letter:
                return self.finding(f"word {i} {word!r} should start with {letter!r}", str(i))
        return None

    def describe(self) -> str:
        return "Start each word with the next letter of the alphabet, looping from Z back to A."

    def grammar(self) -> str | None:
        return grammars.letter_chain()


class ConsonantClusters(Spec):
    """Every word has two consonants in a row (IFBench's `words:consonants`: words split on
    whitespace, punctuation included)."""

    kind: Literal["consonant_clusters"] = "consonant_clusters"

    def check(self, text: str) -> Finding | None:
        bad = [w for w in text.lower().split() if not re.search(r"[b-df-hj-np-tv-z]{2}", w)]
        if not bad:
            return None
        return self.finding(
            f"{len(bad)} words lack two consonants in a row: {', '.join(bad[:10])}", *bad[:20]
        )

    def describe(self) -> str:
        return "Use only words that have two consonants in a row (like 'strong', 'fish')."


class VowelLimit(Spec):
    """One paragraph on a single line whose words use at most `at_most` different vowels
    (IFBench's `words:vowel`: three)."""

    kind: Literal["vowel_limit"] = "vowel_limit"
    at_most: Annotated[int, Field(ge=1, le=5)] = 3

    def check(self, text: str) -> Finding | None:
        if "\n" in text.strip():
            return self.finding("the answer must be one paragraph on a single line")
        used = sorted(set(text.lower()) & set("aeiou"))
        if len(used) <= self.at_most:
            return None
        return self.finding(
            f"{len(used)} different vowels used ({', '.join(used)}), at most {self.at_most}",
            *used,
        )

    def describe(self) -> str:
        return (
            f"Write one paragraph on a single line using words with at most {self.at_most} "
            "different vowels in all."
        )

    def grammar(self) -> str | None:
        """Only the most used vowels of English (e, a, o, i, u in that order): the model keeps
        the most words it would have written."""
        return grammars.without_letters("eaoiu"[self.at_most :])


class NoSameFirstLetter(Spec):
    """No two neighbouring words start with the same letter (IFBench's `words:no_consecutive`;
    words lower-cased, punctuation removed)."""

    kind: Literal["no_same_first_letter"] = "no_same_first_letter"

    def check(self, text: str) -> Finding | None:
        found = bare_words(text)
        pairs = [(a, b) for a, b in pairwise(found) if a[0] == b[0]]
        if not pairs:
            return None
        listed = "; ".join(f"{a} {b}" for a, b in pairs[:8])
        return self.finding(f"{len(pairs)} neighbouring words share a first letter: {listed}")

    def describe(self) -> str:
        return "Never let two neighbouring words start with the same letter."

    def grammar(self) -> str | None:
        return grammars.distinct_neighbour_initials()


class PalindromeCount(Counted):
    """The number of palindrome words of at least `min_length` letters (IFBench's
    `words:palindrome`: ten of five or more; punctuation removed, compared lower-cased)."""

    kind: Literal["palindrome_count"] = "palindrome_count"
    min_length: Annotated[int, Field(ge=2, le=50)] = 5

    def check(self, text: str) -> Finding | None:
        found = [w for w in bare_words(text) if len(w) >= self.min_length and w == w[::-1]]
        return self.counted(len(found), f"palindromes of {self.min_length}+ letters")

    def describe(self) -> str:
        return (
            f"Include {self.relation()} palindrome words of at least {self.min_length} letters "
            "(like 'level', 'radar')."
        )


_PRIMES = frozenset({2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47})


class PrimeLengthWords(Spec):
    """Every word's length is a prime number (IFBench's `words:prime_lengths`: punctuation
    removed, whitespace split; one-letter words fail)."""

    kind: Literal["prime_length_words"] = "prime_length_words"

    def check(self, text: str) -> Finding | None:
        bad = [w for w in text.translate(str.maketrans("", "", string.punctuation)).split()]
        bad = [w for w in bad if len(w) not in _PRIMES]
        if not bad:
            return None
        return self.finding(
            f"{len(bad)} words have a length that is not prime: {', '.join(bad[:10])}", *bad[:20]
        )

    def describe(self) -> str:
        return "Use only words whose number of letters is prime (2, 3, 5, 7, 11...)."


class AlliterationGrowth(Spec):
    """Each sentence has a longer alliteration than the one before: counting, in each
    sentence, the words that start with the same letter as a neighbour in a run (IFBench's
    `sentence:alliteration_increment`)."""

    kind: Literal["alliteration_growth"] = "alliteration_growth"

    def check(self, text: str) -> Finding | None:
        previous = -1
        for i, sentence in enumerate(rule_sentences(text), 1):
            found = [w.lstrip(string.punctuation) for w in sentence.lower().split()]
            found = [w for w in found if w]
            score, run = 0, False
            for a, b in pairwise(found):
                same = a[0] == b[0]
                score += (1 if run else 2) if same else 0
                run = same
            if score <= previous:
                return self.finding(
                    f"sentence {i} has {score} alliterating words, more than sentence "
                    f"{i - 1}'s {previous} are needed",
                    str(i),
                )
            previous = score
        return None

    def describe(self) -> str:
        return (
            "Make each sentence hold a longer run of alliterating words "
            "(same first letter) than the sentence before."
        )


_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


class NthWordJapanese(Spec):
    """Every `every`-th whitespace-separated word is Japanese (has a kana or kanji character);
    bare numbers are let through (IFBench's `count:words_japanese`)."""

    kind: Literal["nth_word_japanese"] = "nth_word_japanese"
    every: Annotated[int, Field(ge=1, le=1000)]

    def check(self, text: str) -> Finding | None:
        for i, word in enumerate(text.split(), 1):
            word = strip_punctuation(word)
            if i % self.every == 0 and word and not word.isdigit() and not _JAPANESE.search(word):
                return self.finding(f"word {i} {word!r} is not Japanese", str(i), word)
        return None

    def describe(self) -> str:
        return f"Write every {self.every}th word in Japanese (counting words by spaces)."


class SentenceInitialsAlphabet(Spec):
    """Exactly `count` sentences whose first letters run through the alphabet from A (IFBench's
    `custom:sentence_alphabet`: 26 sentences, A to Z)."""

    kind: Literal["sentence_initials_alphabet"] = "sentence_initials_alphabet"
    count: Annotated[int, Field(ge=1, le=26)] = 26

    def words_needed(self) -> int:
        return self.count * SENTENCE_WORDS

    def check(self, text: str) -> Finding | None:
        parts = rule_sentences(text)
        if len(parts) != self.count:
            return self.finding(f"{len(parts)} sentences, exactly {self.count} required")
        for i, sentence in enumerate(parts):
            first = sentence.lstrip(string.punctuation + string.whitespace)[:1].lower()
            if first != string.ascii_lowercase[i]:
                return self.finding(
                    f"sentence {i + 1} starts with {first!r}, not {string.ascii_lowercase[i]!r}",
                    str(i + 1),
                )
        return None

    def describe(self) -> str:
        last = string.ascii_uppercase[self.count - 1]
        return f"Write {self.count} sentences whose first words start with A, B, C... to {last}."


def syllables(word: str) -> int:
    """A word's syllables by vowel groups, a silent final "e" dropped (IFBench asks `syllapy`,
    which looks words up in a dictionary first; rare words may count differently)."""
    word = re.sub(r"[^a-z]", "", word.lower())
    if not word:
        return 0
    groups = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1
    return max(1, groups)


class SyllableAlternation(Spec):
    """Neighbouring words alternate between odd and even numbers of syllables (IFBench's
    `words:odd_even_syllables`; syllables counted by `syllables`)."""

    kind: Literal["syllable_alternation"] = "syllable_alternation"

    def check(self, text: str) -> Finding | None:
        found = [w for w in bare_words(text) if w.strip()]
        for i, (a, b) in enumerate(pairwise(found), 2):
            if syllables(a) % 2 == syllables(b) % 2:
                return self.finding(
                    f"words {i - 1} and {i} ({a!r}, {b!r}) both have "
                    f"{'odd' if syllables(a) % 2 else 'even'} numbers of syllables",
                    str(i),
                )
        return None

    def describe(self) -> str:
        return "Alternate words with odd and even numbers of syllables."
