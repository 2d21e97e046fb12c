"""Plain-text helpers: sentence splitting, trimming a reply cut off at its token cap, quotes."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.text.plain import (
    closing_at,
    quotes_balanced,
    replace_spans,
    sentence_spans,
    sentences,
    unquote,
    whole_sentences,
)


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
        ("1. Say it well.\n2. Say it better.\n3.", "1. Say it well.\n2. Say it better."),
        ("Steps:\n- Go.\n- Stop.\n- \n", "Steps:\n- Go.\n- Stop."),
        ("1. Say it well.\n2. Say it better.\n3. Say it", "1. Say it well.\n2. Say it better."),
        ("It is 3.\n", "It is 3.\n"),
    ],
)
def test_whole_sentences_drops_only_an_unfinished_tail(reply: str, expected: str) -> None:
    assert whole_sentences(reply) == expected


PIECES = st.sampled_from([
    "She said,", '"Stay focused!"', "He beamed.", "(At once.)", "Dr. Lee left.", "e.g. this",
    "Why?", "[doc-1].", "* a list item", "- sub item", "**bold** text.", "3.5 km away.",
    "“Curly!”", "'single.'", "Wait...", "end", "A", "U.S. troops.", "—", "…",
])  # fmt: skip
SPACES = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \n "])


@st.composite
def texts(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(PIECES, min_size=1, max_size=12))
    return "".join(p + draw(SPACES) for p in pieces).strip()


@given(texts())
def test_sentence_spans_cover_every_non_space_character_in_order(text: str) -> None:
    spans = sentence_spans(text)
    covered = "".join(text[a:b] for a, b in spans)
    assert "".join(covered.split()) == "".join(text.split())
    assert all(a < b <= c for (a, b), (c, _) in itertools.pairwise(spans))
    assert sentences(text) == [" ".join(text[a:b].split()) for a, b in spans]


@given(texts(), st.data())
def test_editing_one_sentence_keeps_the_rest_byte_for_byte(text: str, data: st.DataObject) -> None:
    spans = sentence_spans(text)
    a, b = data.draw(st.sampled_from(spans))
    assert replace_spans(text, {}) == text
    assert replace_spans(text, {(a, b): "NEW."}) == text[:a] + "NEW." + text[b:]
    dropped = replace_spans(text, {(a, b): ""})
    assert text[:a].rstrip() in dropped and text[b:].lstrip() in dropped
    assert len(sentence_spans(dropped)) == len(spans) - 1 or not text[b:].strip()


def test_a_closing_quote_stays_with_its_sentence() -> None:
    text = 'She said, "Stay focused!" He then beamed.\n\nThe End.'
    assert sentences(text) == ['She said, "Stay focused!"', "He then beamed.", "The End."]
    _, second, _ = sentence_spans(text)
    assert replace_spans(text, {second: ""}) == 'She said, "Stay focused!"\n\nThe End.'


def test_sentences_dropped_side_by_side_leave_no_gap_behind() -> None:
    """Trimming the last two sentences of "A story about the dog. It went on. It ended well."
    left "A story about the dog. " (the gap before the third was gone with the second)."""
    text = "A. B. C.\n\nD. E."
    a, b, c, d, e = sentence_spans(text)
    assert replace_spans(text, {b: "", c: ""}) == "A.\n\nD. E."
    assert replace_spans(text, {d: "", e: ""}) == "A. B. C."
    assert replace_spans(text, {a: "", b: "", d: ""}) == "C.\n\nE."


def test_a_list_item_dropped_whole_takes_its_marker_along() -> None:
    """A step dropped as a repeat left "12." above the closing phrase (ifeval-k27)."""
    text = "Steps:\n11. Reboot it.\n12. Open the page again.\n\nAnything else?"
    spans = sentence_spans(text)
    item = next(s for s in spans if text[s[0] : s[1]] == "Open the page again.")
    assert replace_spans(text, {item: ""}) == "Steps:\n11. Reboot it.\n\nAnything else?"
    steps = "1. Go now. Then rest.\n2. Stop."
    first = next(s for s in sentence_spans(steps) if steps[s[0] : s[1]] == "Go now.")
    assert replace_spans(steps, {first: ""}) == "1. Then rest.\n2. Stop."  # the item goes on


@pytest.mark.parametrize(
    ("text", "balanced"),
    [
        ('He shouted, "I can\'t believe it!" Then he ran.', True),
        ("He shouted, \"I can't believe it! Then he ran.", False),  # the mark a strip took
        ('"Go," she said. "Now."', True),
        ("\u201cGo,\u201d she said.", True),
        ("\u201cGo, she said.", False),
        ('She said "hi" and "bye" to them.', True),
        ('She said hi" to them.', False),
        ("No quotes at all, and an apostrophe's fine.", True),
        ('It begins with the word "hike, " and goes on.', True),
    ],
)
def test_quotes_balanced_reads_which_quote_opens_and_which_closes(
    text: str, balanced: bool
) -> None:
    assert quotes_balanced(text) is balanced


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('"The dog ran to the lake."', "The dog ran to the lake."),
        ("\u201cThe dog ran.\u201d", "The dog ran."),
        ('He shouted, "I can\'t believe it!"', 'He shouted, "I can\'t believe it!"'),
        ('"Go," she said. "Now."', '"Go," she said. "Now."'),
        ('"Go," she said.', '"Go," she said.'),
        ('"He said, "Stop!" and left."', 'He said, "Stop!" and left.'),
        ("  The dog ran.  ", "The dog ran."),
    ],
)
def test_unquote_removes_only_quotes_wrapped_around_the_whole_reply(
    reply: str, expected: str
) -> None:
    assert unquote(reply) == expected


@pytest.mark.parametrize(
    ("text", "closing"),
    [
        ("Intro.\n\n**Section 1**\nBody.\n\n**Conclusion**\nSo it goes.\n\nVisit.", 2),
        ("Intro.\n\nBody here.\n\nOverall, trade made the pharaoh strong.", 2),
        ("Intro.\n\nIn conclusion, we won.\n\nP.S. Thanks.", 1),
        ("Intro.\n\nBody.\n\nPlease note the schema may differ.", None),
        ("Overall, it works.\n\nMore detail.", None),  # the first paragraph is no closing
        ("One paragraph only. Overall, fine.", None),
        ("Intro.\n\nThe overall plan is simple.", None),
        ("Intro.\n\n## Summary\nIt works.", 1),
        ("Intro.\n\nMiddle part.\n\nFinally, the leaves settle.", 2),
    ],
)
def test_closing_at_finds_the_last_paragraph_that_sums_up(text: str, closing: int | None) -> None:
    at = closing_at(text)
    if closing is None:
        assert at is None
    else:
        assert at is not None
        blocks_before = len([b for b in text[:at].split("\n\n") if b.strip()])
        assert blocks_before == closing
