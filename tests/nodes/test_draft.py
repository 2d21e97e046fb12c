"""What the draft and refine nodes keep of a model's text."""

from __future__ import annotations

from typing import Any

from nodes.draft import tidy


def test_tidy_writes_citations_of_the_requests_documents_in_one_form() -> None:
    state: Any = {"documents": [{"id": "kestrel-pay", "text": "..."}]}
    reply = 'A night shift carries 15 percent [document id="kestrel-pay"]. See [1].'
    assert tidy(reply, state) == "A night shift carries 15 percent [kestrel-pay]. See [1]."
    assert tidy(reply, {"documents": []}) == reply  # type: ignore[typeddict-item]


def test_tidy_folds_a_sentence_that_only_names_the_source() -> None:
    state: Any = {"documents": [{"id": "kestrel-pay", "text": "..."}]}
    reply = "Drivers get 15 percent. This information is found in document [kestrel-pay]."
    assert tidy(reply, state) == "Drivers get 15 percent [kestrel-pay]."
