"""Scoring `refinery run` result files with the official verifiers, side by side."""

from __future__ import annotations

import json
from pathlib import Path

from evals.score_file import load_rows, mcnemar, score

ROWS = [
    {"key": 1, "prompt": "Say hi. The output should not contain any whitespace.",
     "instruction_id_list": ["format:no_whitespace"], "kwargs": [{}]},
    {"key": 2, "prompt": "Describe rain. Write each word on a new line.",
     "instruction_id_list": ["format:newline"], "kwargs": [{}]},
]  # fmt: skip


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_results_file_is_scored_by_the_verifiers_and_a_missing_task_follows_nothing(
    tmp_path: Path,
) -> None:
    rows = load_rows(write(tmp_path / "data.jsonl", ROWS))
    assert list(rows) == ["ifbench-1", "ifbench-2"]
    usage = {"input_tokens": 10, "output_tokens": 5}
    results = write(tmp_path / "a.jsonl", [
        {"id": "ifbench-1", "answer": "Hithere!", "first_draft": "Hi there!", "usage": usage},
    ])  # fmt: skip
    scored = score(rows, results)
    assert scored["summary"]["prompt_loose"] == 0.5
    assert scored["summary"]["instruction_strict"] == 0.5
    assert scored["prompt_loose"] == {"ifbench-1": True, "ifbench-2": False}
    assert scored["errors"] == ["ifbench-2"] and scored["tokens_per_task"] == 7.5
    assert scored["summary"]["by_family"]["format"]["instructions"] == 2


def test_an_answer_that_says_the_request_back_is_counted_apart(tmp_path: Path) -> None:
    passage = "Rain falls on the old town every evening and the streets shine under the lamps"
    rows = load_rows(write(tmp_path / "data.jsonl", [
        {"key": 3, "prompt": f"Rephrase this: {passage}. Write each word on a new line.",
         "instruction_id_list": ["format:newline"], "kwargs": [{}]},
    ]))  # fmt: skip
    said_back = "\n".join(passage.split())
    results = write(tmp_path / "a.jsonl", [
        {"id": "ifbench-3", "answer": said_back, "first_draft": passage,
         "instructions": [{"kind": "one_word_per_line"}]},
    ])  # fmt: skip
    scored = score(rows, results)
    assert scored["prompt_loose"] == {"ifbench-3": True}  # the verifier passes a copy
    assert scored["echoes"] == ["ifbench-3"] and scored["prompt_loose_answering"] == 0.0


def test_mcnemar_counts_the_discordant_prompts() -> None:
    a = {"t1": True, "t2": False, "t3": False, "t4": True}
    b = {"t1": True, "t2": True, "t3": True, "t4": False}
    assert mcnemar(a, b) == {"gained": 2, "lost": 1, "p_value": 1.0}
