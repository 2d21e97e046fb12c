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

import json
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


def without_letters(letters: str) -> str:
    """One paragraph on a single line that uses none of `letters`, in either case."""
    banned = "".join(sorted({*letters.lower(), *letters.upper()}))
    return f"root ::= [^{banned}\\n]+"


def _literal(word: str) -> str:
    """`word` as GBNF: a word in lower case with each letter in either case (it may open a
    sentence), any other (a name, "NASA") exactly as given."""
    if not word.islower():
        return json.dumps(word.strip())
    return " ".join(
        f"[{c.lower()}{c.upper()}]" if c.isalpha() else json.dumps(c) for c in word.strip()
    )


_LINE = "[^\\n]"
_NOT_LETTER = "[^a-zA-Z\\n]"


def _steps(word: str, state: int, char: str) -> int:
    """How much of `word` is matched after `char`, where `state` letters were matched (the
    longest start of `word` that ends the text so far: a KMP automaton's step)."""
    seen = word[:state] + char
    return next(j for j in range(min(len(seen), len(word)), -1, -1) if seen.endswith(word[:j]))


def _until(word: str, name: str, then: str) -> list[str]:
    """Rules `{name}{k}` for a line that runs until it uses `word` as a word of its own, then
    goes on as `then`: an automaton state per letter matched, so the word can come only where
    a word ends ("lanterns" and "kaleidoscopic" cannot be written: the model, reaching for
    them, ended its sentence and ran on to its token cap looking for the word itself)."""
    folded = word.islower()
    key = word.lower() if folded else word
    letters = sorted(set(key))

    def cls(chars: list[str]) -> str:
        found = {x for c in chars for x in ((c, c.upper()) if folded else (c,))}
        return "[" + "".join(_escaped(c) for c in sorted(found)) + "]"

    rules = []
    for state in range(len(key)):
        targets: dict[int, list[str]] = {}
        for char in letters:
            targets.setdefault(_steps(key, state, char), []).append(char)
        alts = [
            f"{cls(chars)} {then if target == len(key) else f'{name}{target}'}"
            for target, chars in sorted(targets.items())
        ]
        alts.append(f"[^{''.join(_escaped(c) for c in sorted(cls(letters)[1:-1]))}\\n] {name}0")
        rules.append(f"{name}{state} ::= " + " | ".join(alts))
    return rules


def _escaped(char: str) -> str:
    """`char` as it may stand inside a GBNF character class."""
    return "\\" + char if char in "]\\^-[" else char


def containing(words: list[str]) -> str:
    """One line that uses each of `words` as a word of its own, in the order given: for a
    sentence reworded to take them in (told in words alone, the 1.5B model handed half of
    such sentences back unchanged: IFBench dev, 2026-12-07)."""
    rules = ["root ::= w0s0"]
    for i, word in enumerate(words):
        after = f"w{i}end"
        rules += _until(word, f"w{i}s", after)
        rest = f"w{i + 1}s0" if i + 1 < len(words) else f"{_LINE}*"
        rules.append(f"{after} ::= ({_NOT_LETTER} {rest})" + ("" if i + 1 < len(words) else "?"))
    return "\n".join(rules)


def opening(first: str) -> str:
    """One line that opens with the word `first`. (A grammar that also fixed the last word let
    the model run past the end it wanted to its token cap, looking for that word: measured on
    the embedded model, 2026-12-07.)"""
    return f"root ::= {_literal(first)} {_NOT_LETTER} {_LINE}*"


def ending_with(mark: str) -> str:
    """One sentence on one line that ends with `mark` ("?" or "!") and has no other full
    stop, question or exclamation mark in it."""
    return f"root ::= [^\\n.!?]+ {json.dumps(mark)}"
