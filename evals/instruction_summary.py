"""A run's instruction following as IFEval and IFBench report it: prompt-level accuracy and the
instruction-level accuracy micro-averaged over all instructions, strict and loose, per benchmark
and per instruction family (the id's prefix before ":")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from pydantic import BaseModel

from evals.verifiers import InstructionCheck, family


class FamilyScore(BaseModel):
    instructions: int
    strict: float
    """Share of the family's instructions followed (strict)."""
    loose: float


class InstructionSummary(BaseModel):
    prompts: int
    instructions: int
    prompt_strict: float
    """Share of prompts whose every instruction was followed (strict)."""
    prompt_loose: float
    instruction_strict: float
    """Share of all instructions followed (strict): the micro average, not the mean per task."""
    instruction_loose: float
    by_family: dict[str, FamilyScore]


class _Row(Protocol):
    benchmark: str | None
    instructions: list[InstructionCheck]


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 6)


def summarise_checks(checks_per_prompt: Sequence[list[InstructionCheck]]) -> InstructionSummary:
    """The figures of prompts whose instructions were checked (each list one prompt's)."""
    every = [c for checks in checks_per_prompt for c in checks]
    families = sorted({family(c.id) for c in every})
    return InstructionSummary(
        prompts=len(checks_per_prompt),
        instructions=len(every),
        prompt_strict=_share(all(c.strict for c in cs) for cs in checks_per_prompt),
        prompt_loose=_share(all(c.loose for c in cs) for cs in checks_per_prompt),
        instruction_strict=_share(c.strict for c in every),
        instruction_loose=_share(c.loose for c in every),
        by_family={
            name: FamilyScore(
                instructions=len(mine := [c for c in every if family(c.id) == name]),
                strict=_share(c.strict for c in mine),
                loose=_share(c.loose for c in mine),
            )
            for name in families
        },
    )


def summarise_instructions(rows: Sequence[_Row]) -> dict[str, InstructionSummary]:
    """Benchmark -> its figures over the rows whose instructions were checked (a row whose
    verifiers failed has none, and is counted in the run's `errored` instead)."""
    checked: dict[str, list[list[InstructionCheck]]] = {}
    for row in rows:
        if row.instructions:
            checked.setdefault(row.benchmark or "unknown", []).append(row.instructions)
    return {name: summarise_checks(lists) for name, lists in sorted(checked.items())}
