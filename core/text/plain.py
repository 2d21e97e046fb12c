"""Plain-text helpers shared by the agents: sentences, words and token estimates."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_WHOLE_END = re.compile(r"[.!?][\"')\]]*(?=\s|$)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_CITATION = re.compile(r"\s*\[[^\[\]]{1,80}\]")


def sentences(text: str) -> list[str]:
    """Split text into sentences (good enough for prose; no model needed)."""
    text = " ".join(text.split())
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def whole_sentences(text: str) -> str:
    """`text` without a trailing unfinished sentence (a reply cut off at its token cap), its
    layout (line breaks, paragraphs, quotes) kept as it was; unchanged when it ends a sentence
    or is a single fragment."""
    ends = list(_WHOLE_END.finditer(text))
    if not ends or not re.search(r"\w", text[ends[-1].end() :]):
        return text
    return text[: ends[-1].end()]


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return [w.lower().strip("'-") for w in _WORD.findall(text)]


def strip_citations(text: str) -> str:
    """Text without `[doc-id]` citation markers."""
    return _CITATION.sub("", text)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 4 characters a token) for budgeting prompts offline."""
    return max(1, (len(text) + 3) // 4)


def normalise(sentence: str) -> str:
    """A sentence reduced to its words, for spotting repeats."""
    return " ".join(words(strip_citations(sentence)))
