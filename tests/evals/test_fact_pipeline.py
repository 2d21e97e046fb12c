"""The question pipeline alone, scored by the evaluation's key-fact matcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.datasets import load_dataset
from evals.fact_pipeline import composed, main

ROWS = [
    {"id": "t1", "task": "Which was founded first, Kestrel Freight or Tova Labs?",
     "documents": [{"id": "k", "text": "Kestrel Freight was founded in 2009 in Tamsk."},
                   {"id": "t", "text": "Tova Labs was founded in 2021."}],
     "reference": "Kestrel Freight, in 2009.", "key_facts": [["Kestrel Freight"], ["2009"]],
     "answerable": True, "hops": 2},
    {"id": "t2", "task": "How many trains does Tova Labs run?",
     "documents": [{"id": "t", "text": "Tova Labs was founded in 2021."}],
     "reference": "The documents do not say.", "key_facts": [], "answerable": False, "hops": 0},
]  # fmt: skip


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "grounded_tiny.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return path


def test_an_answer_is_composed_from_the_facts_the_documents_hold(dataset: Path) -> None:
    first, second = load_dataset(dataset)
    answer = composed(first)
    assert answer.startswith("Kestrel Freight [k, t].") and "2009" in answer
    assert "do not hold the answer" in composed(second)  # no value of the kind asked


def test_the_table_counts_each_group(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(dataset)])
    table = capsys.readouterr().out
    assert "| grounded_tiny.jsonl | all | 2 | 2 (1.000) |" in table
    assert "| grounded_tiny.jsonl | unanswerable | 1 | 1 (1.000) |" in table
