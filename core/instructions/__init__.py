"""Verifiable instructions as pure, typed checks ("at most 120 words", "all lower case", "end
with 'Any questions?'"): each kind is a pydantic spec with `check(text)` (None when followed,
else a `Finding` saying what is wrong and where), `describe()` for a drafting prompt and, where a
text can be fixed without a model, `repair(text)`. No model calls, no I/O, no downloaded data.

A finding's `source` is `instruction:<kind>` and its `data` starts with the kind.

Modules by concern: `words` (keywords, letters, capitals), `length` (words, sentences,
paragraphs), `layout` (markdown structure, JSON, CSV), `framing` (openings, endings, repeats),
`casing` (case, commas), `counts` (kinds of words and sentence types), `shape` (word and
sentence patterns), `formats` (line and character formats), `lists` (fixed lists), `text` (the
splitters), `conflicts` (instructions that cannot all hold), `repair` (`repair_all`: every
deterministic repair that helps, none undoing another), `registry` (the union).

Each spec's docstring says which IFEval or IFBench verifier it follows and where it may
differ; where IFBench's repository and `if-verifiable` 0.1.2 (the scorer) disagree, 0.1.2 wins.
"""

from core.instructions.base import Counted, Spec
from core.instructions.conflicts import conflicts
from core.instructions.registry import (
    KINDS,
    SPECS,
    Instruction,
    catalogue,
    check_all,
    parse_instruction,
    parse_instructions,
)
from core.instructions.repair import repair_all

__all__ = [
    "KINDS",
    "SPECS",
    "Counted",
    "Instruction",
    "Spec",
    "catalogue",
    "check_all",
    "conflicts",
    "parse_instruction",
    "parse_instructions",
    "repair_all",
]
