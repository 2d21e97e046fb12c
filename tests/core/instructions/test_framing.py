"""Checks on how the answer opens and closes, with their repairs."""

from __future__ import annotations

import pytest

from core.instructions.framing import (
    EndPhrase,
    ExactText,
    Postscript,
    Quotation,
    RepeatChangedFirstWord,
    RepeatPrompt,
    StartPhrase,
    StartsWithVerb,
)


def test_end_phrase_ignores_case_whitespace_and_closing_quotes() -> None:
    spec = EndPhrase(phrase="Any other questions?")
    assert spec.check('"Snow fell. any other questions?"  \n') is None
    finding = spec.check("Snow fell. Any other questions? Thanks.")
    assert finding is not None
    assert finding["message"].endswith("it ends: ...Snow fell. Any other questions? Thanks.")
    fixed = spec.repair("Snow fell.")
    assert fixed == "Snow fell.\n\nAny other questions?"


def test_an_end_phrase_said_with_a_mark_after_it_loses_the_mark_not_gains_a_copy() -> None:
    """ifeval-k04 ended "GO GET THEM!" and got "GO GET THEM" again below it."""
    assert EndPhrase(phrase="GO GET THEM").repair("WIN IT. GO GET THEM!") == "WIN IT. GO GET THEM"
    assert EndPhrase(phrase="Any questions?").repair("Done. Any questions?!") == (
        "Done. Any questions?"
    )
    assert EndPhrase(phrase="Bye").repair("Go. Hi!") == "Go. Hi!\n\nBye"


def test_start_phrase_and_its_repair() -> None:
    spec = StartPhrase(phrase="In my opinion")
    assert spec.check('  "In my opinion, yes."') is None
    assert spec.check("Yes, in my opinion.") is not None
    assert spec.repair("yes, it is.") == "In my opinion yes, it is."


def test_repeat_prompt_compares_without_case() -> None:
    spec = RepeatPrompt(prompt="Write a poem about snow.")
    assert spec.check("write a poem about snow.\n\nSnow falls.") is None
    assert spec.check("Snow falls.") is not None
    assert spec.repair("Snow falls.") == "Write a poem about snow.\n\nSnow falls."


@pytest.mark.parametrize(
    ("text", "passes"),
    [
        ('"Quoted."', True),
        ('  "Quoted."\n', True),
        ('"', False),
        ("Plain.", False),
        ('"Open.', False),
    ],
)
def test_quotation(text: str, passes: bool) -> None:
    assert (Quotation().check(text) is None) is passes


@pytest.mark.parametrize(
    ("text", "fixed"),
    [("Plain.", '"Plain."'), ('"Open.', '"Open."'), ('Closed."', '"Closed."'), ('"', '"""')],
)
def test_quotation_repair(text: str, fixed: str) -> None:
    assert Quotation()._repair(text) == fixed


@pytest.mark.parametrize(
    ("marker", "text", "passes"),
    [
        ("P.S.", "Body.\n\nP.S. Bring a scarf.", True),
        ("P.S.", "Body.\n\np.s. bring a scarf.", True),
        ("P.S.", "Body.\n\nP. S. bring a scarf.", True),
        ("P.S.", "Body.\n\nPS bring a scarf.", False),
        ("P.P.S", "Body.\nP.S. one.\nP.P.S two.", True),
        ("P.P.S", "Body.\nP.S. one.", False),
        ("Note:", "Body.\nnote: later.", True),
    ],
)
def test_postscript_matches_like_ifeval(marker: str, text: str, passes: bool) -> None:
    assert (Postscript(marker=marker).check(text) is None) is passes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Body text.\n\nPS: bring a scarf.", "Body text.\n\nP.S. bring a scarf."),
        ("Body text.\n\nBring a scarf.", "Body text.\n\nP.S. Bring a scarf."),
        ("Body text. Bring a scarf.", "Body text.\n\nP.S. Bring a scarf."),
    ],
)
def test_postscript_repair_marks_what_is_there(text: str, expected: str) -> None:
    spec = Postscript()
    assert spec.repair(text) == expected


def test_postscript_repair_needs_something_to_mark() -> None:
    assert Postscript().repair("Only one sentence.") is None
    fixed = Postscript(marker="P.P.S").repair("One.\n\nTwo.")
    assert fixed == "One.\n\nP.P.S. Two."


def test_exact_text_ignores_case_and_surrounding_space() -> None:
    spec = ExactText(text="Only output this sentence here.")
    assert spec.check("  only output this sentence here.\n") is None
    assert spec.check("Sure! Only output this sentence here.") is not None
    assert spec.repair("Sure! Only output this sentence here.") == "Only output this sentence here."


def test_repeat_changed_first_word() -> None:
    spec = RepeatChangedFirstWord(prompt="Write a poem about snow.")
    assert spec.check("Compose a poem about snow.") is None
    unchanged = spec.check("Write a poem about snow.")
    assert unchanged is not None
    assert "unchanged" in unchanged["message"]
    assert spec.check("Compose a poem about snow. Here it is.") is not None
    assert spec.repair("Write a poem about snow.") == "Compose a poem about snow."
    assert RepeatChangedFirstWord(prompt="Zebras sleep standing?").repair("no") is None


def test_starts_with_verb() -> None:
    spec = StartsWithVerb()
    assert spec.check("Consider the Galois group of a polynomial.") is None
    assert spec.check("Imagine a field extension.") is None
    finding = spec.check("Galois theory links fields and groups.")
    assert finding is not None and "Galois theory" in finding["message"]
    assert spec.check("**Consider** the group.") is not None  # a mark is the first token
    assert spec.check("Water is wet.") is not None  # a noun before an auxiliary
