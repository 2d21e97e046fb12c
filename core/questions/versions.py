"""Versions of one document in time: two fare tables, two warranties, two annual reports of one
bank. A question is answered from the version in force at the time it asks about (now, unless it
names a date), not from whichever version its words match best; a question about the change
between versions keeps them all.

Each document dates itself in its first sentence ("Corrin Outdoor warranty, version of 1 June
2019.", "Brinmouth Tramway fares from 1 January 2022 until 31 December 2023:", "camping rules,
in force since 15 March 2024:", "annual report 2021."), and the words before that date name
what it is a version of. Rules only, no model call.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import groupby

from core.questions.values import dates
from core.state import Document
from core.text.plain import sentences

_MARKERS = frozenset({
    "current", "version", "in", "force", "since", "from", "of", "valid", "effective", "as",
    "the", "new", "old", "revised", "edition",
})  # fmt: skip
"""Words that date a version rather than name what it is a version of."""
_NAME_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
"""A word of what a document is a version of, digits kept: the Gannet G5 is not the G6."""
_UNTIL = re.compile(r"\b(?:until|till|to|through)\s*$", re.IGNORECASE)
_REPLACED = re.compile(r"\b(?:replaced|superseded)\b", re.IGNORECASE)
_CHANGE = re.compile(
    r"\b(?:change[sd]?|previous|former|earlier|before|used to|go(?:es)? up|went up|gone up"
    r"|go(?:es)? down|went down|rise|rose|risen|fall|fell|fallen|increase[sd]?|decrease[sd]?"
    r"|grow|grew|grown|shrink|shrank|shrunk|gain(?:ed)?|lose|lost|between|compared?|differ"
    r"|difference)\b",
    re.IGNORECASE,
)
"""A question about how versions differ ("By how much did the pass go up in 2024?", "than
before", "under the previous warranty") needs every version."""
NOW = 99_991_231.0
"""The date of a question that names none: after every version's start (dates compare as
yyyymmdd, `core.questions.values`)."""


@dataclass(frozen=True)
class Version:
    """A document that dates itself: what it is a version of, and from when (and until when,
    where it says) it holds."""

    doc_id: str
    of: str
    start: float
    end: float | None


def version_of(document: Document) -> Version | None:
    """The document as a dated version, where its first sentence dates it; None otherwise."""
    first = next(iter(sentences(document["text"])), "")
    found = dates(first)
    if not found:
        return None
    head = [w for w in _NAME_WORD.findall(first[: found[0].start].lower()) if w not in _MARKERS]
    if len(head) < 2:
        return None
    end = None
    if len(found) > 1 and _UNTIL.search(first[: found[1].start]):
        end = found[1].amount
    for sentence in sentences(document["text"])[1:]:
        if _REPLACED.search(sentence) and (later := dates(sentence)):
            end = later[0].amount
    return Version(document["id"], " ".join(head), found[0].amount, end)


_NOW_WORDS = re.compile(r"\b(?:now|today|these days|nowadays|currently)\b", re.IGNORECASE)


def asked_date(question: str) -> float | None:
    """The one date `question` asks about (`NOW` where it names none); None where it asks
    about a change between versions, or names two dates."""
    named = dates(question)
    if _CHANGE.search(question) or len(named) > 1 or (named and _NOW_WORDS.search(question)):
        return None  # "I went in 2021. How much more is it now?" asks about both times
    return named[0].amount if named else NOW


def in_force(documents: list[Document], question: str) -> list[Document]:
    """`documents` without the versions not in force at the time `question` asks about, where
    two or more documents are versions of one thing: the latest version for a question about
    now, the one holding on a date the question names, all of them for a question about the
    change."""
    when = asked_date(question)
    return documents if when is None else in_force_at(documents, when)


def in_force_at(documents: list[Document], when: float, before: bool = False) -> list[Document]:
    """`documents` without the versions not in force on the date `when` (yyyymmdd); with
    `before`, without those but the one in force before that one (what "than before" and "the
    old fares" ask about, where no date is named for it)."""
    versions = sorted(
        (v for d in documents if (v := version_of(d)) is not None), key=lambda v: (v.of, v.start)
    )
    dropped: set[str] = set()
    for _, same in groupby(versions, key=lambda v: v.of):
        family = list(same)
        if len({v.start for v in family}) < 2:
            continue
        nexts = [v.start for v in family[1:]] + [math.inf]
        # in force from its start, through the day it ends ("until 28 February 2023"), and
        # until the next one starts; where none is on that day, the last one begun
        holding = [
            i
            for i, (v, next_start) in enumerate(zip(family, nexts, strict=True))
            if v.start <= when <= (v.end or math.inf) and when < next_start
        ]
        begun = [i for i, v in enumerate(family) if v.start <= when]
        at = holding[-1] if holding else (begun[-1] if begun else 0)
        keep = family[max(0, at - 1) if before else at]
        dropped |= {v.doc_id for v in family if v is not keep}
    return [d for d in documents if d["id"] not in dropped]
