"""Reading instructions out of plain-language requests: phrasings written for these tests (not
the benchmark templates), what must not be read as an instruction, and invalid readings."""

from __future__ import annotations

from typing import Any

import pytest

from core.instructions.extract import extract


def read(task: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in e.instruction.model_dump().items() if v is not None}
        for e in extract(task)
    ]


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("Tell me about tides in under 120 words.", {"kind": "word_count", "at_most": 119}),
        ("Describe it in 150 words or fewer.", {"kind": "word_count", "at_most": 150}),
        ("Please don't write more than 3 sentences.", {"kind": "sentence_count", "at_most": 3}),
        ("Answer in no fewer than five sentences.", {"kind": "sentence_count", "at_least": 5}),
        (
            "Give a reply of between 40 and 60 words.",
            {"kind": "word_count", "at_least": 40, "at_most": 60},
        ),
        (
            "Write two paragraphs separated by the markdown divider ***.",
            {"kind": "paragraph_count", "exactly": 2, "divider": "***"},
        ),
        ("List the causes with exactly 4 bullet points.", {"kind": "bullet_count", "exactly": 4}),
        (
            "The letter z should appear at least 4 times.",
            {"kind": "letter_frequency", "letter": "z", "at_least": 4},
        ),
        (
            "Mention the word 'tide' at least three times.",
            {"kind": "keyword_frequency", "keyword": "tide", "at_least": 3, "whole_word": False},
        ),
        (
            "Don't use the words 'very' or 'really'.",
            {"kind": "forbidden_words", "words": ["very", "really"]},
        ),
        ("Begin your reply with 'Dear team'.", {"kind": "start_phrase", "phrase": "Dear team"}),
        (
            'Close your email with "Kind regards, Ana".',
            {"kind": "end_phrase", "phrase": "Kind regards, Ana"},
        ),
        (
            'End it with the phrase "See you there!"',
            {"kind": "end_phrase", "phrase": "See you there!"},
        ),
        ('Sign off with "Cheers, Ana".', {"kind": "end_phrase", "phrase": "Cheers, Ana"}),
        ('Start the note with "Hi all".', {"kind": "start_phrase", "phrase": "Hi all"}),
        (
            "Add a postscript starting with P.P.S at the end.",
            {"kind": "postscript", "marker": "P.P.S"},
        ),
        ("Wrap your entire answer in double quotes.", {"kind": "quotation"}),
        ("Please respond in JSON.", {"kind": "json_format"}),
        ("Keep it comma-free.", {"kind": "no_commas"}),
        ("Keep it short and leave out commas completely.", {"kind": "no_commas"}),
        ("Leave all commas out.", {"kind": "no_commas"}),
        ("The note must not hold a single comma.", {"kind": "no_commas"}),
        ("Keep the text free of commas.", {"kind": "no_commas"}),
        ("Write a poem with no exclamation marks.", {"kind": "no_marks", "marks": ["!"]}),
        (
            "Do not use question marks, colons, or exclamation points.",
            {"kind": "no_marks", "marks": ["?", ":", "!"]},
        ),
        (
            "Answer with no semicolons and no em dashes.",
            {"kind": "no_marks", "marks": [";", "\u2014"]},
        ),
        ("Reply in lowercase letters only.", {"kind": "all_lowercase"}),
        ("Shout it: all caps please.", {"kind": "all_capitals"}),
        (
            "Count from 10 to 50 but only print multiples of 7.",
            {"kind": "number_sequence", "numbers": [14, 21, 28, 35, 42, 49]},
        ),
        (
            "Each sentence should have exactly 3 more words than the one before.",
            {"kind": "sentence_growth", "step": 3},
        ),
        ("Answer in Spanish only, please.", {"kind": "response_language", "language": "es"}),
        (
            "Your whole reply has to be in German language.",
            {"kind": "response_language", "language": "de"},
        ),
        (
            "Highlight at least 2 sections with markdown, i.e. *highlighted section*.",
            {"kind": "highlighted_sections", "at_least": 2},
        ),
        ("Write the whole thing in capital letters.", {"kind": "all_capitals"}),
        (
            "Make sure to use all the standard punctuation marks, interrobang included.",
            {"kind": "all_punctuation"},
        ),
        (
            "Keep the ratio of statements to questions at 3:1.",
            {"kind": "sentence_type_ratio", "declarative": 3, "questions": 1},
        ),
        (
            "Write twice as many statements as questions.",
            {"kind": "sentence_type_ratio", "declarative": 2, "questions": 1},
        ),
        (
            "Make sure stop words are less than 40% of the words.",
            {"kind": "stop_word_ratio", "percent": 40.0},
        ),
        (
            "Include no fewer than three palindromic words.",
            {"kind": "palindrome_count", "at_least": 3, "min_length": 5},
        ),
        (
            "The 4th sentence must contain the word 'harbor'.",
            {"kind": "keyword_in_sentence", "keyword": "harbor", "sentence": 4},
        ),
        (
            "Put the word 'lantern' in sentence 3.",
            {"kind": "keyword_in_sentence", "keyword": "lantern", "sentence": 3},
        ),
        ("Every sentence should end with an emoji.", {"kind": "emoji_per_sentence"}),
        (
            "Finish with the exact words LIGHT UP YOUR NIGHT and nothing after them.",
            {"kind": "end_phrase", "phrase": "LIGHT UP YOUR NIGHT"},
        ),
        (
            "Use no more than two words written entirely in capital letters.",
            {"kind": "capital_word_frequency", "at_most": 2},
        ),
        (
            "Every 12th word of your reply must be in Japanese.",
            {"kind": "nth_word_japanese", "every": 12},
        ),
        (
            "Answer with one of the following options: (yes/no/maybe). Do not give any "
            "explanation.",
            {"kind": "options_only", "options": ["yes", "no", "maybe"]},
        ),
        (
            "Answer with one of the following options: w), x), y), z). Do not give any "
            "explanation.",
            {"kind": "options_only", "options": ["w)", "x)", "y)", "z)"]},
        ),
        ("Begin your essay with a verb. Describe the sea.", {"kind": "starts_with_verb"}),
        (
            "The very first word of the answer should be an action verb.",
            {"kind": "starts_with_verb"},
        ),
        ("Describe the sea. Your reply must open with a verb.", {"kind": "starts_with_verb"}),
        ("Start every word with the next letter of the alphabet.", {"kind": "alphabet_chain"}),
        (
            "Every word must begin with the letter that follows the previous word's first letter.",
            {"kind": "alphabet_chain"},
        ),
        (
            "Make sure consecutive words never start with the same letter.",
            {"kind": "no_same_first_letter"},
        ),
        (
            "Do not let two adjacent words begin with the same letter.",
            {"kind": "no_same_first_letter"},
        ),
        ("Neighbouring words must not share a first letter.", {"kind": "no_same_first_letter"}),
        (
            "Use at most three distinct vowels in the entire response.",
            {"kind": "vowel_limit", "at_most": 3},
        ),
        (
            "Your answer may contain no more than 2 kinds of vowels.",
            {"kind": "vowel_limit", "at_most": 2},
        ),
    ],
)
def test_a_phrasing_not_in_the_dev_set_is_read(task: str, expected: dict[str, Any]) -> None:
    assert read(task) == [expected]


@pytest.mark.parametrize(
    "task",
    [
        "Summarise these 3 paragraphs about tides.",
        "Why do we have 7 days in a week?",
        "Explain how capital letters were invented.",
        "What is the best way to use commas?",
        "Why do editors drop commas before 'and'?",
        "What is 'thank you' in Japanese?",
        "How do I learn Spanish in six months?",
        "Which punctuation marks did the Greeks use?",
    ],
)
def test_a_request_that_only_talks_about_counts_or_forms_asks_for_none(task: str) -> None:
    assert read(task) == []


def test_several_instructions_come_back_in_the_order_the_request_gives_them() -> None:
    task = (
        "Write a cover letter for a baker, all in lowercase. It should be at most 90 words, "
        "and finish your response with this exact phrase: See you soon."
    )
    assert [e.instruction.kind for e in extract(task)] == [
        "all_lowercase", "word_count", "end_phrase",
    ]  # fmt: skip
    assert extract(task)[2].instruction.phrase == "See you soon."  # type: ignore[attr-defined]


def test_a_reading_the_spec_refuses_is_dropped_not_trusted() -> None:
    assert read("Write between 60 and 20 words.") == []  # at_least above at_most


def test_a_request_to_repeat_is_read_with_the_request_itself_and_not_the_instruction() -> None:
    task = (
        "Write a limerick about a cat. First repeat the request word for word without change, "
        "then give your answer."
    )
    [found] = read(task)
    assert found == {"kind": "repeat_prompt", "prompt": "Write a limerick about a cat."}


def test_the_same_instruction_said_twice_is_one_check() -> None:
    assert read("No commas. Really: no commas.") == [{"kind": "no_commas"}]


def test_a_mark_named_only_in_passing_is_not_a_rule() -> None:
    assert read("Show no dashboard widgets and explain the plan.") == []
    assert read("There is no question that it works; describe it.") == []
