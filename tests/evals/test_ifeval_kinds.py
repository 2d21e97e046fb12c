"""`evals/data/ifeval_kinds_dev.jsonl`: every IFEval kind covered, worded both by the package's
own template and in our words, every row's checkers built from its kwargs alone, no conflicts."""

from __future__ import annotations

import json
from collections import Counter
from itertools import combinations
from typing import Any

import pytest

from evals.datasets import IFEVAL_KINDS_DEV, load_dataset
from evals.verifiers import build, registry


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in IFEVAL_KINDS_DEV.read_text().splitlines()]


def test_the_set_s_shape(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 50 and sum(len(r["instruction_id_list"]) for r in rows) == 93
    assert len({r["key"] for r in rows}) == 50
    for row in rows:
        assert set(row) == {"key", "prompt", "instruction_id_list", "kwargs"}
        assert len(row["kwargs"]) == len(row["instruction_id_list"])
    sizes = Counter(len(r["instruction_id_list"]) for r in rows)
    assert sizes == {1: 11, 2: 35, 3: 4}  # one to three instructions a prompt
    tasks = load_dataset(IFEVAL_KINDS_DEV)
    assert [t.id for t in tasks[:2]] == ["ifeval-k01", "ifeval-k02"]
    assert {t.benchmark for t in tasks} == {"ifeval"} and {t.kind for t in tasks} == {
        "instructions"
    }


def test_every_ifeval_kind_is_covered_twice_in_both_wordings(rows: list[dict[str, Any]]) -> None:
    """Template wording: the text the checker's `build_description` returns for the row's
    kwargs is in the prompt verbatim; our wording: it is not."""
    uses: Counter[str] = Counter()
    template: Counter[str] = Counter()
    for row in rows:
        for name, kwargs in zip(row["instruction_id_list"], row["kwargs"], strict=True):
            uses[name] += 1
            described = build("ifeval", name, kwargs, row["prompt"]).build_description(**kwargs)
            template[name] += described in row["prompt"]
    assert set(uses) == set(registry("ifeval")) and len(uses) == 25
    assert min(uses.values()) >= 2
    assert all(0 < template[name] < uses[name] for name in uses), (template, uses)


def test_every_checker_builds_from_the_row_s_kwargs_alone(rows: list[dict[str, Any]]) -> None:
    """No argument is left to a checker's random default: the arguments it reports are exactly
    the row's (lists sorted, letters lower-cased, as the checkers keep them)."""
    for row in rows:
        for name, kwargs in zip(row["instruction_id_list"], row["kwargs"], strict=True):
            args = build("ifeval", name, kwargs, row["prompt"]).get_instruction_args() or {}
            normal = {k: sorted(v) if isinstance(v, list) else v for k, v in kwargs.items()}
            assert args == normal, (row["key"], name)


def test_no_prompt_pairs_conflicting_instructions(rows: list[dict[str, Any]]) -> None:
    registry("ifeval")
    from if_verifiable.ifeval.instructions_registry import INSTRUCTION_CONFLICTS, conflict_make

    conflicts = conflict_make({k: set(v) for k, v in INSTRUCTION_CONFLICTS.items()})
    for row in rows:
        for a, b in combinations(row["instruction_id_list"], 2):
            assert b not in conflicts[a], (row["key"], a, b)


def test_a_repeated_request_is_in_its_prompt(rows: list[dict[str, Any]]) -> None:
    repeats = [
        (row, kwargs["prompt_to_repeat"])
        for row in rows
        for name, kwargs in zip(row["instruction_id_list"], row["kwargs"], strict=True)
        if name == "combination:repeat_prompt"
    ]
    assert len(repeats) == 3
    for row, request in repeats:
        assert request in row["prompt"]
