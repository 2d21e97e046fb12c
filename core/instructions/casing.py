"""Checks on letter case and punctuation over the whole answer."""

from __future__ import annotations

import re
from typing import Literal

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
