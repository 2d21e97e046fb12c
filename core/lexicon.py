"""Matching required words in text, inflections included ("runs" uses "run").

A lemmatiser that ships its data (simplemma) handles irregular forms; regular inflection rules
cover what it leaves as nouns ("serving" stays "serving" for simplemma).
"""

from __future__ import annotations

from functools import lru_cache

import simplemma

from core.text import words

_VOWELS = set("aeiou")


@lru_cache(maxsize=65_536)
def lemma(word: str) -> str:
    return simplemma.lemmatize(word, lang="en").lower()


@lru_cache(maxsize=16_384)
def inflections(word: str) -> frozenset[str]:
    """Regular inflections of a base word: plurals, past forms, participles."""
    w = word.lower()
    forms = {w, w + "s", w + "es", w + "ed", w + "d", w + "ing", w + "er", w + "ers"}
    if w.endswith("e"):
        forms |= {w[:-1] + "ing", w[:-1] + "er"}
    if w.endswith("y") and len(w) > 2 and w[-2] not in _VOWELS:
        forms |= {w[:-1] + "ies", w[:-1] + "ied"}
    if len(w) > 2 and w[-1] not in _VOWELS | {"w", "x", "y"} and w[-2] in _VOWELS:
        forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}
    if w.endswith("f"):
        forms.add(w[:-1] + "ves")
    if w.endswith("fe"):
        forms.add(w[:-2] + "ves")
    return frozenset(forms)


def _matches(token: str, required: str) -> bool:
    return token in inflections(required) or lemma(token) == lemma(required)


def used_words(text: str, required: list[str]) -> tuple[list[str], list[str]]:
    """(used, missing) required words of `text`, each list in the order given."""
    tokens = set(words(text))
    # compounds such as "headphone" also count when written "head-phone" or as two words
    joined = "".join(words(text))
    used, missing = [], []
    for word in required:
        target = word.lower().strip()
        parts = target.split()
        if " " in target:
            hit = all(any(_matches(t, p) for t in tokens) for p in parts)
        else:
            hit = any(_matches(t, target) for t in tokens) or (len(target) > 6 and target in joined)
        (used if hit else missing).append(word)
    return used, missing


def coverage(text: str, required: list[str]) -> float:
    """Share of required words used (1.0 when nothing is required)."""
    if not required:
        return 1.0
    used, _ = used_words(text, required)
    return len(used) / len(required)
