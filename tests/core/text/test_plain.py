"""Plain-text helpers: sentence splitting and trimming a reply cut off at its token cap."""

from __future__ import annotations

import pytest

from core.text.plain import sentences, whole_sentences


def test_sentences_split_on_end_punctuation() -> None:
    assert sentences('He ran. "Stop!" she said.  Why?') == ["He ran.", '"Stop!" she said.', "Why?"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("The dog ran. The cat slept on the", "The dog ran."),
        ("The dog ran.\n\nThe cat slept. And then the", "The dog ran.\n\nThe cat slept."),
        ('"Stay focused!" He then beamed. And', '"Stay focused!" He then beamed.'),
        ("The dog ran. The cat slept.", "The dog ran. The cat slept."),
        ('He said "stop." She did (at once.)', 'He said "stop." She did (at once.)'),
        ("A single fragment with no end", "A single fragment with no end"),
    ],
)
def test_whole_sentences_drops_only_an_unfinished_tail(reply: str, expected: str) -> None:
    assert whole_sentences(reply) == expected
