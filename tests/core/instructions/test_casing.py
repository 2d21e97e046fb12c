"""Checks on case and commas over the whole answer, with their repairs."""

from __future__ import annotations

from core.instructions.casing import AllCapitals, AllLowercase, NoCommas


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
