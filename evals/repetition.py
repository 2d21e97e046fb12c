"""Loops an answer falls into, counted without a model: sentences that repeat an earlier one's
frame. Perplexity under the second model rewards a loop, because a loop is predictable: dev
cgh001's refined answer, eight sentences of "The bird was always X-ing the goat's Y, but the goat
would never let him.", read at perplexity 4.35, a varied answer to the same task at 8.13. So the
coherence family counts loops beside perplexity.

Independent of the engine's own checks (`nodes.validate.repeated_sentences`,
`nodes.refine.echoes`): its own sentence splitter (nltk's punkt, shipped in `evals/nltk_data`)
and its own test of what a repeat is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from evals.nltk_offline import use_shipped_data

OPENING_WORDS = 3
"""A sentence opening with the same this many words as an earlier one repeats its frame ("She
would then ..." seven times over in a refined dev answer)."""
TRIGRAM_SHARE = 1 / 3
"""A sentence with at least this share of its word trigrams in one earlier sentence says that
sentence again with a word or two swapped: ", but the goat would never let him." closing two
sentences of 15 words is 5 of their 13 trigrams. Read on 10 held-out refined answers, the
sentences it finds at a third are all such frames ("The nap spread through the room, its
warmth ..." then "The nap spread through the row, its warmth ..."); at a half it missed the
goat's frame behind another opener."""

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@lru_cache(maxsize=1)
def _splitter() -> Callable[[str], list[str]]:
    use_shipped_data()
    from nltk.tokenize import sent_tokenize

    return sent_tokenize


def sentence_words(text: str) -> list[list[str]]:
    """The text's sentences as lists of lower-case words: each line split by punkt (a list item
    without a full stop is a sentence of its own), sentences without a word left out."""
    split = _splitter()
    found = []
    for line in text.splitlines():
        for sentence in split(line):
            if words := _WORD.findall(sentence.lower().replace("’", "'")):
                found.append(words)
    return found


def _trigrams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def repeats_frame(words: list[str], earlier: list[list[str]]) -> bool:
    """Whether a sentence repeats the frame of one of the `earlier` sentences."""
    opening = words[:OPENING_WORDS]
    if len(opening) == OPENING_WORDS and any(e[:OPENING_WORDS] == opening for e in earlier):
        return True
    own = _trigrams(words)
    return bool(own) and any(len(own & _trigrams(e)) >= TRIGRAM_SHARE * len(own) for e in earlier)


def repeated_frames(text: str) -> float:
    """The share of the text's sentences that repeat an earlier sentence's frame (0.0 for a
    text of fewer than two sentences)."""
    found = sentence_words(text)
    if len(found) < 2:
        return 0.0
    repeats = sum(repeats_frame(words, found[:i]) for i, words in enumerate(found) if i)
    return repeats / len(found)
