"""Values stated in text, parsed so they can be compared: dates, durations, counts and clock
times ("founded in March 2009", "at most 9 hours", "84 locomotives", "from 8:00")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["date", "duration", "number", "time", "money"]

_MONTH_NAMES = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
]  # fmt: skip
MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_UNITS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER_WORDS: dict[str, float] = (
    {w: float(i) for i, w in enumerate(_UNITS)}
    | {w: float(20 + 10 * i) for i, w in enumerate(_TENS)}
    | {"a": 1.0, "an": 1.0, "half": 0.5, "hundred": 100.0}
)
UNIT_DAYS = {
    "minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "fortnight": 14, "month": 30.44,
    "year": 365.25, "decade": 3652.5,
}  # fmt: skip
"""Each duration unit in days, so "18 months" and "2 years" compare."""

_AMOUNT = (
    r"(\d+(?:[.,]\d+)*|" + "|".join(w for w in NUMBER_WORDS if w not in ("a", "an")) + r"|an?)"
)
_DURATION = re.compile(
    rf"\b{_AMOUNT}[ -](?:(working|business|calendar)[ -])?"
    r"(minute|hour|day|week|fortnight|month|year|decade)s?\b",
    re.IGNORECASE,
)
_JOINED = re.compile(r"\s+")
"""What joins the parts of one duration written in two units ("1 hour 35 minutes"); a comma or
"and" may join a list ("2 years, eighteen months and a week")."""
WORKING_WEEK = 5
"""Working (business) days in a calendar week: "10 working days" is two weeks."""
YEAR = r"(?:1[5-9]\d\d|20\d\d)"
"""A year written alone, 1500 to 2099 (an earlier one only after "in", "since", ...)."""
_MONTH = "|".join(MONTHS)
_DATE = re.compile(
    rf"\b(?:(\d{{1,2}})\s+({_MONTH})|({_MONTH})(?:\s+(\d{{1,2}})(?:st|nd|rd|th)?,?)?)\s+(\d{{4}})\b"
    rf"|\b(\d{{4}})-(\d{{2}})-(\d{{2}})\b|\b({YEAR})\b"
    rf"|(?:(?<=\bin )|(?<=\bsince )|(?<=\bfrom )|(?<=\buntil )|(?<=\bof ))(1[0-4]\d\d)\b",
    re.IGNORECASE,
)
_TIME = re.compile(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)\b|\b(\d{1,2})\s*([ap])\.?m\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?)(?![\w:]|\.\d)")
_NUMBER_WORD = re.compile(
    rf"(?<![\w-])((?:{'|'.join(_TENS)})(?:-(?:{'|'.join(_UNITS[1:10])}))?|{'|'.join(_UNITS[2:])})"
    r"(?![\w-])",
    re.IGNORECASE,
)
"""A count written in words, two to ninety-nine ("three a day in winter", "forty-two"); "one"
and "a" are left out, as they are more often no count ("one of them")."""
_TIMES_WORD = re.compile(
    r"(?<![\w-])(twice|thrice|once(?=\s*(?:[.,;)]|$|a\b|per\b|every\b|each\b|and\b|or\b)))",
    re.IGNORECASE,
)
"""How many times, in one word ("can be renewed once", "twice a year"); "once" only where it
ends a clause or a rate, not where it means "when" ("once the snow melts")."""
_TIMES = {"once": 1.0, "twice": 2.0, "thrice": 3.0}


@dataclass(frozen=True)
class Value:
    """One value found in a text: its kind, a number to compare it by, and the words it was
    written as (dates compare as yyyymmdd, durations in days, times in minutes)."""

    kind: Kind
    amount: float
    text: str
    start: int


def amount(word: str) -> float:
    """A count in digits or in a word ("3", "1,500", "five"); ValueError for any other word."""
    word = word.lower()
    return NUMBER_WORDS[word] if word in NUMBER_WORDS else float(word.replace(",", ""))


def durations(text: str) -> list[Value]:
    """Durations in days; a working or business day is a fifth of a week ("up to 10 working
    days" is 14 days, so it compares with "two weeks")."""
    found: list[Value] = []
    last_unit = 0.0  # the smallest unit of the last duration found
    for m in _DURATION.finditer(text):
        unit = UNIT_DAYS[m[3].lower()]
        days = amount(m[1]) * unit
        if (m[2] or "").lower() in ("working", "business"):
            days *= UNIT_DAYS["week"] / WORKING_WEEK
        last = found[-1] if found else None
        if (
            last is not None
            and _JOINED.fullmatch(text[last.start + len(last.text) : m.start()])
            and unit < last_unit
            and days < last_unit
        ):  # "1 hour 35 minutes": one duration
            end = m.end()
            found[-1] = Value("duration", last.amount + days, text[last.start : end], last.start)
        else:
            found.append(Value("duration", days, m[0], m.start()))
        last_unit = unit
    return found


def last_day(date: Value) -> float:
    """The last day of the period a date names (yyyymmdd): "2025" is read as 31 December 2025,
    "March 2024" as 31 March; a day as itself. A side of a change "in 2025" is the version in
    force once 2025's change is made (blind gb15: permits "in force from 1 June 2025" were read
    as not yet in force "in 2025", on its 1 January)."""
    numbers = re.findall(r"\d+", date.text)
    if len(numbers) != 1:
        return date.amount
    return date.amount + (1130 if date.text == numbers[0] else 30)


def dates(text: str) -> list[Value]:
    """Dates and years; a year alone counts as its first day, so "2017" is before "May 2017"."""
    found = []
    for m in _DATE.finditer(text):
        if m[5]:
            month = MONTHS[(m[2] or m[3]).lower()]
            day = int(m[1] or m[4] or 1)
            amount = int(m[5]) * 10_000 + month * 100 + day
        elif m[6]:
            amount = int(m[6]) * 10_000 + int(m[7]) * 100 + int(m[8])
        else:  # a year; before 1500 only after "in", "since", ... (else a count: "1342 seats")
            amount = int(m[9] or m[10]) * 10_000 + 101
        found.append(Value("date", float(amount), m[0], m.start()))
    return found


def times(text: str) -> list[Value]:
    found = []
    for m in _TIME.finditer(text):
        if m[1]:
            minutes = int(m[1]) * 60 + int(m[2])
        else:
            minutes = (int(m[3]) % 12 + (12 if m[4].lower() == "p" else 0)) * 60
        found.append(Value("time", float(minutes), m[0], m.start()))
    return found


def numbers(text: str) -> list[Value]:
    """Counts and amounts, in digits or in words ("three"): numbers that are not part of a
    date, a duration or a clock time."""
    taken = [(v.start, v.start + len(v.text)) for v in dates(text) + durations(text) + times(text)]
    found = [
        Value("number", _TIMES.get(m[1].lower()) or sum(amount(w) for w in m[1].split("-")),
              m[1], m.start())
        for pattern in (_NUMBER, _NUMBER_WORD, _TIMES_WORD)
        for m in pattern.finditer(text)
        if not any(a <= m.start() < b for a, b in taken)
    ]  # fmt: skip
    return sorted(found, key=lambda v: v.start)


CURRENCY = (
    r"(?:crowns?|euros?|eur|dollars?|usd|pounds?|gbp|francs?|kronor|kroner|krona|yen|cents?|"
    r"pence|marks?|pfennigs?|guilders?|florins?|shillings?|rupees?|pesos?|lira|lire|zloty|"
    r"forints?|rand|dinars?|dirhams?|riyals?|yuan|rubles?|roubles?|kopecks?)"
)
_MONEY = re.compile(
    rf"[€$£]\s?(\d+(?:,\d{{3}})*(?:\.\d+)?)|(\d+(?:,\d{{3}})*(?:\.\d+)?)\s*(?:{CURRENCY})\b",
    re.IGNORECASE,
)


def money(text: str) -> list[Value]:
    """Amounts of money: a number with its currency ("18 crowns", "€4", "2.80 euros")."""
    return [
        Value("money", float((m[1] or m[2]).replace(",", "")), m[0], m.start())
        for m in _MONEY.finditer(text)
    ]


FINDERS = {
    "date": dates, "duration": durations, "time": times, "number": numbers, "money": money,
}  # fmt: skip


def values(text: str, kind: Kind) -> list[Value]:
    """Every value of `kind` in `text`, in order."""
    return FINDERS[kind](text)


def written(value: Value) -> str:
    """How a value reads in an answer (as the source wrote it)."""
    return value.text
