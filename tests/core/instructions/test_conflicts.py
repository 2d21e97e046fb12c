"""Instructions that cannot all be followed are found before drafting."""

from __future__ import annotations

from typing import Any

import pytest

from core.instructions import conflicts, parse_instructions


@pytest.mark.parametrize(
    ("items", "reason"),
    [
        ([{"kind": "all_capitals"}, {"kind": "all_lowercase"}], "all capitals"),
        ([{"kind": "all_lowercase"}, {"kind": "title_case"}], "title case"),
        (
            [{"kind": "all_lowercase"}, {"kind": "capital_word_frequency", "at_least": 2}],
            "no words in capitals",
        ),
        (
            [{"kind": "word_count", "at_least": 300}, {"kind": "word_count", "at_most": 100}],
            "at least 300 and at most 100",
        ),
        (
            [
                {"kind": "forbidden_words", "words": ["Snow"]},
                {"kind": "included_keywords", "keywords": ["snow"]},
            ],
            "snow is both forbidden and required",
        ),
        (
            [
                {"kind": "keyword_frequency", "keyword": "dog", "at_least": 2},
                {"kind": "forbidden_words", "words": ["dog"]},
            ],
            "dog is both forbidden and required",
        ),
        (
            [{"kind": "no_commas"}, {"kind": "csv_table", "columns": ["A"], "rows": 1}],
            "comma-separated csv_table",
        ),
        ([{"kind": "no_whitespace"}, {"kind": "word_count", "at_least": 5}], "one word"),
        (
            [{"kind": "no_marks", "marks": ["!"]}, {"kind": "all_punctuation"}],
            "no exclamation marks cannot hold with all_punctuation",
        ),
        (
            [{"kind": "no_marks", "marks": ["?"]}, {"kind": "sentence_type_ratio"}],
            "no question marks cannot hold",
        ),
    ],
)
def test_conflicts_are_named(items: list[dict[str, Any]], reason: str) -> None:
    found = conflicts(parse_instructions(items))
    assert len(found) == 1
    assert reason in found[0]


def test_compatible_instructions_have_no_conflict() -> None:
    items = [
        {"kind": "all_lowercase"},
        {"kind": "no_commas"},
        {"kind": "word_count", "at_least": 50},
        {"kind": "word_count", "at_most": 100},
        {"kind": "keyword_frequency", "keyword": "dog", "at_least": 3},
        {"kind": "keyword_frequency", "keyword": "cat", "at_most": 0},
        {"kind": "forbidden_words", "words": ["cat"]},
        {"kind": "csv_table", "columns": ["A"], "rows": 1, "delimiter": "\t"},
    ]
    assert conflicts(parse_instructions(items)) == []


def test_sorted_lines_repair_sorts_and_keeps_every_line() -> None:
    spec = parse_instructions([{"kind": "sorted_lines", "descending": True, "at_least": 3}])[0]
    fixed = spec.repair("Uganda\nZimbabwe\n\nÉgypte\nZambia")
    assert fixed == "Zimbabwe\nZambia\nUganda\nÉgypte"
