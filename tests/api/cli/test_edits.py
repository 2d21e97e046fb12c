"""What `refinery run` shows of refinement's work: the first draft's sentences it changed."""

from types import SimpleNamespace

from rich.console import Console

from api.cli.main import _edits_panel, edits

FIRST = 'It snowed. The dog ran. She said, "Stay!" He left.'


def test_a_reworded_sentence_shows_as_taken_out_and_put_in_and_the_rest_is_not_shown() -> None:
    final = 'It snowed. The dog ran to the window. She said, "Stay!" He left.'
    assert edits(FIRST, final) == [("-", "The dog ran."), ("+", "The dog ran to the window.")]


def test_a_sentence_added_after_another_shows_alone() -> None:
    final = 'It snowed. The dog ran. He wore a scarf. She said, "Stay!" He left.'
    assert edits(FIRST, final) == [("+", "He wore a scarf.")]


def test_an_answer_that_is_its_first_draft_has_no_edits_panel() -> None:
    assert _edits_panel(SimpleNamespace(first_draft=FIRST, answer=FIRST)) is None
    panel = _edits_panel(SimpleNamespace(first_draft=FIRST, answer=f"{FIRST} A cat [bold] sat."))
    console = Console(record=True, width=100)
    console.print(panel)
    assert "+ A cat [bold] sat." in console.export_text()  # the text's brackets are no markup
