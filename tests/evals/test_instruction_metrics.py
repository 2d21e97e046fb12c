"""Instruction following as evaluation metrics: IFBench-shaped rows load as tasks whose request
holds only the prompt; per-task prompt/instruction strict/loose and the content figures; the
run's instruction level is the micro average; compare, gate, report and CLI handle them."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from evals.cli import _print_summary, console, eval_app
from evals.compare import compare
from evals.datasets import IFBENCH_DEV, IFEVAL_KINDS_DEV, EvalTask, load_dataset
from evals.evaluate import EvalRun, score_results, summarise
from evals.gate import check as gate_check
from evals.metrics import METRICS, content_metrics, instruction_metrics, is_quality
from evals.report import markdown
from evals.verifiers import InstructionCheck
from graph.runner import TaskResult
from tests.evals.synthetic import make_instruction_run, make_run

IFEVAL_IDS = ["punctuation:no_comma", "detectable_format:title", "length_constraints:number_words"]
RAINY = EvalTask(
    id="rainy",
    task="Describe rain with a title, no commas, in under five words.",
    instruction_id_list=IFEVAL_IDS,
    kwargs=[{}, {}, {"num_words": 5, "relation": "less than"}],
)
"""Its answer `Sure, here it is\\n<<Rain>>\\nsoft rain falls` fails the comma and word count
strictly (a comma, 8 words) and passes all three loosely (first line dropped: 4 words)."""
SHOPPING = EvalTask(
    id="shopping",
    task="Start with a verb and use exactly two numbers.",
    instruction_id_list=["count:numbers", "words:start_verb"],
    kwargs=[{"N": 2}, {}],
)
RAINY_ANSWER = "Sure, here it is\n<<Rain>>\nsoft rain falls"
SHOPPING_ANSWER = "Buy 3 apples and 12 pears."


def _check(name: str, strict: bool, loose: bool) -> InstructionCheck:
    return InstructionCheck(id=name, strict=strict, loose=loose)


def test_benchmark_rows_load_as_tasks_whose_request_is_only_the_prompt(tmp_path: Path) -> None:
    [first] = load_dataset(IFBENCH_DEV, 1)
    row = json.loads(IFBENCH_DEV.read_text().splitlines()[0])
    assert first.id == "ifbench-0" and first.task == row["prompt"]
    assert first.kind == "instructions" and first.benchmark == "ifbench"
    assert first.instruction_id_list == ["count:keywords_multiple"]
    assert first.kwargs[0]["keyword5"] == "paradox" and first.dataset == "ifbench_dev"
    assert first.request() == {"id": "ifbench-0", "task": row["prompt"]}
    path = tmp_path / "mixed.jsonl"
    rows = [
        {"key": 7, "prompt": "Say hi.", "instruction_id_list": ["punctuation:no_comma"]},
        {"key": "b", "prompt": "Say bye.", "instruction_id_list": ["count:numbers"], "kwargs": []},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    loaded = load_dataset(path)
    assert [(t.id, t.benchmark, t.kwargs) for t in loaded] == [
        ("ifeval-7", "ifeval", [{}]),
        ("ifbench-b", "ifbench", [{}]),
    ]
    path.write_text(json.dumps({**rows[0], "kwargs": [{}, {}]}) + "\n")
    with pytest.raises(ValueError, match="1 instruction ids but 2 kwargs"):
        load_dataset(path)
    assert len(load_dataset(IFBENCH_DEV)) == 98 and len(load_dataset(IFEVAL_KINDS_DEV)) == 50


def test_per_task_instruction_metrics() -> None:
    rainy = instruction_metrics(RAINY, RAINY_ANSWER)
    assert rainy.values == {
        "prompt_strict": 0.0,
        "prompt_loose": 1.0,
        "instruction_strict": pytest.approx(1 / 3),
        "instruction_loose": 1.0,
    }
    assert [(c.strict, c.loose) for c in rainy.checks] == [(0, 1), (1, 1), (0, 1)]
    shopping = instruction_metrics(SHOPPING, SHOPPING_ANSWER)
    assert shopping.values == dict.fromkeys(
        ["prompt_strict", "prompt_loose", "instruction_strict", "instruction_loose"], 1.0
    )
    blank = instruction_metrics(SHOPPING, "")
    assert set(blank.values.values()) == {0.0} and len(blank.checks) == 2


def test_a_verifier_that_raises_leaves_the_metrics_nan_with_its_error() -> None:
    broken = SHOPPING.model_copy(update={"instruction_id_list": ["count:no_such_thing"]})
    scores = instruction_metrics(broken, "x")
    assert all(math.isnan(v) for v in scores.values.values()) and not scores.checks
    assert (
        scores.errors["prompt_loose"]
        == "ValueError: ifbench has no instruction count:no_such_thing"
    )


async def test_content_figures_come_from_the_content_guard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import nodes.content

    seen: list[tuple[str, str, str]] = []

    def figures(answer: str, first_draft: str, task: str) -> dict[str, float]:
        seen.append((answer, first_draft, task))
        return {
            "to_task": 0.7,
            "to_first_draft": 0.9,
            "first_draft_to_task": 0.6,
            "length_share": 0.5,
            "echo": 0.25,
        }

    monkeypatch.setattr(nodes.content, "figures", figures)
    result = TaskResult(thread_id="t", answer="Rain falls.", first_draft="Rain falls softly today.")
    scores = await content_metrics(RAINY, result)
    assert scores.values == {
        "content_to_task": 0.7,
        "content_to_first_draft": 0.9,
        "content_length_share": 0.5,
        "content_echo": 0.25,
    }
    assert seen == [("Rain falls.", "Rain falls softly today.", RAINY.task)]
    no_draft = await content_metrics(RAINY, result.model_copy(update={"first_draft": None}))
    assert no_draft.values["content_to_task"] == 0.7
    assert math.isnan(no_draft.values["content_to_first_draft"])
    assert math.isnan(no_draft.values["content_length_share"])
    empty = await content_metrics(RAINY, result.model_copy(update={"answer": ""}))
    assert empty.values == dict.fromkeys(empty.values, 0.0) and len(empty.values) == 4


async def test_content_figures_with_the_real_embedder() -> None:
    result = TaskResult(
        thread_id="t", answer="Rain falls on the roof.", first_draft="Rain falls on the roof."
    )
    values = (await content_metrics(RAINY, result)).values
    assert values["content_to_first_draft"] == pytest.approx(1.0, abs=1e-3)
    assert values["content_length_share"] == 1.0 and 0.0 < values["content_to_task"] < 1.0


async def test_a_run_reports_the_micro_average_and_each_family() -> None:
    tasks = [
        RAINY.model_copy(update={"benchmark": "ifeval"}),
        SHOPPING.model_copy(update={"benchmark": "ifbench"}),
    ]
    results = [
        TaskResult(thread_id="a", answer=RAINY_ANSWER, first_draft=RAINY_ANSWER),
        TaskResult(thread_id="b", answer=SHOPPING_ANSWER, first_draft=SHOPPING_ANSWER),
    ]
    rows = await score_results(tasks, results)
    assert rows[0].counts == {
        "instructions_total": 3,
        "instructions_followed_strict": 1,
        "instructions_followed_loose": 3,
    }
    assert (
        rows[1].benchmark == "ifbench"
        and [c.id for c in rows[1].instructions] == SHOPPING.instruction_id_list
    )
    summary = summarise(make_run("x", {}).summary.stamp, rows)
    # 1 of 3 and 2 of 2 followed strictly: 3 of 5 instructions, not the mean of 1/3 and 1
    assert summary.means["instruction_strict"] == 0.6
    assert summary.by_kind["instructions"]["instruction_strict"] == 0.6
    assert summary.means["prompt_strict"] == 0.5 and summary.means["instruction_loose"] == 1.0
    assert summary.means["content_length_share"] == 1.0  # each answer is its first draft
    assert summary.metrics["instruction_loose"]["weight"] == "instructions_total"
    assert "punkt" in summary.metrics["prompt_loose"]["notes"]
    assert summary.metrics["content_to_task"]["family"] == "content"
    ifeval = summary.instructions["ifeval"]
    assert (ifeval.prompts, ifeval.instructions) == (1, 3)
    assert (ifeval.prompt_strict, ifeval.prompt_loose) == (0.0, 1.0)
    assert ifeval.instruction_strict == pytest.approx(0.333333)
    assert {name: (f.instructions, f.strict, f.loose) for name, f in ifeval.by_family.items()} == {
        "detectable_format": (1, 1.0, 1.0),
        "length_constraints": (1, 0.0, 1.0),
        "punctuation": (1, 0.0, 1.0),
    }
    assert summary.instructions["ifbench"].by_family["count"].instructions == 1
    # saved and loaded, the counts and checks come back
    again = EvalRun(summary=summary, rows=rows)
    assert EvalRun.model_validate_json(again.model_dump_json()).rows == rows


def _pair() -> tuple[EvalRun, EvalRun]:
    """A follows one of three instructions on every odd task and all on the even ones; B all
    three everywhere but one (same instructions, 24 tasks); B's answers drift from the task."""
    names = ["count:numbers", "words:start_verb", "format:no_whitespace"]
    a_checks, b_checks, a_extra, b_extra = {}, {}, {}, {}
    for k in range(24):
        followed = 3 if k % 2 == 0 else 1
        a_checks[f"t{k:02d}"] = [_check(n, i < followed, i < followed) for i, n in enumerate(names)]
        b_checks[f"t{k:02d}"] = [_check(n, k != 5 or i == 0, True) for i, n in enumerate(names)]
        a_extra[f"t{k:02d}"] = {"content_to_task": 0.8, "tokens": 100.0}
        b_extra[f"t{k:02d}"] = {"content_to_task": 0.5 - 0.01 * k, "tokens": 300.0}
    return (
        make_instruction_run("single_pass", a_checks, extra=a_extra),
        make_instruction_run("refine_default", b_checks, extra=b_extra),
    )


def test_compare_tests_the_instruction_metrics_and_keeps_content_out_of_the_verdict() -> None:
    a, b = _pair()
    result = compare(a, b)
    by_name = {m.metric: m for m in result.metrics}
    strict = by_name["instruction_strict"]
    # A: 12 tasks x 3 + 12 x 1 = 48 of 72; B: 23 x 3 + 1 = 70 of 72
    assert strict.weighted and strict.mean_a == pytest.approx(48 / 72)
    assert strict.mean_b == pytest.approx(70 / 72) and a.summary.means[
        "instruction_strict"
    ] == pytest.approx(48 / 72, abs=1e-6)
    diffs = np.array(
        [
            b.rows[k].metrics["instruction_strict"] - a.rows[k].metrics["instruction_strict"]
            for k in range(24)
        ]
    )
    assert strict.p_value == pytest.approx(stats.wilcoxon(diffs, zero_method="pratt").pvalue)
    assert strict.better == "b" and by_name["prompt_loose"].better == "b"
    assert not by_name["prompt_strict"].weighted
    content = by_name["content_to_task"]
    assert content.family == "content" and content.better == "a"  # tested in its own group
    assert "content_to_task" not in result.verdict_text and result.verdict == "b_better"
    assert not is_quality("content_to_task") and METRICS["content_length_share"].family == "content"
    text = markdown(result, [])
    assert "| instruction_strict (micro) | instructions |" in text
    assert "## Content (informational" in text and "| content_to_task | content |" in text
    assert "| prompt level | 0.500 | 0.958 | 0.500 | 1.000 |" in text
    assert "| format (24) | 0.500 | 0.958 | 0.500 | 1.000 |" in text


def test_the_gate_weighs_instruction_level_and_ignores_the_content_figures() -> None:
    a, b = _pair()
    assert gate_check(a, a) == []
    failures = gate_check(b, a)  # A is the candidate: it falls on every instruction metric
    assert {f.metric for f in failures} == {
        "prompt_strict",
        "prompt_loose",
        "instruction_strict",
        "instruction_loose",
    }
    strict = next(f for f in failures if f.metric == "instruction_strict")
    assert strict.baseline == pytest.approx(70 / 72) and strict.candidate == pytest.approx(48 / 72)
    assert gate_check(a, b) == []  # content_to_task fell by 44%: informational, not gated


def test_the_printed_summary_shows_both_levels_and_each_family() -> None:
    _, b = _pair()
    with console.capture() as captured:
        _print_summary(b.summary)
    out = captured.get()
    assert "instruction following (ifbench)" in out
    assert "prompt level" in out and "24 prompts" in out and "0.958" in out
    assert "instruction level" in out and "72 instructions" in out and "0.972" in out
    assert "format" in out and "evals/nltk_data/README.md" in out


def test_eval_compare_of_stored_instruction_runs(tmp_path: Path) -> None:
    a, b = _pair()
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    out = tmp_path / "report"
    done = CliRunner().invoke(
        eval_app, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "## Instruction following" in done.output and "| prompt_loose |" in done.output
    report = json.loads((out / "report.json").read_text())
    assert report["instructions_b"]["ifbench"]["instruction_loose"] == 1.0
    assert (out / "score_by_iteration.png").read_bytes()[:4] == b"\x89PNG"


class _InstructionGraph:
    """A stand-in for the compiled graph: refine_default follows the instructions of the tasks
    it knows, single_pass answers the same words with a comma and a preamble."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []

    async def astream(self, payload: dict[str, Any], *_: Any, **__: Any) -> AsyncIterator[Any]:
        self.requests.append(payload)
        good = self.answers.get(payload["task"], "Nothing.")
        answer = good if payload["config"] == "refine_default" else f"Well, sure.\n{good}"
        yield "values", {"answer": answer, "first_draft": f"Well, sure.\n{good}"}


def test_eval_compare_runs_presets_over_instruction_sets_and_prints_the_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`refinery eval compare --config single_pass --config refine_default --dataset ...` over
    IFBench and IFEval rows, with a stand-in graph (no model): the engine gets the prompt only,
    each run prints its instruction tables and the report holds the new metrics."""
    import evals.evaluate
    import graph.builder

    ifbench = tmp_path / "ifbench.jsonl"
    ifeval = tmp_path / "ifeval.jsonl"
    ifbench.write_text(
        json.dumps(
            {
                "key": "1",
                "prompt": "Use exactly two numbers.",
                "instruction_id_list": ["count:numbers"],
                "kwargs": [{"N": 2}],
            }
        )
        + "\n"
    )
    ifeval.write_text(
        json.dumps(
            {
                "key": "k1",
                "prompt": "Say hello without commas.",
                "instruction_id_list": ["punctuation:no_comma"],
                "kwargs": [{}],
            }
        )
        + "\n"
    )
    stand_in = _InstructionGraph(
        {
            "Use exactly two numbers.": "I have 2 cats and 3 dogs.",
            "Say hello without commas.": "Hello there friend.",
        }
    )
    monkeypatch.setattr(graph.builder, "build_graph", lambda *_: stand_in)

    async def no_warm_up() -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(evals.evaluate, "warm_up", no_warm_up)
    out = tmp_path / "ab"
    args = [
        "compare",
        "--config",
        "single_pass",
        "--config",
        "refine_default",
        "--dataset",
        str(ifbench),
        "--dataset",
        str(ifeval),
        "--out",
        str(out),
    ]
    with console.capture() as captured:
        done = CliRunner().invoke(eval_app, args)
    assert done.exit_code == 0, done.output
    assert all(set(r) == {"task", "config"} for r in stand_in.requests)  # the prompt only
    assert {r["task"] for r in stand_in.requests} == {
        "Use exactly two numbers.",
        "Say hello without commas.",
    }
    printed = captured.get()
    assert (
        "instruction following (ifbench)" in printed and "instruction following (ifeval)" in printed
    )
    single, refined = EvalRun.load(out / "single_pass"), EvalRun.load(out / "refine_default")
    # single_pass: the preamble's comma fails no_comma strictly, not loosely (first line dropped)
    assert (
        single.summary.means["prompt_strict"] == 0.5 and single.summary.means["prompt_loose"] == 1.0
    )
    assert refined.summary.means["prompt_strict"] == 1.0
    assert {r.id for r in refined.rows} == {"ifbench-1", "ifeval-k1"}
    report = json.loads((out / "report.json").read_text())
    assert {"prompt_strict", "instruction_loose", "content_to_task"} <= {
        m["metric"] for m in report["metrics"]
    }
