"""`refinery eval run` and `eval compare` end to end on the fake OpenAI server: rows, a stamped
summary, the Ragas metrics of grounded tasks, and the report with its plots."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_openai.chat_models._client_utils import _cached_async_httpx_client
from typer.testing import CliRunner

from core.run_config import load_config
from evals import cli
from evals.cli import eval_app
from evals.datasets import DEFAULT_DATASETS, EvalTask
from evals.evaluate import EvalRun, generate, generated_by, git_state, kept_results
from evals.metrics import COHERENCE
from graph.runner import TaskResult
from testkit.fake_openai import FakeOpenAI
from testkit.llm import Configure
from tests.evals.synthetic import make_run


@pytest.fixture
def fake_model(llm_settings: Configure) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().serve()
    llm_settings(openai_base_url=fake.base_url, llm_max_retries=0)
    yield fake
    fake.stop()


@pytest.fixture
def small_sets(tmp_path: Path) -> list[Path]:
    """Two constrained and two grounded tasks of the shared dev sets."""
    paths = []
    for source in DEFAULT_DATASETS:
        lines = source.read_text().splitlines()[:2]
        target = tmp_path / source.name
        target.write_text("\n".join(lines) + "\n")
        paths.append(target)
    return paths


def _compare(*args: str) -> str:
    result = CliRunner().invoke(eval_app, ["compare", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_run_and_compare(fake_model: FakeOpenAI, small_sets: list[Path], tmp_path: Path) -> None:
    sets = [arg for path in small_sets for arg in ("--dataset", str(path))]
    out = tmp_path / "report"
    # coherence is read on the second model, minutes on two cores (tests/evals/test_report.py
    # covers its place in the report; tests/evals/test_coherence.py the model)
    configs = ["--config", "single_pass", "--config", "refine_default"]
    both = [*configs, *sets, "--out", str(out), "--no-coherence"]
    # two tasks at once: the answers land in the same rows
    assert "verdict" in _compare(*both, "--concurrency", "2")
    single, refined = EvalRun.load(out / "single_pass"), EvalRun.load(out / "refine_default")
    # a resumed run reuses every stored answer: no model call, the same rows
    calls = fake_model.calls
    _compare(*both, "--resume")
    assert fake_model.calls == calls
    assert EvalRun.load(out / "refine_default").rows == refined.rows

    stamp = refined.summary.stamp
    assert stamp.fingerprint == load_config("refine_default").fingerprint()
    assert stamp.git_commit == git_state()[0] and stamp.model and not stamp.response_cache
    assert stamp.prompt_reuse is False  # answers that do not depend on the run's order
    assert [d.tasks for d in stamp.datasets] == [2, 2]
    kinds = {row.id: row.kind for row in refined.rows}
    assert kinds == {
        "cgh000": "constrained",
        "cgh001": "constrained",
        "qa00": "grounded",
        "qa01": "grounded",
    }
    grounded = next(r for r in refined.rows if r.id == "qa00")
    assert grounded.passages and grounded.passages[0] == "kestrel-handbook"
    assert grounded.metrics["retrieval_recall"] == 1.0
    assert 0.0 < grounded.metrics["semantic_similarity"] <= 1.0
    constrained = next(r for r in refined.rows if r.id == "cgh000")
    assert constrained.metrics["tokens"] > 0 and constrained.metrics["calls"] >= 1
    assert constrained.trajectory[0]["iteration"] == 0.0
    assert refined.summary.by_kind["constrained"]["concept_coverage"] == pytest.approx(
        sum(r.metrics["concept_coverage"] for r in refined.rows if r.kind == "constrained") / 2
    )
    assert all(row.metrics["iterations"] == 0 for row in single.rows)

    assert not any(row.error for row in single.rows + refined.rows)
    # stored runs compare again without the model
    again = tmp_path / "again"
    _compare(str(out / "single_pass"), str(out / "refine_default"), "--out", str(again))
    assert (again / "report.json").read_text() == (out / "report.json").read_text()
    report = json.loads((out / "report.json").read_text())
    assert report["paired_tasks"] == 4 and report["verdict"]
    assert {m["metric"] for m in report["metrics"]} >= {"concept_coverage", "rouge_l", "tokens"}
    for plot in ("score_by_iteration.png", "quality_vs_cost.png", "differences.png"):
        assert (out / plot).read_bytes()[:4] == b"\x89PNG"
    assert "| concept_coverage |" in (out / "report.md").read_text()


def test_a_run_is_stamped_with_the_commits_that_generated_its_answers(tmp_path: Path) -> None:
    raw = tmp_path / "results.jsonl"
    rows = [
        {"fingerprint": "f", "id": "a", "git_commit": "c1", "git_dirty": False},
        {"fingerprint": "f", "id": "b", "git_commit": "c2", "git_dirty": True},
        {"fingerprint": "f", "id": "c", "git_commit": "c1", "git_dirty": False},
        {"fingerprint": "f", "id": "d", "git_commit": "c3", "error": "boom"},  # not kept
        {"fingerprint": "other", "id": "e", "git_commit": "c4"},  # another configuration
    ]
    raw.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert generated_by(raw, "f") == ("c1+c2", True)
    raw.write_text(json.dumps({"fingerprint": "f", "id": "a"}) + "\n")  # written before stamps
    assert generated_by(raw, "f") == ("unknown", False)


class _EchoGraph:
    """A stand-in for the compiled graph: answers `config:task`, fails the tasks in `failing`."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.calls: list[str] = []

    async def astream(self, payload: dict[str, Any], *_: Any, **__: Any) -> AsyncIterator[Any]:
        answer = f"{payload['config']}:{payload['task']}"
        self.calls.append(answer)
        if payload["task"] in self.failing:
            raise RuntimeError("boom")
        yield "values", {"answer": answer}


def test_generation_interleaves_configs_and_a_resumed_run_keeps_their_answers(
    tmp_path: Path,
) -> None:
    configs = ["single_pass", "refine_default"]
    tasks = [EvalTask(id=name, task=name) for name in ("t0", "t1", "t2")]
    raws = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    seen: list[tuple[int, int]] = []

    def told(config: int, task: int, _: TaskResult) -> None:
        seen.append((config, task))

    def run(graph: _EchoGraph, resume: bool) -> list[list[TaskResult]]:
        kept = kept_results(configs, raws, resume)
        return asyncio.run(generate(graph, tasks, configs, raws, kept, on_result=told))

    first = _EchoGraph(failing={"t1"})
    results = run(first, resume=False)
    assert first.calls == [f"{c}:{t.id}" for t in tasks for c in configs]  # A, B, A, B...
    assert [r.answer for r in results[1]] == ["refine_default:t0", None, "refine_default:t2"]
    assert results[0][1].error and len(seen) == 6
    again, seen[:] = _EchoGraph(failing=set()), []
    results = run(again, resume=True)
    assert again.calls == ["single_pass:t1", "refine_default:t1"]  # only the failed tasks
    assert [r.answer for r in results[0]] == [f"single_pass:{t.id}" for t in tasks]
    assert sorted(seen) == [(c, t) for c in range(2) for t in range(3)]
    assert run(_EchoGraph(failing=set()), resume=False)  # a fresh run starts the files empty
    assert len(raws[0].read_text().splitlines()) == 3


def test_eval_run_then_gate_runs_the_baseline_s_tasks_again(
    fake_model: FakeOpenAI, small_sets: list[Path], tmp_path: Path
) -> None:
    """`eval run` stores a run; `eval gate` without `--run` runs the baseline's preset over its
    data sets and limits now, scoring what the baseline scored (no coherence here), and passes
    (the fake answers the same); a stored run whose metric lost its values fails it."""
    sets = [arg for path in small_sets for arg in ("--dataset", str(path))]
    runner = CliRunner()
    base = tmp_path / "base"
    made = runner.invoke(
        eval_app, ["run", *sets, "--limit", "1", "--no-coherence", "--out", str(base)]
    )
    assert made.exit_code == 0, made.output
    baseline = EvalRun.load(base)
    assert [r.id for r in baseline.rows] == ["cgh000", "qa00"] and not baseline.summary.errored
    assert baseline.summary.stamp.config == "refine_default"
    calls = fake_model.calls
    # Two commands in one process: langchain_openai shares one httpx client per base URL
    # process-wide, and its connections belong to the first command's (closed) event loop.
    _cached_async_httpx_client.cache_clear()
    now = tmp_path / "now"
    gated = runner.invoke(eval_app, ["gate", "--baseline", str(base), "--out", str(now)])
    assert gated.exit_code == 0, gated.output
    assert "gate passed" in gated.output and fake_model.calls > calls
    rerun = EvalRun.load(now / "refine_default")
    assert [r.answer for r in rerun.rows] == [r.answer for r in baseline.rows]
    assert [set(r.metrics) for r in rerun.rows] == [set(r.metrics) for r in baseline.rows]
    assert not set(COHERENCE) & {m for r in rerun.rows for m in r.metrics}

    broken = rerun
    broken.rows[1].metrics["semantic_similarity"] = float("nan")
    broken.rows[1].metric_errors["semantic_similarity"] = "OSError: no embedding model"
    broken.save(tmp_path / "broken")
    failed = runner.invoke(
        eval_app, ["gate", "--baseline", str(base), "--run", str(tmp_path / "broken")]
    )
    assert failed.exit_code == 1
    assert "semantic_similarity has no value on 1 task(s)" in failed.output
    assert "qa00 (error: OSError: no embedding model)" in failed.output


@pytest.mark.parametrize("scored", [True, False])
def test_a_gate_run_scores_coherence_where_its_baseline_has_it(
    scored: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = {"concept_coverage": 0.8} | ({"perplexity": 9.0} if scored else {})
    baseline = make_run("refine_default", {"t1": metrics})
    baseline.save(tmp_path / "base")
    asked: list[bool] = []

    def run_now(configs: list[str], *args: object) -> list[EvalRun]:
        asked.append(bool(args[-1]))  # the coherence flag
        return [baseline]

    monkeypatch.setattr(cli, "_run_configs", run_now)
    gated = CliRunner().invoke(eval_app, ["gate", "--baseline", str(tmp_path / "base")])
    assert gated.exit_code == 0, gated.output
    assert asked == [scored]
