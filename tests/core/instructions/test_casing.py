"""Checks on case and commas over the whole answer, with their repairs."""

from __future__ import annotations

from core.instructions.casing import AllCapitals, AllLowercase, NoCommas, NoMarks


def test_all_capitals() -> None:
    spec = AllCapitals()
    assert spec.check("SNOW FELL, 3 TIMES!") is None
    finding = spec.check("SNOW fell on Tuesday")
    assert finding is not None
    assert finding["message"] == "3 words have lower-case letters, e.g. fell, on, Tuesday"
    assert spec.check("123 !!!") is not None  # no cased letter: str.isupper is False
    assert spec.repair("Snow fell.") == "SNOW FELL."


def test_all_lowercase() -> None:
    spec = AllLowercase()
    assert spec.check("snow fell, 3 times!") is None
    finding = spec.check("Snow fell on Tuesday")
    assert finding is not None
    assert "2 words have capital letters, e.g. Snow, Tuesday" in finding["message"]
    assert spec.repair("Snow FELL.") == "snow fell."
    assert spec.repair("123") is None  # nothing to lower-case: cannot pass


def test_no_commas_says_where_and_repairs() -> None:
    spec = NoCommas()
    text = "Snow fell, the dog ran, and 1,000 flakes fell."
    finding = spec.check(text)
    assert finding is not None
    assert finding["message"].startswith("3 commas, none allowed; after: Snow fell; the dog ran")
    fixed = spec.repair(text)
    assert fixed == "Snow fell the dog ran and 1000 flakes fell."
    assert spec.check("A full-width comma， is allowed.") is None


def test_named_marks_are_counted_and_each_becomes_the_nearest_allowed_one() -> None:
    spec = NoMarks(marks=["!", ";", ":", "—"])
    text = "Wake up! The bus leaves at 7:30; pack: a map, a torch \u2014 and water. Ready?!"
    finding = spec.check(text)
    assert finding is not None
    assert finding["message"] == (
        "2 exclamation marks, 1 semicolon, 2 colons, 1 dash, none allowed"
    )
    assert spec.repair(text) == (
        "Wake up. The bus leaves at 7.30, pack, a map, a torch, and water. Ready?"
    )
    assert NoMarks(marks=["?"]).repair("Ready?! Is it? Yes.") == "Ready! Is it. Yes."
    assert NoMarks(marks=["—"]).check("A well-known, self-made man.") is None  # hyphens stay
    assert NoMarks(marks=["!", "?"]).describe() == (
        "Do not use any exclamation marks or question marks."
    )
