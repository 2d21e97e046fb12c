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
_ABOVE = re.compile(
    r"\b(?:heavier|longer|wider|taller|higher|larger|bigger|more|over|above|exceeding|"
    r"in excess of)(?:\s+than)?\s+(\d+(?:\.\d+)?)\s*-?\s*([a-z]+)",
    re.IGNORECASE,
)
"""What a rule forbids above an amount ("Vehicles heavier than 7.5 tonnes may not cross it"):
at most that amount is allowed."""
_FORBIDS = re.compile(
    r"\b(?:may not|must not|cannot|can't|not (?:allowed|permitted)|forbidden|prohibited|"
    r"banned|barred)\b",
    re.IGNORECASE,
)
PEOPLE = frozenset({
    "people", "person", "adult", "friend", "guest", "camper", "visitor", "passenger", "member",
    "traveller", "traveler", "walker", "hiker", "rider", "student", "pupil",
})  # fmt: skip
"""Words that count people: a rule on "people" counts "7 friends"."""
_PEOPLE_LEMMAS = PEOPLE | {lemma(w) for w in PEOPLE}
_GROUP = re.compile(r"\b(?:group|party|family|team) of (\w+)|\b(\w+) of us\b", re.IGNORECASE)
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
    """Whether two words name one thing ("night" and "nights", "bikes" and "bicycles", "friends"
    and "people")."""
    a, b = lemma(a.lower()), lemma(b.lower())
    return a == b or b[:STEM] in SAID_AS.get(a[:STEM], frozenset()) or {a, b} <= _PEOPLE_LEMMAS


def _limits(sentence: str) -> list[tuple[float, str, bool]]:
    """Each limit the sentence sets: (amount, what it counts, whether it is a least)."""
    found = [
        (limit, match[3], match[1].lower() in _AT_LEAST)
        for match in _LIMIT.finditer(sentence)
        if (limit := _amount(match[2])) is not None
    ]
    if _FORBIDS.search(sentence):  # "heavier than 7.5 tonnes may not": at most 7.5 tonnes
        found += [(float(m[1]), m[2], False) for m in _ABOVE.finditer(sentence)]
    return found


def _amounts(question: str) -> list[tuple[float, str]]:
    """Each amount the question states with what it counts ("three bikes", "a 12-tonne lorry":
    12 tonnes; "a group of 7 friends", "three of us": people)."""
    text = re.sub(r"(\d)-(?=[a-z])", r"\1 ", question)
    found = [
        (n, thing) for count, thing in _COUNTED.findall(text) if (n := _amount(count)) is not None
    ]
    for group in _GROUP.finditer(text):
        if (n := _amount(group[1] or group[2])) is not None:
            found.append((n, "people"))
    return found


def limit_verdict(question: str, sentence: str) -> Verdict | None:
    """ "no" where the question asks about more than the sentence's "at most" (or fewer than its
    "at least") of the same thing, "yes" where its amount keeps within it (blind gb17: "three
    bikes" against "at most 4 bicycles per bus"; "a 6-tonne horsebox" against "vehicles heavier
    than 7.5 tonnes may not cross"), and "no" where it breaks any one limit of several ("6
    friends for 5 nights" against "groups of up to 8 people ... at most 3 nights"); None where no
    limit of the sentence meets an amount of it."""
    kept: set[bool] = set()
    for limit, counts, at_least in _limits(sentence):
        for asked, thing in _amounts(question):
            if _same_thing(thing, counts):
                kept.add(asked >= limit if at_least else asked <= limit)
    if not kept:
        return None
    return "yes" if all(kept) else "no"  # every limit met, else one is broken


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
