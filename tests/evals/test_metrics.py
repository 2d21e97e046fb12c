"""Task metrics, the Ragas metrics of grounded answers, and the best-so-far trajectory."""

from __future__ import annotations

import math

import pytest

from evals.datasets import DEFAULT_DATASETS, EvalTask, load_dataset
from evals.evaluate import TaskRow, summarise
from evals.metrics import constrained_metrics, task_metrics, trajectory
from graph.runner import TaskResult
from tests.evals.synthetic import make_run


@pytest.fixture(scope="module")
def qa00() -> EvalTask:
    return load_dataset(DEFAULT_DATASETS[1], 1)[0]


def test_constrained_metrics_count_inflections_not_citations() -> None:
    task = EvalTask(id="t", task="use them", constraints={"required_words": ["run", "dog", "cat"]})
    assert constrained_metrics(task, "The dogs were running home [cat].") == pytest.approx(
        {"concept_coverage": 2 / 3, "all_words": 0.0}
    )
    assert constrained_metrics(task, "A cat runs after dogs.")["all_words"] == 1.0


async def test_grounded_metrics(qa00: EvalTask) -> None:
    exact = TaskResult(
        thread_id="1",
        answer=f"{qa00.reference} [kestrel-handbook]",
        passages=["kestrel-handbook", "kestrel-safety"],
    )
    scored = await task_metrics(qa00, exact)
    assert scored.errors == {}
    scores = scored.values
    assert scores["retrieval_precision"] == 0.5 and scores["retrieval_recall"] == 1.0
    assert scores["citation_precision"] == 1.0 and scores["rouge_l"] == pytest.approx(1.0)
    assert scores["semantic_similarity"] == pytest.approx(1.0, abs=1e-3)
    labelled = f"{qa00.reference} [document id: kestrel-handbook]"
    labelled = exact.model_copy(update={"answer": labelled})
    assert (await task_metrics(qa00, labelled)).values["citation_precision"] == 1.0
    wrong = TaskResult(thread_id="2", answer="The garden opens at 8:00 [mirela-visits].")
    scores = (await task_metrics(qa00, wrong)).values
    assert scores["retrieval_recall"] == 0.0 and scores["citation_precision"] == 0.0
    assert scores["semantic_similarity"] < 0.5 and scores["string_similarity"] < 0.5


def test_trajectory_follows_the_best_draft() -> None:
    task = EvalTask(id="t", task="x", constraints={"required_words": ["dog", "cat"]})
    history = [
        {"iteration": 0, "draft": "A dog.", "score": 0.5},
        {"iteration": 1, "draft": "Nothing.", "score": 0.2},
        {"iteration": 2, "draft": "A dog and a cat.", "score": 1.0},
    ]
    points = trajectory(task, TaskResult(thread_id="t", history=history))
    assert [p["concept_coverage"] for p in points] == [0.5, 0.5, 1.0]
    assert [p["engine_score"] for p in points] == [0.5, 0.5, 1.0]


class _Broken:
    """A ragas metric that fails the way a judge or a scorer does."""

    name = "broken"

    async def single_turn_ascore(self, sample: object) -> float:
        raise TimeoutError("judge timed out")


async def test_a_failing_ragas_metric_is_recorded_as_an_error_not_a_silent_nan(
    qa00: EvalTask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evals.ragas_metrics as ragas_metrics

    metrics = dict(ragas_metrics._plain_metrics())
    monkeypatch.setattr(ragas_metrics, "_plain_metrics", lambda: metrics | {"rouge_l": _Broken()})
    result = TaskResult(thread_id="1", answer=qa00.reference or "", passages=["kestrel-handbook"])
    scored = await task_metrics(qa00, result)
    assert math.isnan(scored.values["rouge_l"])
    assert scored.errors == {"rouge_l": "TimeoutError: judge timed out"}
    assert scored.values["retrieval_recall"] == 1.0  # the others still score


def test_a_run_counts_each_metric_s_errors() -> None:
    rows = [
        TaskRow(
            id="a",
            dataset="d",
            kind="grounded",
            metrics={"rouge_l": math.nan},
            metric_errors={"rouge_l": "ValueError: x"},
        ),
        TaskRow(id="b", dataset="d", kind="grounded", metrics={"rouge_l": 0.5}),
    ]
    summary = summarise(make_run("a", {}).summary.stamp, rows)
    assert summary.errored == {"rouge_l": 1} and summary.means == {"rouge_l": 0.5}
