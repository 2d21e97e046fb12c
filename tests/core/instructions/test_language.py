"""The answer's language, as the reference scorer's detector reads it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.instructions import parse_instruction


def test_an_answer_in_the_language_passes_and_one_in_another_says_which_it_is() -> None:
    spec = parse_instruction({"kind": "response_language", "language": "es"})
    assert spec.check("Me gusta caminar por el parque con mi perro cada mañana.") is None
    finding = spec.check("I like to walk in the park with my dog every morning.")
    assert finding is not None and finding["message"] == "the answer reads as English, not Spanish"
    assert finding["data"] == ["response_language", "en"]


def test_a_text_without_letters_cannot_pass() -> None:
    spec = parse_instruction({"kind": "response_language", "language": "en"})
    finding = spec.check("12345 !!!")
    assert finding is not None and "cannot be detected" in finding["message"]


def test_the_detector_gives_one_verdict_per_text() -> None:
    spec = parse_instruction({"kind": "response_language", "language": "it"})
    text = "Il gatto dorme sul divano."
    assert len({str(spec.check(text)) for _ in range(5)}) == 1


@pytest.mark.parametrize("code", ["xx", "english", "EN", ""])
def test_a_language_the_detector_does_not_know_is_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="language"):
        parse_instruction({"kind": "response_language", "language": code})


def test_it_is_described_by_the_language_s_name() -> None:
    spec = parse_instruction({"kind": "response_language", "language": "de"})
    assert spec.describe() == "Write the whole response in German, and no other language."
