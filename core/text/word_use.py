"""Whether a required word is used as what it is: a thing-word written as an action.

A small model told to work "rink" into a sentence about a priest wrote "the priest rinks it",
and "tricep" into one about people "they tricep the axis": the word is there, the word matcher
counts it, and the sentence no longer means anything. Which parts of speech a word can take
comes from LemmInflect's English tables (`lemminflect.getAllLemmas`, shipped with the package:
"rink" is a noun only, "press" both; "tricep" is not in them, but "triceps" is, a noun only).
Where a word can only be a noun, a verb's place around it gives the misuse away without a
tagger (no tagger's weights ship here, see `core.text.verbs`):
- right after a subject pronoun or a modal ("they rink", "will cupcake");
- a verb's ending that makes no word the tables know ("rinked", "rinking"; "talented" and
  "clothing" are words of their own);
- an -s form that takes an object ("rinks it", "wines the glass").
"""

from __future__ import annotations

import re
from functools import lru_cache

import lemminflect

from core.instructions.counts import STOP_WORDS
from core.text.lexicon import inflections

SUBJECTS = frozenset({"i", "you", "we", "they", "he", "she"})
"""Pronouns after which a word stands in a verb's place."""
MODALS = frozenset({
    "will", "would", "can", "could", "should", "must", "might", "may", "shall",
    "cannot", "don't", "doesn't", "didn't", "won't",
})  # fmt: skip
"""Modals, the same where written in lower case ("from May they ...": a month; "Will" a name).
Not "to": "switched to wine" is a noun after a preposition."""
OBJECTS = frozenset({
    "the", "a", "an", "his", "her", "their", "its", "my", "our", "your",
    "it", "them", "him", "me", "us",
})  # fmt: skip
"""Words that, right after an -s form, make it a verb taking an object ("rinks it"; not "that":
"two rinks that opened")."""
NOUN_BEFORE = OBJECTS - {"it", "them", "him", "me", "us"} | {
    "this", "that", "these", "those", "two", "three", "four", "five", "six", "seven", "eight",
    "nine", "ten", "many", "few", "several", "some", "all", "both", "no", "more", "most", "other",
    "of", "and", "or",
}  # fmt: skip
"""Words before which an -s form is a plural noun however it goes on ("the rinks the town built",
"has two lifeboats an hour", "schools and adults a day")."""
_TOKEN = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+|[^\sA-Za-z\d]")
"""Words, numbers and marks: a mark between two words breaks the context ("years. The")."""


@lru_cache(maxsize=4096)
def noun_only(word: str) -> bool:
    """Whether `word` is an English noun and never a verb, as LemmInflect's tables have it;
    a word they do not hold counts as one where they hold its -s form as a noun only ("tricep":
    "triceps"), and otherwise nothing is claimed about it (False)."""
    lemmas = lemminflect.getAllLemmas(word.lower()) or lemminflect.getAllLemmas(f"{word.lower()}s")
    return "NOUN" in lemmas and "VERB" not in lemmas


def verb_uses(text: str, word: str) -> list[str]:
    """The places where `text` writes the noun-only `word` as a verb, each as a few words
    around it ("the priest rinks it"); none for a word that can be a verb, a phrase or a stop
    word ("we all laughed": "all" is a noun in the tables). A capitalised word inside a sentence
    is a name, not the word."""
    base = word.lower().strip()
    if " " in base or base in STOP_WORDS or not noun_only(base):
        return []
    forms = inflections(base)
    tokens = _TOKEN.findall(text)
    lowered = [t.lower() for t in tokens]
    found = []
    for i, token in enumerate(lowered):
        said = tokens[i - 1] if i else ""
        if token not in forms or (tokens[i][0].isupper() and said.isalpha()):
            continue  # not the word, or a name ("the Lakes Hostelling Trust")
        before = said.lower()
        after = lowered[i + 1] if i + 1 < len(lowered) else ""
        plural = token in (base + "s", base + "es")
        subject = before in SUBJECTS or (before in MODALS and said == before)
        verbal = (
            (token.endswith(("ed", "ing")) and not lemminflect.getAllLemmas(token))
            or (subject and (token == base or plural))
            or (plural and after in OBJECTS and before not in NOUN_BEFORE and not before.isdigit())
        )
        if verbal:
            found.append(re.sub(r" (?=[^\w\s])", "", " ".join(tokens[max(0, i - 2) : i + 3])))
    return found


def misused(text: str, required: list[str]) -> list[str]:
    """Every place in `text` where a required noun-only word is written as a verb."""
    return [place for word in required for place in verb_uses(text, word)]
