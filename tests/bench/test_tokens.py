"""The token bench keeps one measurement one: rows carry the stamp of the engine that made them,
a resumed or reported file of rows from two engines is refused, and the table's coverage is the
evaluation's matcher, not the validators' lenient one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench.tokens import engine_stamp, stored_rows, summary

TASK = {"id": "t1", "task": "Use the words.", "constraints": {"required_words": ["counter"]}}


def _repo(root: Path) -> Path:
    for name, text in {
        "nodes/draft.py": "PROMPT = 'Write.'\n",
        "core/training/lora.py": "STEPS = 2\n",
        "README.md": "# r\n",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    return root


def test_the_stamp_follows_the_engine_code_only(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    before = engine_stamp(root)
    (root / "README.md").write_text("# changed\n")
    (root / "core/training/lora.py").write_text("STEPS = 3\n")  # no run imports it
    assert engine_stamp(root) == before
    (root / "nodes/draft.py").write_text("PROMPT = 'Write well.'\n")  # uncommitted: counts
    assert engine_stamp(root) != before


def _rows(path: Path, *stamps: str | None) -> Path:
    rows = [
        {"system": "engine", "id": "t1", "tokens": 10, "cache_hits": 0}
        | ({"engine": stamp} if stamp else {})
        for stamp in stamps
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_rows_of_another_engine_are_refused_not_mixed(tmp_path: Path) -> None:
    same = _rows(tmp_path / "same.jsonl", "aaaa", "aaaa")
    assert len(stored_rows([TASK], same, "aaaa")) == 2
    assert len(stored_rows([TASK], same)) == 2  # --report: one engine, whichever
    with pytest.raises(SystemExit, match="rows of engine aaaa, not only of bbbb"):
        stored_rows([TASK], same, "bbbb")  # resumed after the code changed
    mixed = _rows(tmp_path / "mixed.jsonl", "aaaa", "bbbb")
    with pytest.raises(SystemExit, match="aaaa, bbbb"):
        stored_rows([TASK], mixed)
    old = _rows(tmp_path / "old.jsonl", None)  # written before rows were stamped
    assert len(stored_rows([TASK], old)) == 1  # readable by --report
    with pytest.raises(SystemExit, match="rows of engine None"):
        stored_rows([TASK], old, "aaaa")  # but never resumed


def test_the_table_counts_words_as_the_evaluation_does() -> None:
    # the validators accept "encountered" for "counter"; the evaluation does not
    rows = [{"id": "t1", "answer": "She encountered a fox.", "tokens": 10, "calls": 1,
             "wall_s": 1.0, "coverage": 1.0}]  # fmt: skip
    figures = summary("engine", rows, {"t1": TASK})
    assert figures["coverage"] == 0.0 and figures["all_words"] == 0.0
    rows[0]["answer"] = "The counters were clean."
    assert summary("engine", rows, {"t1": TASK})["coverage"] == 1.0
