"""Checks on answers that are lists with a fixed content or order."""

from __future__ import annotations

import pytest

from core.instructions.lists import (
    DateList,
    ItemList,
    MultipleChoice,
    NumberSequence,
    SortedLines,
    ascii_fold,
)


def test_number_sequence_says_what_is_missing_or_extra() -> None:
    spec = NumberSequence(numbers=[14, 21, 28])
    assert spec.check("14, 21, 28") is None
    assert spec.check("14,21,28") is None
    missing = spec.check("14, 21")
    assert missing is not None
    assert missing["message"] == "the numbers must be exactly 14, 21, 28: missing 28"
    extra = spec.check("7, 14, 21, 28")
    assert extra is not None
    assert "not asked for 7" in extra["message"]
    order = spec.check("21, 14, 28")
    assert order is not None
    assert order["message"].endswith("out of order")


@pytest.mark.parametrize(
    ("text", "passes"),
    [
        ("1796-04-12, 1805-12-02", True),
        ("1796-4-12", False),
        ("1850-01-01", False),
        ("1800-02-30", False),
        ("1800-04-31", False),
        ("1800-02-29", True),
        ("The dates: 1800-01-01", False),
    ],
)
def test_date_list(text: str, passes: bool) -> None:
    assert (DateList(from_year=1769, to_year=1821).check(text) is None) is passes


def test_item_list_ignores_accents_and_keeps_order() -> None:
    spec = ItemList(items=["Reykjavik", "Oslo"])
    assert spec.check("Reykjavík, Oslo") is None
    wrong = spec.check("Oslo, Reykjavik")
    assert wrong is not None
    assert wrong["message"] == "item 1 is 'Oslo', it must be 'Reykjavik'"
    assert spec.check("Reykjavik") is not None
    assert ascii_fold("São Tomé") == "Sao Tome"


def test_sorted_lines() -> None:
    spec = SortedLines(descending=True, start="Zimbabwe", at_least=3)
    assert spec.check("Countries:\nZimbabwe\nZambia\nUganda.") is None
    wrong = spec.check("Zimbabwe\nUganda\nZambia")
    assert wrong is not None
    assert wrong["message"] == "line 3 'Zambia' is out of order after 'Uganda'"
    assert spec.check("Zambia\nUganda\nTogo") is not None  # no start line
    assert SortedLines(at_least=2).check("apple\nBanana") is not None  # case matters, as there


MCQ = (
    "Question 1: Who?\nA. a\nB. b\nC. c\nD. d\nE. e\n"
    "Question 2: Who was it?\nA. a\nB. b\nC. c\nD. d\nE. e"
)


def test_multiple_choice() -> None:
    spec = MultipleChoice(questions=2)
    assert spec.check(MCQ) is None
    preamble = spec.check("Here:\n" + MCQ)
    assert preamble is not None
    assert "start with" in preamble["message"]
    short = spec.check(MCQ.replace("E. e", "", 1))
    assert short is not None
    assert short["message"] == "question 1 has 4 options, exactly 5 required"
    shrinking = spec.check(MCQ.replace("Who?", "Who is it, then?"))
    assert shrinking is not None
    assert "must be longer than question 1" in shrinking["message"]
    assert MultipleChoice().check(MCQ) is not None  # 4 questions by default
