"""Concept coverage as the evaluation counts it: a required word is used when the text has the
word itself or one of its inflections (plural, past, participle, third person), by lemma
equality or by regular inflection, and nothing else: no substrings ("encountered" does not use
"counter"), no derivations ("reporter" does not use "report", "snowy" does not use "snow").
Words are split at anything but letters and an inner apostrophe, as a tokenizer splits them,
so a hyphenated compound's parts are words of their own.

Independent of the engine's matcher (`core.text.lexicon`) by design: the engine may accept more
while it works (a compound written as two words, a long word inside another); the score of its
work is never computed with its own rules.
"""

from __future__ import annotations

import re
from functools import lru_cache

import simplemma

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_VOWELS = frozenset("aeiou")


@lru_cache(maxsize=65_536)
def _lemma(word: str) -> str:
    return simplemma.lemmatize(word, lang="en").lower()


@lru_cache(maxsize=16_384)
def inflected(word: str) -> frozenset[str]:
    """The word and its regular inflections: -s/-es, -ed/-d, -ing (a final e dropped, a final
    consonant doubled), y to -ies/-ied, f/fe to -ves. No -er, -ly, -y: those derive a new word."""
    w = word.lower()
    forms = {w, w + "s", w + "es", w + "ed", w + "d", w + "ing"}
    if w.endswith("e"):
        forms.add(w[:-1] + "ing")
    if len(w) > 2 and w.endswith("y") and w[-2] not in _VOWELS:
        forms |= {w[:-1] + "ies", w[:-1] + "ied"}
    if len(w) > 2 and w[-1] not in _VOWELS | {"w", "x", "y"} and w[-2] in _VOWELS:
        forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}
    if w.endswith("fe"):
        forms.add(w[:-2] + "ves")
    elif w.endswith("f"):
        forms.add(w[:-1] + "ves")
    return frozenset(forms)


def concepts_used(text: str, required: list[str]) -> list[bool]:
    """For each required word (a phrase: each of its words), whether the text uses it."""
    tokens = set(_TOKEN.findall(text.lower().replace("’", "'")))
    lemmas = {_lemma(t) for t in tokens}

    def uses(word: str) -> bool:
        return not tokens.isdisjoint(inflected(word)) or _lemma(word) in lemmas

    return [all(uses(part) for part in w.lower().split()) for w in required]


def concept_coverage(text: str, required: list[str]) -> float:
    """Share of the required words the text uses (1.0 when none is required)."""
    if not required:
        return 1.0
    used = concepts_used(text, required)
    return sum(used) / len(used)
