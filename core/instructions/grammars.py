"""GBNF grammars (llama.cpp's) under which every text a model writes follows one word-shape rule.

A small model told "start each word with the next letter of the alphabet" does not do it, and
rewording a sentence at a time never gets there; a server that constrains its sampler to a
grammar does it by construction, the model choosing among the words the rule allows. Words are
split as IFBench splits them (whitespace, ASCII punctuation removed), so a grammar lets a word
carry opening and closing punctuation and keeps the rule on its letters.

Only rules a model writes readable text under have one. Measured on IFBench dev with the
embedded 1.5B model (2026-12-07): letter chains, no two neighbours sharing a first letter and a
three-vowel limit came back as readable text that meets the rule; "only words of prime length"
and "every word has two consonants in a row" came back as words glued together ("Theyhoppedsto
the mainframeandw") because the grammar forbids the small words the model reaches for; "26
sentences from A to Z" ran into filler ("Lorem ipsum ...") half-way through the alphabet.
"""

from __future__ import annotations

import string

LETTERS = string.ascii_lowercase
_OPEN = "[\"'(]?"
"""Punctuation a word may open with (IFBench removes it before it reads the word)."""
_TAIL = "[a-zA-Z0-9'-]*"
"""The rest of a word after its first character: no spaces, nothing that ends it."""
_CLOSE = "[.,;:!?\"')]?"
"""Punctuation a word may close with."""
SEPARATOR = 'sep ::= " " | ("\\n" | "\\n\\n") item?\nitem ::= "- " | "* "'
"""Between words: a space, or a line or paragraph break that may open a list item (a marker
is punctuation alone, which IFBench drops: the words either side of it are neighbours)."""


def _word(rule: str, first: str, then: str) -> str:
    """A rule for one word starting with the character class `first`, then optionally a
    separator and what `then` names (another rule, or an alternation of rules)."""
    return f"{rule} ::= {_OPEN} {first} {_TAIL} {_CLOSE} (sep ({then}))?"


def letter_chain() -> str:
    """A text whose words start A, B, C ... Z, in order (once through the alphabet, then it
    ends: let run on, the model said the same 26 words again until its cap)."""
    rules = [
        _word(f"w{c}", f"[{c}{c.upper()}]", f"w{LETTERS[i + 1]}")
        if i < 25
        else f"w{c} ::= {_OPEN} [{c}{c.upper()}] {_TAIL} {_CLOSE}"
        for i, c in enumerate(LETTERS)
    ]
    return "\n".join(["root ::= item? wa", *rules, SEPARATOR])


def distinct_neighbour_initials() -> str:
    """A text in which no two neighbouring words start with the same character: a rule per
    first character (each letter, and digits as one), each followed by any rule but its own."""
    firsts = {f"w{c}": f"[{c}{c.upper()}]" for c in LETTERS} | {"wdigit": "[0-9]"}
    rules = [
        _word(name, first, " | ".join(other for other in firsts if other != name))
        for name, first in firsts.items()
    ]
    return "\n".join(["root ::= item? (" + " | ".join(firsts) + ")", *rules, SEPARATOR])


UNWRITABLE = frozenset(
    {
        "emoji_per_sentence", "indent_stairs", "one_word_per_line", "no_whitespace",
        "nested_quotes", "nested_brackets", "quotes_explained", "template_labels",
        "placeholders", "highlighted_sections", "sections", "json_format", "title", "postscript",
        "csv_table", "number_sequence", "date_list", "item_list", "sorted_lines",
        "multiple_choice", "nth_word_japanese", "all_punctuation", "no_marks", "exact_text",
        "repeat_prompt", "repeat_changed_first_word", "two_responses", "options_only",
        "constrained_response", "sub_bullets", "sentences_then_bullets",
    }
)  # fmt: skip
"""Rules whose text needs marks or a layout no grammar here writes (emoji, brackets, JSON,
headings, placeholders, a text given word for word, one word a line): a request with one is
drafted without a grammar, which would rule its marks out."""


def without_letters(letters: str) -> str:
    """One paragraph on a single line that uses none of `letters`, in either case."""
    banned = "".join(sorted({*letters.lower(), *letters.upper()}))
    return f"root ::= [^{banned}\\n]+"
