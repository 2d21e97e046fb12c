"""Checks on answers that are lists with a fixed content or order (IFBench's custom family,
made general): a sequence of numbers, dates, items in order, sorted lines, multiple-choice
questions."""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Annotated, Literal

from pydantic import Field

from core.instructions.base import Spec
from core.state import Finding

_DAYS = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}


def ascii_fold(text: str) -> str:
    """`text` without accents ("São Tomé" is "Sao Tome"), as IFBench compares names."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


class NumberSequence(Spec):
    """The numbers in the answer (runs of digits) are exactly these, in this order, and no
    others (IFBench's `custom:multiples`: 14, 21, 28, 35, 42, 49)."""

    kind: Literal["number_sequence"] = "number_sequence"
    numbers: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1, max_length=1000)]

    def check(self, text: str) -> Finding | None:
        found = re.findall(r"\d+", text)
        expected = [str(n) for n in self.numbers]
        if found == expected:
            return None
        extra = [n for n in found if n not in expected]
        missing = [n for n in expected if n not in found]
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not asked for {', '.join(extra)}" if extra else "",
                "out of order" if not missing and not extra else "",
            )
            if part
        )
        return self.finding(f"the numbers must be exactly {', '.join(expected)}: {detail}")

    def describe(self) -> str:
        return f"Write exactly these numbers, in this order, and no others: {self.numbers}."


class DateList(Spec):
    """Only dates written YYYY-MM-DD, separated by commas, each a possible day of a year in
    [`from_year`, `to_year`] (IFBench's `custom:date_format_list`: Napoleon's battles,
    1769 to 1821; like it, February may have 29 days in any year)."""

    kind: Literal["date_list"] = "date_list"
    from_year: Annotated[int, Field(ge=0, le=9999)] = 0
    to_year: Annotated[int, Field(ge=0, le=9999)] = 9999

    def check(self, text: str) -> Finding | None:
        for item in text.strip().split(","):
            item = item.strip()
            match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", item)
            if match is None:
                return self.finding(f"{item!r} is not a date written YYYY-MM-DD", item)
            year, month, day = (int(g) for g in match.groups())
            if not self.from_year <= year <= self.to_year:
                return self.finding(
                    f"{item}: the year is outside {self.from_year}-{self.to_year}", item
                )
            if month > 12 or day > _DAYS.get(month, 31):
                return self.finding(f"{item} is not a possible date", item)
        return None

    def describe(self) -> str:
        return "Answer only with dates written YYYY-MM-DD, separated by commas, no explanation."


class ItemList(Spec):
    """The answer is exactly these items, separated by commas, in this order (IFBench's
    `custom:european_capitals_sort`; accents are ignored, as there)."""

    kind: Literal["item_list"] = "item_list"
    items: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]],
        Field(min_length=1, max_length=500),
    ]

    def check(self, text: str) -> Finding | None:
        found = [i.strip() for i in ascii_fold(text).split(",") if i.strip()]
        if len(found) != len(self.items):
            return self.finding(f"{len(found)} items separated by commas, {len(self.items)} needed")
        for i, (got, want) in enumerate(zip(found, self.items, strict=True), 1):
            if got != want:
                return self.finding(f"item {i} is {got!r}, it must be {want!r}", str(i))
        return None

    def describe(self) -> str:
        return f"Answer only with, separated by commas and in this order: {', '.join(self.items)}."


class SortedLines(Spec):
    """At least `at_least` non-empty lines in alphabetical order (reverse order when
    `descending`), accents ignored, punctuation stripped from each line's ends; counting from
    the first line containing `start` when it is given (IFBench's `custom:reverse_newline`:
    African countries from Zimbabwe down, 52 lines)."""

    kind: Literal["sorted_lines"] = "sorted_lines"
    at_least: Annotated[int, Field(ge=1, le=10_000)] = 2
    descending: bool = False
    start: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    def check(self, text: str) -> Finding | None:
        strip = string.punctuation + " "
        lines = [line.strip(strip) for line in text.split("\n") if line.strip(strip)]
        if self.start is not None:
            first = next((i for i, line in enumerate(lines) if self.start in line), None)
            if first is None:
                return self.finding(f"no line contains {self.start!r}")
            lines = lines[first:]
        if len(lines) < self.at_least:
            return self.finding(f"{len(lines)} lines, at least {self.at_least} required")
        folded = [ascii_fold(line) for line in lines]
        for i in range(1, len(folded)):
            a, b = folded[i - 1], folded[i]
            if (a < b) if self.descending else (a > b):
                return self.finding(
                    f"line {i + 1} {lines[i]!r} is out of order after {lines[i - 1]!r}"
                )
        return None

    def _repair(self, text: str) -> str | None:
        if self.start is not None:
            return None
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        strip = string.punctuation + " "
        return "\n".join(
            sorted(lines, key=lambda line: ascii_fold(line.strip(strip)), reverse=self.descending)
        )

    def describe(self) -> str:
        order = "reverse alphabetical" if self.descending else "alphabetical"
        return f"Put each item on its own line, at least {self.at_least} lines, in {order} order."


class MultipleChoice(Spec):
    """Exactly `questions` questions, the answer starting with "Question" and each opened by
    "Question N", each with exactly `options` options on lines starting "A." or "A)" ..., the
    question texts strictly longer one after another (IFBench's `custom:mcq_count_length`:
    4 questions of 5 options)."""

    kind: Literal["multiple_choice"] = "multiple_choice"
    questions: Annotated[int, Field(ge=1, le=100)] = 4
    options: Annotated[int, Field(ge=2, le=5)] = 5
    growing: bool = True

    def check(self, text: str) -> Finding | None:
        if not text.startswith("Question"):
            return self.finding('the answer must start with "Question 1", with nothing before it')
        parts = [q.strip() for q in re.split(r"\n*(?:Question \d+[\.|\):;]?\s*)", text)]
        parts = [q for q in parts if q]
        if len(parts) != self.questions:
            return self.finding(f"{len(parts)} questions, exactly {self.questions} required")
        lengths = []
        for n, question in enumerate(parts, 1):
            stem, options, done = "", 0, False
            for line in question.split("\n"):
                if re.match(r"^[A-Ea-e][\.|\)]\s*\w+", line.strip()):
                    options, done = options + 1, True
                elif not done:
                    stem += " " + line.strip()
            if options != self.options:
                return self.finding(
                    f"question {n} has {options} options, exactly {self.options} required"
                )
            lengths.append(len(stem.strip()))
        for n in range(1, len(lengths)):
            if self.growing and lengths[n] <= lengths[n - 1]:
                return self.finding(
                    f"question {n + 1} ({lengths[n]} characters) must be longer than question "
                    f"{n} ({lengths[n - 1]})"
                )
        return None

    def describe(self) -> str:
        grow = ", each question longer than the one before" if self.growing else ""
        return (
            f"Write exactly {self.questions} multiple-choice questions, each starting "
            f"'Question N' with {self.options} options (A. ... ){grow}. Nothing else."
        )
