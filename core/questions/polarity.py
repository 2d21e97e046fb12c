"""Whether a document's sentence says yes or no to a one-part yes/no question, read from explicit
words only: a limit the question's amount passes ("four nights" against "at most 3 nights in one
place": no), else the clause about what the question names, which says no with a negation or a
prohibition ("Open fires are forbidden all year" to "Can I have a campfire?") or with the
opposite of the question's state ("closed on Mondays" to "Is it open on Mondays?"), and yes
with the question's own state or a permission. No verdict where the clause qualifies ("Dogs are
allowed only on the river path"), where two clauses fit the question equally, or where nothing
in it says either: a wrong verdict would make refinement rewrite a right answer."""

from __future__ import annotations

import re
from typing import Literal

from core.questions.facts import SAID_AS, STEM
from core.questions.values import amount
from core.text.lexicon import compound_heads, lemma
from core.text.plain import words

Verdict = Literal["yes", "no"]

NEGATIONS = frozenset({
    "not", "no", "never", "nor", "none", "cannot", "forbidden", "prohibited", "banned",
    "disallowed", "unavailable", "refused",
})  # fmt: skip
"""Words that say no to the clause they are in ("tickets are no longer sold on board")."""
PERMISSIONS = frozenset({"allowed", "permitted", "welcome", "accepted", "available"})
"""Words that say yes to the clause they are in, where the question asks whether it may."""
OPPOSITES: dict[str, str] = {
    "open": "closed", "closed": "open", "allowed": "forbidden", "forbidden": "allowed",
    "permitted": "prohibited", "prohibited": "permitted", "available": "unavailable",
    "unavailable": "available",
}  # fmt: skip
"""A state and the state that denies it: "closed on Mondays" says no to "open on Mondays?"."""
QUALIFIERS = frozenset({"only", "except", "unless", "but"})
"""Words that make a clause's answer a condition, not a yes or a no."""
_CUES = NEGATIONS | PERMISSIONS | frozenset(OPPOSITES) | QUALIFIERS
_CLAUSES = re.compile(r"\s*(?:[;:]|,\s*(?:and|but|while|whereas)\b)\s*|\s+(?:but|whereas)\s+")
"""Where a sentence's clauses part; a bare comma lists the things of one clause ("Swimming,
boating and fishing are forbidden")."""
_LIMIT = re.compile(
    r"\b(at most|no more than|up to|a maximum of|at least|no fewer than|no less than|"
    r"a minimum of)\s+(\S+)\s+([a-z]+)",
    re.IGNORECASE,
)
_AT_LEAST = frozenset({"at least", "no fewer than", "no less than", "a minimum of"})
_NEGATED = re.compile(r"n't\b", re.IGNORECASE)
_SKIP = frozenset({
    "the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "and", "or", "is", "are", "was",
    "were", "be", "been", "do", "does", "did", "can", "could", "may", "might", "i", "we", "you",
    "my", "our", "it", "its", "that", "this", "there", "have", "has", "had", "still", "any",
    "with", "from", "as", "what", "which", "who", "when", "how",
})  # fmt: skip


def _keys(text: str) -> set[str]:
    """Each content word of `text`, as written and as its lemma ("closed" and "close")."""
    kept = [w for w in words(text) if w not in _SKIP and len(w) > 1]
    return set(kept) | {lemma(w) for w in kept}


_COUNTED = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?|[a-z]+)(?=\s+([a-z]+))", re.IGNORECASE)
"""Each word or number with the word after it (overlapping: "for five days" gives "five days")."""


def _amount(token: str) -> float | None:
    """A count written in digits or in a word ("3", "five"); None for any other word."""
    try:
        return amount(token)
    except ValueError:
        return None


def _same_thing(a: str, b: str) -> bool:
    """Whether two words name one thing ("night" and "nights", "bikes" and "bicycles")."""
    a, b = lemma(a.lower()), lemma(b.lower())
    return a == b or b[:STEM] in SAID_AS.get(a[:STEM], frozenset())


def limit_verdict(question: str, sentence: str) -> Verdict | None:
    """ "no" where the question asks about more than the sentence's "at most" (or fewer than its
    "at least") of the same thing, "yes" where its amount keeps within it (blind gb17: "three
    bikes" against "at most 4 bicycles per bus"); None where no limit of the sentence meets an
    amount of it."""
    for match in _LIMIT.finditer(sentence):
        limit = _amount(match[2])
        if limit is None:
            continue
        for count, thing in _COUNTED.findall(question):
            amount = _amount(count)
            if amount is None or not _same_thing(thing, match[3]):
                continue
            over, under = amount > limit, amount < limit
            at_least = match[1].lower() in _AT_LEAST
            return "no" if (over and not at_least) or (under and at_least) else "yes"
    return None


def clause_about(question: str, sentence: str, subject: str = "") -> str | None:
    """The clause of `sentence` about what the question asks of its subject: the one sharing
    most of the question's key words other than the subject's (a state and its opposite count
    as one word, a compound's head as the compound); None where two share as many, or none
    shares a word that is not a cue."""
    vocabulary = _keys(sentence)
    asked = (_keys(question) | compound_heads(question, vocabulary)) - _keys(subject)
    states = {OPPOSITES.get(w, w) for w in asked} | asked

    def score(clause: str) -> tuple[int, int]:
        keys = _keys(clause)
        topic = len((keys & asked) - _CUES)
        return topic + len(keys & states & frozenset(OPPOSITES)), topic

    clauses = [c for c in _CLAUSES.split(sentence) if c and c.strip()]
    ranked = sorted(((score(c), c) for c in clauses), reverse=True)
    if not ranked or ranked[0][0][1] == 0:
        return None
    if len(ranked) > 1 and ranked[1][0][0] == ranked[0][0][0]:
        return None
    return ranked[0][1]


def polarity(question: str, sentence: str, subject: str = "") -> Verdict | None:
    """What `sentence` answers to the yes/no `question` about `subject`; None where its words
    do not say."""
    if limited := limit_verdict(question, sentence):
        return limited
    clause = clause_about(question, sentence, subject)
    if clause is None:
        return None
    said = {lemma(w) for w in words(clause)} | set(words(clause))
    if said & QUALIFIERS:
        return None
    asked = set(words(question))
    denied = (
        bool(said & NEGATIONS)
        or bool(_NEGATED.search(clause))
        or any(OPPOSITES.get(w) in said for w in asked & frozenset(OPPOSITES))
    )
    if bool(asked & NEGATIONS) or _NEGATED.search(question):
        return None  # "Is it not open ...?": which answer means what is unclear
    if denied:
        return "no"
    if said & (PERMISSIONS | (asked & frozenset(OPPOSITES))):
        return "yes"
    return None
