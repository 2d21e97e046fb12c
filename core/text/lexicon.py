"""Matching required words in text, inflections included ("runs" uses "run").

A lemmatiser that ships its data (simplemma) handles irregular forms; regular inflection rules
cover what it leaves as nouns ("serving" stays "serving" for simplemma). A derived word is not
the word asked for ("reporter" does not use "report", "snowy" does not use "snow"), nor is a
word that merely contains it ("encountered" does not use "counter"). The one leniency beyond
the evaluation's matcher (`evals.concepts`, written apart on purpose): a compound of more than
six letters counts when written as two words ("head phones" uses "headphone").
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise

import simplemma

from core.text.plain import words

_VOWELS = set("aeiou")


@lru_cache(maxsize=65_536)
def lemma(word: str) -> str:
    return simplemma.lemmatize(word, lang="en").lower()


@lru_cache(maxsize=16_384)
def inflections(word: str) -> frozenset[str]:
    """Regular inflections of a base word: plurals, past forms, participles (not -er: "mower"
    is another word than "mow", and a person asked for "mow" does not see it used)."""
    w = word.lower()
    forms = {w, w + "s", w + "es", w + "ed", w + "d", w + "ing"}
    if w.endswith("e"):
        forms.add(w[:-1] + "ing")
    if w.endswith("y") and len(w) > 2 and w[-2] not in _VOWELS:
        forms |= {w[:-1] + "ies", w[:-1] + "ied"}
    if len(w) > 2 and w[-1] not in _VOWELS | {"w", "x", "y"} and w[-2] in _VOWELS:
        forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}
    if w.endswith("f"):
        forms.add(w[:-1] + "ves")
    if w.endswith("fe"):
        forms.add(w[:-2] + "ves")
    return frozenset(forms)


def used_words(text: str, required: list[str]) -> tuple[list[str], list[str]]:
    """(used, missing) required words of `text`, each list in the order given. A part of a
    hyphenated word counts ("snow-covered" uses "snow"), as a tokenizer that splits on hyphens
    would count it; a derived word does not ("snowy" is not "snow")."""
    sequence = words(text)
    tokens = set(sequence)
    tokens |= {part for token in tokens if "-" in token for part in token.split("-") if part}
    lemmas = {lemma(t) for t in tokens}
    # a compound such as "headphone" also counts written as two words ("head phones")
    split = {a + b for a, b in pairwise(sequence)}
    used, missing = [], []
    for word in required:
        target = word.lower().strip()
        if " " in target:
            hit = all(_uses(tokens, lemmas, part) for part in target.split())
        else:
            hit = _uses(tokens, lemmas, target) or (
                len(target) > 6 and not split.isdisjoint(inflections(target))
            )
        (used if hit else missing).append(word)
    return used, missing


def _uses(tokens: set[str], lemmas: set[str], target: str) -> bool:
    return not tokens.isdisjoint(inflections(target)) or lemma(target) in lemmas


def derived_forms(text: str, word: str) -> list[str]:
    """Words of `text` built on `word` that do not count as using it ("snowy" for "snow"): what
    a small model writes instead of the word itself."""
    base = word.lower().strip()
    if " " in base or len(base) < 3:
        return []
    found = []
    for token in dict.fromkeys(words(text)):
        if token.startswith(base) and token != base and not used_words(token, [word])[0]:
            found.append(token)
    return found


def coverage(text: str, required: list[str]) -> float:
    """Share of required words used (1.0 when nothing is required)."""
    if not required:
        return 1.0
    used, _ = used_words(text, required)
    return len(used) / len(required)


def compound_heads(text: str, vocabulary: set[str]) -> set[str]:
    """The head (last part) of each compound word of `text` whose two parts are words of
    `vocabulary` (lemmas, or words a part begins): a question's "campfire" is about the
    "fires" of a text that says "camping" and "fires" apart; the head is what a compound is."""
    heads: set[str] = set()
    for word in set(words(text)):
        if len(word) < 7 or word in vocabulary:
            continue
        for cut in range(3, len(word) - 2):
            modifier, head = word[:cut], lemma(word[cut:])
            if head in vocabulary and any(v.startswith(modifier) for v in vocabulary):
                heads.add(head)
    return heads
