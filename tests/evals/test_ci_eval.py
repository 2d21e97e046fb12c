"""The CI evaluation: two constrained and two grounded tasks of the dev sets on the real
local model with the default configuration; prints the summary. Slow: marked `model`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.run_config import DEFAULT_CONFIG
from evals.datasets import DEFAULT_DATASETS, dataset_info, load_dataset
from evals.evaluate import run_eval
from graph.builder import build_graph
from testkit.llm import Configure

pytestmark = pytest.mark.model
TASKS_EACH = 2


@pytest.fixture
def local_model(llm_settings: Configure) -> Iterator[None]:
    """The embedded local model, with a call timeout that a slow CI machine cannot hit."""
    llm_settings(llm_timeout_s=600)
    yield


@pytest.mark.timeout(1500)  # real model on 2 shared cores: 300 s alone, 590 s beside another run
def test_small_evaluation_on_the_local_model(local_model: None, tmp_path: Path) -> None:
    tasks = [t for path in DEFAULT_DATASETS for t in load_dataset(path, TASKS_EACH)]
    infos = [dataset_info(path, TASKS_EACH) for path in DEFAULT_DATASETS]
    raw = tmp_path / "results.jsonl"
    run = asyncio.run(run_eval(tasks, DEFAULT_CONFIG, infos, graph=build_graph(None), raw_out=raw))
    run.save(tmp_path)
    print((tmp_path / "summary.json").read_text())

    summary = run.summary
    assert summary.tasks == 2 * TASKS_EACH and summary.failed == 0
    assert "qwen" in summary.stamp.model.lower() and not summary.stamp.response_cache
    constrained = summary.by_kind["constrained"]
    assert 0.0 < constrained["concept_coverage"] <= 1.0
    grounded = summary.by_kind["grounded"]
    assert grounded["retrieval_recall"] > 0 and 0 < grounded["semantic_similarity"] <= 1
    assert all(row.metrics["calls"] >= 1 and row.metrics["tokens"] > 0 for row in run.rows)
