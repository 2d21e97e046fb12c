"""Repairing a text against several instructions at once without a model: each failing
instruction's repair is kept only when it leaves fewer instructions failing, so one fix never
undoes another (a quotation wrap after an end phrase is checked, not assumed)."""

from __future__ import annotations

from collections.abc import Sequence

from core.instructions.base import Spec

FRAMING_KINDS = ("title", "repeat_prompt", "start_phrase", "end_phrase", "postscript")
"""Repairs that add an opening or a closing: tried after those that trim or regroup the body."""
LATE_KINDS = (
    "quotation", "json_format", "all_capitals", "all_lowercase", "no_commas", "no_marks"
)  # fmt: skip
"""Repairs that rewrite or wrap the whole text: tried last."""


def _phase(spec: Spec) -> int:
    return 2 if spec.kind in LATE_KINDS else 1 if spec.kind in FRAMING_KINDS else 0


def _failing(text: str, instructions: Sequence[Spec]) -> list[Spec]:
    return [i for i in instructions if i.check(text) is not None]


def repair_all(text: str, instructions: Sequence[Spec], rounds: int = 3) -> tuple[str, list[str]]:
    """`text` with every deterministic repair that helps, and the kinds repaired, in order.

    A repair is kept when fewer instructions fail after it than before; of a rule's several
    ways to repair (`Spec.repairs`), the first that does. Repairs go body first
    (trims, regrouping, markers), then openings and closings (`FRAMING_KINDS`), then those
    that rewrite the whole text (`LATE_KINDS`). Up to `rounds` passes, stopping when one
    changes nothing. Two instructions that each need room (a word cap and an end phrase) may
    be left failing for the model: a repair that breaks another is never kept. A blank text
    is returned as it is: there is nothing to repair."""
    if not text.strip():
        return text, []
    ordered = sorted(instructions, key=_phase)
    repaired: list[str] = []
    for _ in range(rounds):
        changed = False
        for spec in ordered:
            if spec.check(text) is None:
                continue
            before = len(_failing(text, instructions))
            for fixed in spec.repairs(text):
                if fixed != text and len(_failing(fixed, instructions)) < before:
                    text, changed = fixed, True
                    repaired.append(spec.kind)
                    break
        if not changed:
            break
    return text, repaired
