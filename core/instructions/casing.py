"""Checks on letter case and punctuation over the whole answer."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from core.instructions.base import Spec
from core.state import Finding


class AllCapitals(Spec):
    """Every letter is a capital (Python's `str.isupper`). IFEval also requires the answer to
    be English by `langdetect`; this does not check the language."""

    kind: Literal["all_capitals"] = "all_capitals"

    def check(self, text: str) -> Finding | None:
        if text.isupper():
            return None
        lower = [
            w for w in re.findall(r"\w+", text) if not w.isupper() and any(c.islower() for c in w)
        ]
        if not lower:
            return self.finding("the answer has no letters in capitals")
        sample = ", ".join(lower[:5])
        return self.finding(
            f"{len(lower)} words have lower-case letters, e.g. {sample}", *lower[:20]
        )

    def describe(self) -> str:
        return "Write the entire answer in capital letters, no lower case at all."

    def _repair(self, text: str) -> str | None:
        return text.upper()


class AllLowercase(Spec):
    """No letter is a capital (Python's `str.islower`). IFEval also requires the answer to be
    English by `langdetect`; this does not check the language."""

    kind: Literal["all_lowercase"] = "all_lowercase"

    def check(self, text: str) -> Finding | None:
        if text.islower():
            return None
        upper = [w for w in re.findall(r"\w+", text) if any(c.isupper() for c in w)]
        if not upper:
            return self.finding("the answer has no lower-case letters")
        sample = ", ".join(upper[:5])
        return self.finding(f"{len(upper)} words have capital letters, e.g. {sample}", *upper[:20])

    def describe(self) -> str:
        return "Write the entire answer in lower case, no capital letters at all."

    def _repair(self, text: str) -> str | None:
        return text.lower()


class NoCommas(Spec):
    """No comma `,` anywhere (IFEval's `no_comma`; other commas such as `，` are allowed)."""

    kind: Literal["no_commas"] = "no_commas"

    def check(self, text: str) -> Finding | None:
        n = text.count(",")
        if not n:
            return None
        where = [" ".join(s.split()[-3:]) for s in text.split(",")[:-1]][:5]
        return self.finding(f"{n} commas, none allowed; after: {'; '.join(where)}", *where)

    def describe(self) -> str:
        return "Do not use any commas."

    def _repair(self, text: str) -> str | None:
        text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
        return re.sub(r"\s*,", "", text)


MARK_NAMES = {
    "!": "exclamation marks",
    "?": "question marks",
    ";": "semicolons",
    ":": "colons",
    "—": "dashes",
}
"""The punctuation marks a request may forbid by name, as the prompts name them ("—" stands for
every dash: em, en, and a hyphen standing between spaces)."""
_DASHES = re.compile(r"\s*[—–]\s*|\s+-{1,2}\s+")
_MARKS = {
    "!": re.compile(r"!"),
    "?": re.compile(r"\?"),
    ";": re.compile(r";"),
    ":": re.compile(r":"),
    "—": _DASHES,
}


class NoMarks(Spec):
    """None of the named punctuation marks anywhere ("with no exclamation marks", "without
    semicolons or dashes"): the rule IFEval's `no_comma` is for commas, for the other marks a
    request forbids by name."""

    kind: Literal["no_marks"] = "no_marks"
    marks: list[Literal["!", "?", ";", ":", "—"]] = Field(min_length=1, max_length=5)

    def check(self, text: str) -> Finding | None:
        found = {m: len(_MARKS[m].findall(text)) for m in self.marks}
        used = [
            f"{n} {MARK_NAMES[m] if n > 1 else re.sub(r'e?s$', '', MARK_NAMES[m])}"
            for m, n in found.items()
            if n
        ]
        if not used:
            return None
        return self.finding(f"{', '.join(used)}, none allowed", *[m for m, n in found.items() if n])

    def describe(self) -> str:
        names = [MARK_NAMES[m] for m in self.marks]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        return f"Do not use any {listed}."

    def _repair(self, text: str) -> str | None:
        """Each forbidden mark as the nearest allowed one: an exclamation or a question ends as
        a statement ("?!" as whichever of the two is allowed), a semicolon or a dash joins with
        a comma, a colon between digits (a time) becomes a full stop and any other a comma."""
        banned = set(self.marks)
        if {"!", "?"} <= banned:
            text = re.sub(r"[?!]+", ".", text)
        elif "!" in banned:
            text = re.sub(r"\?!|!\?", "?", text).replace("!", ".")
        elif "?" in banned:
            text = re.sub(r"\?!|!\?", "!", text).replace("?", ".")
        if ";" in banned:
            text = re.sub(r"\s*;", ",", text)
        if ":" in banned:
            text = re.sub(r"(?<=\d):(?=\d)", ".", text)
            text = re.sub(r"\s*:", ",", text)
        if "—" in banned:
            text = _DASHES.sub(", ", text)
        return text
