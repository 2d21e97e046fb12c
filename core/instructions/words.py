"""Checks on which words appear and how often: keywords, forbidden words, letters, capitals."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from core.instructions.base import Counted, Spec, Word
from core.instructions.text import fewer_sentences_holding, strip_punctuation, tokens
from core.state import Finding


def _occurrences(keyword: str, text: str) -> int:
    return len(re.findall(re.escape(keyword), text, flags=re.IGNORECASE))


class IncludedKeywords(Spec):
    """Every keyword appears at least once, in any case.

    As IFEval (`keywords:existence`) a keyword is matched as a substring ("cat" is found in
    "category"); the reference passes the keyword as a regular expression, this escapes it."""

    kind: Literal["included_keywords"] = "included_keywords"
    keywords: Annotated[list[Word], Field(min_length=1, max_length=50)]

    def check(self, text: str) -> Finding | None:
        missing = [k for k in self.keywords if not _occurrences(k, text)]
        if not missing:
            return None
        return self.finding(f"missing keywords: {', '.join(missing)}", *missing)

    def describe(self) -> str:
        return f"Include the keywords {', '.join(repr(k) for k in self.keywords)}."

    def nearness(self, text: str) -> float:
        return sum(bool(_occurrences(k, text)) for k in self.keywords) / len(self.keywords)


class KeywordFrequency(Counted):
    """A keyword appears a number of times, in any case, counted as a substring like IFEval's
    `keywords:frequency` (so "cat" also counts inside "category"; set `whole_word` to count
    whole words only, as IFBench's keyword counts do)."""

    kind: Literal["keyword_frequency"] = "keyword_frequency"
    keyword: Word
    whole_word: bool = False

    def count(self, text: str) -> int:
        if self.whole_word:
            pattern = r"(?<!\w)" + re.escape(self.keyword) + r"(?!\w)"
            return len(re.findall(pattern, text, flags=re.IGNORECASE))
        return _occurrences(self.keyword, text)

    def check(self, text: str) -> Finding | None:
        n = self.count(text)
        times = "time" if n == 1 else "times"
        return self.counted(n, times, f"for the keyword {self.keyword!r}")

    def describe(self) -> str:
        return f"Use the word {self.keyword!r} {self.relation()} times."

    def _repair(self, text: str) -> str | None:
        """Too many: whole sentences that use the keyword taken out (`fewer_sentences_holding`;
        measured on IFEval-kinds dev: ifeval-k35 allowed 'comfortable' once, used it three
        times, and rewordings to take it out were refused)."""
        high = self.high()
        return None if high is None else fewer_sentences_holding(text, self.count, high)


class ForbiddenWords(Spec):
    """None of the words appears as a whole word, in any case (IFEval's
    `keywords:forbidden_words`: `\\bword\\b`, case-insensitive)."""

    kind: Literal["forbidden_words"] = "forbidden_words"
    words: Annotated[list[Word], Field(min_length=1, max_length=50)]

    def used(self, text: str) -> list[str]:
        return [
            w
            for w in self.words
            if re.search(r"\b" + re.escape(w) + r"\b", text, flags=re.IGNORECASE)
        ]

    def check(self, text: str) -> Finding | None:
        used = self.used(text)
        if not used:
            return None
        return self.finding(f"uses forbidden words: {', '.join(used)}", *used)

    def describe(self) -> str:
        return f"Do not use the words {', '.join(repr(w) for w in self.words)}."

    def count(self, text: str) -> int:
        return sum(
            len(re.findall(r"\b" + re.escape(w) + r"\b", text, flags=re.IGNORECASE))
            for w in self.words
        )

    def _repair(self, text: str) -> str | None:
        """The sentences that use a forbidden word taken out (`fewer_sentences_holding`),
        measured on held-out IFEval kinds: told not to mention a helmet, the model listed one
        among the gear to wear, and its rewrite kept it."""
        return fewer_sentences_holding(text, self.count, 0)


class LetterFrequency(Counted):
    """A letter appears a number of times, in any case (IFEval's `keywords:letter_frequency`
    counts the lower-cased letter in the lower-cased text)."""

    kind: Literal["letter_frequency"] = "letter_frequency"
    letter: Annotated[str, Field(min_length=1, max_length=1, pattern=r"^[^\W\d_]$")]

    def check(self, text: str) -> Finding | None:
        return self.counted(self.count(text), "times", f"for the letter {self.letter!r}")

    def describe(self) -> str:
        return f"Use the letter {self.letter!r} {self.relation()} times."

    def count(self, text: str) -> int:
        return text.lower().count(self.letter.lower())

    def _repair(self, text: str) -> str | None:
        """Too many: whole sentences that use the letter taken out, the ones using it most
        first (measured on IFEval-kinds dev: told to use 'z' fewer than three times, the model
        wrote 'Zero', 'Zoning' and 'zebra's' twice)."""
        high = self.high()
        return None if high is None else fewer_sentences_holding(text, self.count, high)


class CapitalWordFrequency(Counted):
    """Words written in all capitals appear a number of times.

    IFEval tokenizes with nltk's `word_tokenize`; this counts regex tokens that keep inner
    hyphens, apostrophes and dots, so "U.S." is one word here (and "I" counts, as there)."""

    kind: Literal["capital_word_frequency"] = "capital_word_frequency"

    def capitals(self, text: str) -> list[str]:
        return [t for t in tokens(text) if t.isupper()]

    def check(self, text: str) -> Finding | None:
        return self.counted(len(self.capitals(text)), "words in all capitals")

    def describe(self) -> str:
        return f"Write {self.relation()} words in ALL CAPITAL letters."

    def _repair(self, text: str) -> str | None:
        caps = len(self.capitals(text))
        if caps < self.low():
            return _recase(text, self.low() - caps, upper=True)
        high = self.high()
        if high is not None and caps > high:
            return _recase(text, caps - high, upper=False)
        return None


def _recase(text: str, n: int, *, upper: bool) -> str | None:
    """`text` with `n` more (upper) or fewer (not upper) all-capital words: the first words
    that can change, in order, are upper-cased, or the last capital words capitalised."""
    found = list(re.finditer(r"\w+(?:[-'.’]\w+)*", text))
    if upper:
        pick = [m for m in found if not m.group().isupper() and any(c.isalpha() for c in m.group())]
        pick = pick[:n]
    else:
        pick = [m for m in found if m.group().isupper()][-n:] if n else []
    if len(pick) < n:
        return None
    out = text
    for m in sorted(pick, key=lambda m: m.start(), reverse=True):
        word = m.group().upper() if upper else m.group().capitalize()
        if not upper and word.isupper():
            word = word.lower()
        out = out[: m.start()] + word + out[m.end() :]
    return out


class UniqueWordCount(Counted):
    """The number of distinct words: whitespace-separated, lower-cased, with punctuation
    stripped from their ends (IFBench's `count:unique_word_count`)."""

    kind: Literal["unique_word_count"] = "unique_word_count"

    def check(self, text: str) -> Finding | None:
        distinct = {strip_punctuation(w) for w in text.lower().split()}
        return self.counted(len(distinct), "distinct words")

    def describe(self) -> str:
        return f"Use {self.relation()} distinct words."
