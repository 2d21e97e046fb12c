"""Instructions that cannot all be followed at once ("all capitals" and "all lower case"; at
least 300 words and at most 100), found before drafting so the loop reports them instead of
chasing a text that cannot exist."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations

from core.instructions.base import Counted, Spec
from core.instructions.casing import MARK_NAMES, AllCapitals, AllLowercase, NoCommas, NoMarks
from core.instructions.counts import AllPunctuation, SentenceTypeBalance, SentenceTypeRatio
from core.instructions.formats import NoWhitespace, TitleCase
from core.instructions.layout import CsvTable
from core.instructions.length import WordCount
from core.instructions.lists import DateList, ItemList
from core.instructions.shape import KeywordInSentence
from core.instructions.words import (
    CapitalWordFrequency,
    ForbiddenWords,
    IncludedKeywords,
    KeywordFrequency,
)

_NEEDS_COMMAS = (DateList, ItemList)


def _needed_words(spec: Spec) -> set[str]:
    """Words `spec` requires the answer to use, lower-cased."""
    if isinstance(spec, IncludedKeywords):
        return {k.lower() for k in spec.keywords}
    if isinstance(spec, KeywordFrequency) and spec.low() > 0:
        return {spec.keyword.lower()}
    if isinstance(spec, KeywordInSentence):
        return {spec.keyword.lower()}
    return set()


def _marks_needed(spec: Spec) -> set[str]:
    """Punctuation marks `spec` requires the answer to use."""
    if isinstance(spec, AllPunctuation):
        return {".", ",", "!", "?", ";", ":"}
    if isinstance(spec, SentenceTypeBalance):
        return {"!", "?"}
    if isinstance(spec, SentenceTypeRatio):
        return {"?"}
    return set()


def _pair_conflict(a: Spec, b: Spec) -> str | None:
    for x, y in ((a, b), (b, a)):
        if isinstance(x, AllCapitals) and isinstance(y, AllLowercase | TitleCase):
            return "all capitals cannot be all lower case or title case"
        if isinstance(x, AllLowercase) and isinstance(y, TitleCase):
            return "all lower case cannot be title case"
        if isinstance(x, AllLowercase) and isinstance(y, CapitalWordFrequency) and y.low() > 0:
            return "all lower case leaves no words in capitals"
        if isinstance(x, NoCommas) and (
            isinstance(y, _NEEDS_COMMAS) or (isinstance(y, CsvTable) and y.delimiter == ",")
        ):
            return f"no commas cannot hold a comma-separated {y.kind}"
        if isinstance(x, ForbiddenWords):
            clash = {w.lower() for w in x.words} & _needed_words(y)
            if clash:
                return f"{', '.join(sorted(clash))} is both forbidden and required"
        if isinstance(x, NoMarks) and (clash := _marks_needed(y) & set(x.marks)):
            names = ", ".join(MARK_NAMES[m] for m in sorted(clash))
            return f"no {names} cannot hold with {y.kind}, which needs them"
        if isinstance(x, NoWhitespace) and isinstance(y, WordCount) and y.low() > 1:
            return "no whitespace leaves one word, more are required"
    return None


def _range_conflicts(instructions: Sequence[Spec]) -> list[str]:
    """Counts of the same thing whose ranges do not meet (two word counts, say)."""
    groups: dict[tuple[str, ...], list[Counted]] = defaultdict(list)
    for spec in instructions:
        if isinstance(spec, Counted):
            key = tuple(
                str(v) for k, v in spec.model_dump().items() if k not in Counted.model_fields
            )
            groups[(spec.kind, *key)].append(spec)
    found = []
    for (kind, *_), specs in groups.items():
        low = max(s.low() for s in specs)
        highs = [h for s in specs if (h := s.high()) is not None]
        if highs and low > min(highs):
            found.append(f"{kind}: at least {low} and at most {min(highs)} cannot both hold")
    return found


def conflicts(instructions: Sequence[Spec]) -> list[str]:
    """Why these instructions cannot all be followed, one line a conflict; empty when none
    is known. Only clear contradictions are found, not every impossible combination."""
    found = _range_conflicts(instructions)
    for a, b in combinations(instructions, 2):
        reason = _pair_conflict(a, b)
        if reason is not None:
            found.append(f"{a.kind} and {b.kind}: {reason}")
    return found
