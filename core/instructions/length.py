"""Checks on how long the answer is: words, sentences, paragraphs, and paragraph openings."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from core.instructions.base import Counted, Spec, Word
from core.instructions.text import (
    WORD_PATTERN,
    blank_line_paragraphs,
    sentence_spans,
    sentences,
    star_paragraphs,
    words,
)
from core.state import Finding
from core.text.plain import replace_spans


class WordCount(Counted):
    """The number of words, counted as IFEval does: runs of `\\w` ("don't" is two words)."""

    kind: Literal["word_count"] = "word_count"

    def check(self, text: str) -> Finding | None:
        return self.counted(len(words(text)), "words")

    def describe(self) -> str:
        return f"Write {self.relation()} words."

    def _repair(self, text: str) -> str | None:
        high = self.high()
        if high is None or high < max(1, self.low()):
            return None
        cut = trim_to_words(text, high)
        if len(words(cut)) >= self.low():
            return cut
        return skipped_to_words(text, self.low(), high) or cut


def skipped_to_words(text: str, low: int, high: int) -> str | None:
    """`text` brought within `low` to `high` words where cutting its end cannot land there
    (measured on IFBench dev: 76 words after the last whole sentence that fits 93, 81
    required): its sentences in order, each kept while it still fits, so a shorter one further
    on takes the place of one too long; the first always stays and nothing is reworded. None
    where no such choice is within the range."""
    spans = sentence_spans(text)
    total, last, dropped = 0, 0, {}
    for a, b in spans:
        n = len(words(text[a:b]))
        if total + n <= high:
            total, last = total + n, b
        elif not last:
            return None  # the first sentence alone is too long
        else:
            dropped[(a, b)] = ""
    kept = replace_spans(text[:last], {span: "" for span in dropped if span[1] <= last})
    return kept if low <= len(words(kept)) <= high else None


def trim_to_words(text: str, limit: int) -> str:
    """`text` cut to at most `limit` words: after the last whole sentence that fits, or after
    the `limit`-th word when not even the first sentence fits."""
    ends = [b for _, b in sentence_spans(text) if len(words(text[:b])) <= limit]
    if ends:
        return text[: ends[-1]]
    found = list(WORD_PATTERN.finditer(text))
    return text[: found[limit - 1].end()] if limit and len(found) >= limit else text


class SentenceCount(Counted):
    """The number of sentences.

    IFEval and IFBench count with nltk's punkt model; this splits at `.`, `!`, `?` and `…`
    before whitespace, except after known abbreviations or initials, whatever case the next
    word is in (see `text.sentence_spans`). A line without end punctuation runs on into the next
    line's sentence, as in punkt; unusual abbreviations may count differently."""

    kind: Literal["sentence_count"] = "sentence_count"

    def check(self, text: str) -> Finding | None:
        return self.counted(len(sentences(text)), "sentences")

    def describe(self) -> str:
        return f"Write {self.relation()} sentences."

    def _repair(self, text: str) -> str | None:
        spans = sentence_spans(text)
        high = self.high()
        if high is None or not high or len(spans) <= high:
            return None
        return text[: spans[high - 1][1]]


Divider = Literal["***", "blank line"]


class ParagraphCount(Counted):
    """The number of paragraphs. With the `***` divider (IFEval's `number_paragraphs`), the text
    is split at `\\s?\\*\\*\\*\\s?`; an empty first or last part is not counted and an empty
    part between two dividers fails the check. With `blank line`, paragraphs are the non-empty
    blocks between blank lines."""

    kind: Literal["paragraph_count"] = "paragraph_count"
    divider: Divider = "***"

    def check(self, text: str) -> Finding | None:
        if self.divider == "blank line":
            return self.counted(len(blank_line_paragraphs(text)), "paragraphs")
        parts = star_paragraphs(text)
        n = len(parts)
        for i, part in enumerate(parts):
            if part.strip():
                continue
            if 0 < i < len(parts) - 1:
                return self.finding(f"paragraph {i + 1} is empty: two *** dividers in a row")
            n -= 1
        return self.counted(n, "paragraphs", "divided by ***")

    def describe(self) -> str:
        how = "divided by a line of ***" if self.divider == "***" else "divided by blank lines"
        return f"Write {self.relation()} paragraphs, {how}."

    def _repair(self, text: str) -> str | None:
        units = blank_line_paragraphs(re.sub(r"(?m)^\s*\*\*\*\s*$", "\n", text))
        units = regroup(units, self.target(len(units)))
        if units is None:
            return None
        return ("\n\n***\n\n" if self.divider == "***" else "\n\n").join(units)


def regroup(paragraphs: list[str], target: int) -> list[str] | None:
    """`paragraphs` made `target` paragraphs long: neighbours merged, or the longest split at
    a sentence boundary; None when there are too few sentences to split."""
    units = list(paragraphs)
    if target < 1:
        return None
    while len(units) > target:
        i = min(range(len(units) - 1), key=lambda i: len(units[i]) + len(units[i + 1]))
        units[i : i + 2] = [units[i] + " " + units[i + 1]]
    while len(units) < target:
        i = max(range(len(units)), key=lambda i: len(sentences(units[i]))) if units else 0
        spans = sentence_spans(units[i]) if units else []
        if len(spans) < 2:
            return None
        cut = spans[len(spans) // 2][0]
        units[i : i + 1] = [units[i][:cut].rstrip(), units[i][cut:].strip()]
    return units


class NthParagraphFirstWord(Spec):
    """Exactly `paragraphs` paragraphs divided by blank lines, and paragraph `nth` starts with
    `first_word`, as IFEval's `nth_paragraph_first_word` checks: the text is split at every
    `\\n\\n`, empty parts are not counted, the nth part of the split (empty ones included) is
    read, and its first word is taken up to a `.` or `,` with leading quotes dropped, compared
    without case."""

    kind: Literal["nth_paragraph_first_word"] = "nth_paragraph_first_word"
    paragraphs: Annotated[int, Field(ge=1, le=1000)]
    nth: Annotated[int, Field(ge=1, le=1000)]
    first_word: Word

    @model_validator(mode="after")
    def _nth_within(self) -> Self:
        if self.nth > self.paragraphs:
            raise ValueError("`nth` is beyond the number of paragraphs")
        return self

    def check(self, text: str) -> Finding | None:
        parts = text.split("\n\n")
        n = sum(1 for p in parts if p.strip())
        if n != self.paragraphs:
            gap = (
                f"{abs(n - self.paragraphs)} {'more needed' if n < self.paragraphs else 'too many'}"
            )
            message = (
                f"{n} paragraphs divided by blank lines, exactly {self.paragraphs} required: {gap}"
            )
            return self.finding(message, str(n), str(self.paragraphs))
        paragraph = parts[self.nth - 1].strip() if self.nth <= len(parts) else ""
        first = _first_word(paragraph)
        if first == self.first_word.lower():
            return None
        message = (
            f"paragraph {self.nth} starts with {first!r}, not {self.first_word!r}"
            if paragraph
            else f"paragraph {self.nth} is empty (two blank lines in a row before it)"
        )
        return self.finding(message, str(self.nth), first)

    def describe(self) -> str:
        return (
            f"Write exactly {self.paragraphs} paragraphs separated by blank lines; "
            f"paragraph {self.nth} must start with the word {self.first_word!r}."
        )

    def _repair(self, text: str) -> str | None:
        """With the right number of paragraphs, paragraph `nth` opens with the word and a comma
        ("Today, bicycles are ..."), its old first letter lower-cased unless it is "I" or a
        name (a capital not at the start of a sentence elsewhere in the text)."""
        parts = text.split("\n\n")
        if sum(1 for p in parts if p.strip()) != self.paragraphs or self.nth > len(parts):
            return None
        paragraph = parts[self.nth - 1]
        body = paragraph.lstrip()
        if not body:
            return None
        head = body.split()[0].strip("\"'")
        named = head == "I" or re.search(rf"[a-z,;] {re.escape(head)}\b", text) is not None
        body = body if named else body[0].lower() + body[1:]
        word = self.first_word[0].upper() + self.first_word[1:]
        parts[self.nth - 1] = (
            paragraph[: len(paragraph) - len(paragraph.lstrip())] + f"{word}, {body}"
        )
        return "\n\n".join(parts)


def _first_word(paragraph: str) -> str:
    if not paragraph:
        return ""
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    return re.split(r"[.,]", word, maxsplit=1)[0].lower()
