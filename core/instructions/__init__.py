"""Verifiable instructions as pure, typed checks ("at most 120 words", "all lower case", "end
with 'Any questions?'"): each kind is a pydantic spec with `check(text)` (None when followed,
else a `Finding` saying what is wrong and where), `describe()` for a drafting prompt and, where a
text can be fixed without a model, `repair(text)`. No model calls, no I/O, no downloaded data.

A finding's `source` is `instruction:<kind>` and its `data` starts with the kind.
"""

from core.instructions.base import Counted, Spec
from core.instructions.conflicts import conflicts
from core.instructions.registry import (
    KINDS,
    Instruction,
    check_all,
    parse_instruction,
    parse_instructions,
)

__all__ = [
    "KINDS",
    "Counted",
    "Instruction",
    "Spec",
    "check_all",
    "conflicts",
    "parse_instruction",
    "parse_instructions",
]
