"""Whether a required word is used as what it is: a thing-word written as an action.

A small model told to work "rink" into a sentence about a priest wrote "the priest rinks it",
and "tricep" into one about people "they tricep the axis": the word is there, the word matcher
counts it, and the sentence no longer means anything. Which parts of speech a word can take
comes from LemmInflect's English tables (`lemminflect.getAllLemmas`, shipped with the package:
"rink" is a noun only, "press" both; "tricep" is not in them, so nothing is said of it). Where a
word can only be a noun, a verb's place around it gives the misuse away without a tagger (no
tagger's weights ship here, see `core.text.verbs`):
- right after a subject pronoun or a modal ("they rink", "will cupcake");
- a verb's ending that makes no word the tables know ("rinked", "rinking"; "talented" and
  "clothing" are words of their own);
- an -s form that takes an object ("rinks it", "wines the glass").
"""

from __future__ import annotations

import re
from functools import lru_cache

import lemminflect

from core.text.lexicon import inflections

SUBJECTS = frozenset({
    "i", "you", "we", "they", "he", "she",
    "will", "would", "can", "could", "should", "must", "might", "may", "shall",
    "cannot", "don't", "doesn't", "didn't", "won't",
})  # fmt: skip
"""Words after which a word stands in a verb's place: subject pronouns and modals (not "to":
"switched to wine" is a noun after a preposition)."""
DETERMINERS = frozenset({
    "the", "a", "an", "his", "her", "their", "its", "my", "our", "your",
    "this", "that", "these", "those",
})  # fmt: skip
"""Words before which an -s form is a plural noun however it goes on ("the rinks the town
built")."""
OBJECTS = DETERMINERS - {"this", "that", "these", "those"} | {"it", "them", "him", "me", "us"}
"""Words that, right after an -s form, make it a verb taking an object ("rinks it"; not "that":
"two rinks that opened")."""
_TOKEN = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


@lru_cache(maxsize=4096)
def noun_only(word: str) -> bool:
    """Whether `word` is an English noun and never a verb, as LemmInflect's tables have it
    (False for a word they do not hold: nothing is claimed about it)."""
    lemmas = lemminflect.getAllLemmas(word.lower())
    return "NOUN" in lemmas and "VERB" not in lemmas


def verb_uses(text: str, word: str) -> list[str]:
    """The places where `text` writes the noun-only `word` as a verb, each as a few words
    around it ("the priest rinks it"); none for a word that can be a verb or a phrase."""
    base = word.lower().strip()
    if " " in base or not noun_only(base):
        return []
    tokens = _TOKEN.findall(text)
    lowered = [t.lower() for t in tokens]
    found = []
    for i, token in enumerate(lowered):
        if token not in inflections(base):
            continue
        before = lowered[i - 1] if i else ""
        after = lowered[i + 1] if i + 1 < len(lowered) else ""
        plural = token in (base + "s", base + "es")
        verbal = (
            (token.endswith(("ed", "ing")) and not lemminflect.getAllLemmas(token))
            or (before in SUBJECTS and (token == base or plural))
            or (plural and after in OBJECTS and before not in DETERMINERS)
        )
        if verbal:
            found.append(" ".join(tokens[max(0, i - 2) : i + 3]))
    return found


def misused(text: str, required: list[str]) -> list[str]:
    """Every place in `text` where a required noun-only word is written as a verb."""
    return [place for word in required for place in verb_uses(text, word)]
