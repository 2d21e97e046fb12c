"""Runs a configuration over evaluation tasks and scores every answer: per-task rows and a
summary stamped with the configuration's fingerprint, the model identity and the git commit."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from core.run_config import load_config
from core.settings import PROJECT_ROOT, get_settings
from evals.datasets import DatasetInfo, EvalTask, TaskKind
from evals.instruction_summary import InstructionSummary, summarise_instructions
from evals.metrics import METRICS, describe, task_metrics, trajectory
from evals.ragas_metrics import Judge
from evals.verifiers import InstructionCheck
from graph.runner import TaskResult, run_many

ROWS_FILE, SUMMARY_FILE, RESULTS_FILE = "rows.jsonl", "summary.json", "results.jsonl"


class TaskRow(BaseModel):
    """One task's answer and its metrics (NaN: the metric could not score this task, e.g. a
    judge whose reply did not parse)."""

    model_config = ConfigDict(ser_json_inf_nan="constants")

    id: str
    dataset: str
    kind: TaskKind
    answer: str = ""
    error: str | None = None
    stop_reason: str | None = None
    passages: list[str] = Field(default_factory=list)
    metrics: dict[str, float]
    metric_errors: dict[str, str] = Field(default_factory=dict)
    """Metric -> why it failed on this task (its value in `metrics` is NaN); a NaN without an
    entry here is a metric that did not apply."""
    trajectory: list[dict[str, float]] = Field(default_factory=list)
    benchmark: str | None = None
    """Whose verifiers checked the instructions (instruction tasks)."""
    instructions: list[InstructionCheck] = Field(default_factory=list)
    """Each instruction of the task and whether the answer followed it (instruction tasks)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        """Instructions checked and followed, strictly and loosely: what micro averages over a
        run weigh each task by (see `MetricInfo.weight`); empty for other tasks."""
        if not self.instructions:
            return {}
        return {
            "instructions_total": len(self.instructions),
            "instructions_followed_strict": sum(c.strict for c in self.instructions),
            "instructions_followed_loose": sum(c.loose for c in self.instructions),
        }

    def weight(self, metric: str) -> float | None:
        """What this task weighs in `metric`'s mean over a run: 1, or the count a micro-averaged
        metric is weighted by (None when the row lacks it)."""
        info = METRICS.get(metric)
        if info is None or info.weight is None:
            return 1.0
        count = self.counts.get(info.weight)
        return float(count) if count else None


class RunStamp(BaseModel):
    """What produced a run: enough to tell two runs apart and to reproduce one."""

    config: str
    fingerprint: str
    model: str
    """The model identity at the endpoint (every model the run's calls reported, joined)."""
    endpoint: str
    git_commit: str
    git_dirty: bool
    datasets: list[DatasetInfo]
    judge: str | None = None
    """The model behind the LLM-judged metrics, when they ran."""
    response_cache: bool = False
    """Whether cached model replies were allowed (they cost nothing, so costs read low)."""
    prompt_reuse: bool | None = None
    """Whether the embedded server could reuse earlier requests' prompt prefixes (answers then
    depend on the order of the run; see `measure_real_calls`). None: not recorded (runs made
    before 2026-12-06, which had it on)."""
    ragas_version: str = version("ragas")
    started_at: str
    finished_at: str = ""


class RunSummary(BaseModel):
    stamp: RunStamp
    tasks: int
    failed: int
    means: dict[str, float]
    """Mean of each metric over the tasks it applies to (NaN scores left out); a metric with a
    weight (`MetricInfo.weight`) is averaged over its units, e.g. instruction_loose over all
    instructions (the micro average IFEval and IFBench report)."""
    by_kind: dict[str, dict[str, float]]
    metrics: dict[str, dict[str, Any]]
    """Each metric's family, direction and (for judged metrics) judge."""
    unscored: list[str] = Field(default_factory=list)
    """Metrics that ran but scored no task (every value NaN), so they have no mean."""
    errored: dict[str, int] = Field(default_factory=dict)
    """Metric -> on how many tasks it failed (see `TaskRow.metric_errors`)."""
    instructions: dict[str, InstructionSummary] = Field(default_factory=dict)
    """Benchmark -> prompt- and instruction-level accuracy, strict and loose, and per family."""


class EvalRun(BaseModel):
    summary: RunSummary
    rows: list[TaskRow]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        lines = (row.model_dump_json() + "\n" for row in self.rows)
        (directory / ROWS_FILE).write_text("".join(lines))
        (directory / SUMMARY_FILE).write_text(self.summary.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> EvalRun:
        """A saved run, from its directory or its `summary.json`."""
        directory = path.parent if path.is_file() else path
        summary = RunSummary.model_validate_json((directory / SUMMARY_FILE).read_text())
        rows_text = (directory / ROWS_FILE).read_text().splitlines()
        rows = [TaskRow.model_validate_json(line) for line in rows_text if line.strip()]
        return cls(summary=summary, rows=rows)


def git_state() -> tuple[str, bool]:
    """The checked-out commit and whether the tree has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return git("rev-parse", "HEAD") or "unknown", bool(git("status", "--porcelain"))


def weighted_mean(values: list[float], weights: list[float | None]) -> float:
    """The mean of `values` weighted by `weights`; the plain mean when a weight is missing."""
    if any(w is None for w in weights):
        return sum(values) / len(values)
    known = [w or 0.0 for w in weights]
    return sum(v * w for v, w in zip(values, known, strict=True)) / sum(known)


def means(rows: list[TaskRow]) -> dict[str, float]:
    """Each metric's mean over the rows that scored it; weighted by `TaskRow.weight`."""
    totals: dict[str, tuple[list[float], list[float | None]]] = {}
    for row in rows:
        for name, value in row.metrics.items():
            if not math.isnan(value):
                values, weights = totals.setdefault(name, ([], []))
                values.append(value)
                weights.append(row.weight(name))
    return {name: round(weighted_mean(*pair), 6) for name, pair in sorted(totals.items())}


def summarise(stamp: RunStamp, rows: list[TaskRow]) -> RunSummary:
    kinds = sorted({row.kind for row in rows})
    names = sorted({name for row in rows for name in row.metrics})
    return RunSummary(
        stamp=stamp,
        tasks=len(rows),
        failed=sum(1 for row in rows if row.error),
        means=means(rows),
        by_kind={kind: means([r for r in rows if r.kind == kind]) for kind in kinds},
        metrics=describe(names, stamp.judge),
        unscored=[name for name in names if name not in means(rows)],
        errored={
            name: n for name in names if (n := sum(1 for row in rows if name in row.metric_errors))
        },
        instructions=summarise_instructions(rows),
    )


async def score_results(
    tasks: list[EvalTask],
    results: list[TaskResult],
    judge: Judge | None = None,
    *,
    coherence: bool = True,
) -> list[TaskRow]:
    rows = []
    for task, result in zip(tasks, results, strict=True):
        scores = await task_metrics(task, result, judge, coherence=coherence)
        rows.append(
            TaskRow(
                id=task.id,
                dataset=task.dataset,
                kind=task.kind,
                answer=result.answer or "",
                error=result.error,
                stop_reason=result.stop_reason,
                passages=result.passages,
                metrics=scores.values,
                metric_errors=scores.errors,
                trajectory=trajectory(task, result),
                benchmark=task.benchmark,
                instructions=scores.checks,
            )
        )
    return rows


def measure_real_calls() -> None:
    """Turn the response cache off for this process: a cached reply costs no tokens and no time,
    so it would flatter whichever configuration runs second (they share the first draft). And
    the embedded server's prompt-prefix reuse: with it a reply depends on the requests before
    it, so one run alone and the same run inside a comparison gave other answers (measured
    2026-12-06 on all three dev word tasks; without it they agreed byte for byte)."""
    from core.llm.factory import reset_models

    settings = get_settings()
    settings.llm_cache = False
    settings.local_prompt_reuse = False
    reset_models()


async def warm_up() -> None:
    """Start the model server and load the embedding model before the clock runs, so the first
    task's wall time is the task's own."""
    from core.llm.factory import default_endpoint
    from core.text.embeddings import embed

    await asyncio.to_thread(default_endpoint)
    await asyncio.to_thread(embed, ["warm up"])


def _model_identity(results: list[TaskResult]) -> str:
    seen = sorted({m for r in results for m in r.usage.by_model})
    return ", ".join(seen) or "unknown (no model call succeeded)"


def _endpoint() -> str:
    """Where the calls went, without starting the local server just to ask."""
    return get_settings().openai_base_url or "embedded local model server"


def generated_by(raw: Path, fingerprint: str) -> tuple[str, bool]:
    """The commit (and whether its tree was dirty) that generated the kept answers in `raw`:
    one commit, or several joined with `+` when a resumed run spans commits; `unknown` for
    rows written before rows carried it."""
    commits, dirty = [], False
    if raw.is_file():
        for line in raw.read_text().splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("fingerprint") != fingerprint or row.get("error"):
                continue
            commit = row.get("git_commit") or "unknown"
            if commit not in commits:
                commits.append(commit)
            dirty = dirty or bool(row.get("git_dirty"))
    return "+".join(commits) or "unknown", dirty


def done_results(raw: Path, fingerprint: str) -> dict[str, TaskResult]:
    """The results a stopped run of the same configuration (same fingerprint) left in `raw`;
    failed tasks are not kept, so they run again."""
    if not raw.is_file():
        return {}
    done = {}
    for line in raw.read_text().splitlines():
        row = json.loads(line) if line.strip() else {}
        if row.get("fingerprint") == fingerprint and not row.get("error"):
            done[row["id"]] = TaskResult.model_validate(row)
    return done


OnResult = Callable[[int, int, TaskResult], None]
"""Told of each answer as it comes in (or is found kept): config index, task index, result."""


def kept_results(
    configs: list[str], raw_outs: list[Path], resume: bool
) -> list[dict[str, TaskResult]]:
    """Per config, the answers a stopped run left in its `raw_outs` file (see `done_results`).

    Without `resume` nothing is kept: the files are emptied for a fresh run."""
    if not resume:
        for raw_out in raw_outs:
            raw_out.write_text("")
        return [{} for _ in configs]
    return [
        done_results(raw_out, load_config(config).fingerprint())
        for config, raw_out in zip(configs, raw_outs, strict=True)
    ]


async def generate(
    graph: Any,
    tasks: list[EvalTask],
    configs: list[str],
    raw_outs: list[Path],
    kept: list[dict[str, TaskResult]],
    *,
    concurrency: int = 1,
    on_result: OnResult | None = None,
) -> list[list[TaskResult]]:
    """Run each of `configs` over `tasks`, interleaved task by task; one result list per config.

    The order is A, B, A, B...: a run that is stopped early still holds paired answers. Tasks
    whose answer a config has in `kept` (by task id) are not rerun; every fresh result is
    appended to the config's `raw_outs` file as it arrives, so a stopped run keeps its
    answers."""
    fingerprints = [load_config(config).fingerprint() for config in configs]
    done = [dict(found) for found in kept]
    todo = [
        (c, t)
        for t, task in enumerate(tasks)
        for c in range(len(configs))
        if task.id not in done[c]
    ]
    if on_result:
        for t, task in enumerate(tasks):
            for c, found in enumerate(done):
                if task.id in found:
                    on_result(c, t, found[task.id])
    commit, dirty = await asyncio.to_thread(git_state) if todo else ("", False)
    raws = [raw_out.open("a") for raw_out in raw_outs]

    def record(index: int, result: TaskResult) -> None:
        c, t = todo[index]
        row = {
            "config": configs[c],
            "fingerprint": fingerprints[c],
            "git_commit": commit,
            "git_dirty": dirty,
            **result.model_dump(),
        }
        raws[c].write(json.dumps(row) + "\n")
        raws[c].flush()
        done[c][tasks[t].id] = result
        if on_result:
            on_result(c, t, result)

    try:
        await run_many(
            graph,
            [{**tasks[t].request(), "config": configs[c]} for c, t in todo],
            concurrency=concurrency,
            on_result=record,
        )
    finally:
        for raw in raws:
            raw.close()
    return [[found[task.id] for task in tasks] for found in done]


async def finish(
    tasks: list[EvalTask],
    results: list[TaskResult],
    config: str,
    datasets: list[DatasetInfo],
    started: str,
    judge: Judge | None = None,
    cache: bool = False,
    code: tuple[str, bool] | None = None,
    coherence: bool = True,
) -> EvalRun:
    """Score every answer and stamp the run; `code` is the commit that generated the answers
    (see `generated_by`; default: the checked-out one); `coherence` False leaves out the second
    model's metrics (`evals.metrics.COHERENCE`)."""
    rows = await score_results(tasks, results, judge, coherence=coherence)
    commit, dirty = code or await asyncio.to_thread(git_state)
    stamp = RunStamp(
        config=config,
        fingerprint=load_config(config).fingerprint(),
        model=_model_identity(results),
        endpoint=_endpoint(),
        git_commit=commit,
        git_dirty=dirty,
        datasets=datasets,
        judge=judge.name if judge else None,
        response_cache=cache,
        prompt_reuse=get_settings().local_prompt_reuse,
        started_at=started,
        finished_at=now(),
    )
    return EvalRun(summary=summarise(stamp, rows), rows=rows)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


async def run_evals(
    tasks: list[EvalTask],
    configs: list[str],
    datasets: list[DatasetInfo],
    *,
    graph: Any,
    raw_outs: list[Path],
    resume: bool = False,
    concurrency: int = 1,
    judge: Judge | Callable[[], Judge] | None = None,
    cache: bool = False,
    on_result: OnResult | None = None,
    generating: AbstractContextManager[object] | None = None,
    coherence: bool = True,
) -> list[EvalRun]:
    """Run every config over `tasks` with `graph`, then score each answer; one run per config.

    Generation is interleaved task by task and appends each config's raw results to its
    `raw_outs` file (see `generate`); with `resume`, the answers a stopped run of the same
    config left there are kept, otherwise the files start empty (see `kept_results`). `judge`
    may be a function that builds the judge: it is called once the answers are in, so its model
    is built under this run's cache setting. The response cache is off unless `cache` (see
    `measure_real_calls`). `generating` is entered around the generation alone, after the
    warm-up and before the scoring (where a progress bar lives). `coherence` False skips the
    second model's metrics. One event loop for all: the HTTP clients are shared, and a pool must
    not outlive its loop."""
    if not cache:
        measure_real_calls()
    kept = await asyncio.to_thread(kept_results, configs, raw_outs, resume)
    if any(task.id not in found for task in tasks for found in kept):
        await warm_up()  # only when something is left to generate
    started = now()
    with generating or nullcontext():
        results = await generate(
            graph, tasks, configs, raw_outs, kept, concurrency=concurrency, on_result=on_result
        )
    scorer = judge if judge is None or isinstance(judge, Judge) else judge()
    return [
        await finish(
            tasks,
            found,
            config,
            datasets,
            started,
            scorer,
            cache,
            generated_by(raw_out, load_config(config).fingerprint()),
            coherence,
        )
        for config, found, raw_out in zip(configs, results, raw_outs, strict=True)
    ]


async def run_eval(
    tasks: list[EvalTask],
    config: str,
    datasets: list[DatasetInfo],
    *,
    graph: Any,
    raw_out: Path,
    resume: bool = False,
    concurrency: int = 1,
    judge: Judge | Callable[[], Judge] | None = None,
    cache: bool = False,
    on_result: Callable[[int, TaskResult], None] | None = None,
    coherence: bool = True,
) -> EvalRun:
    """Run one config over `tasks` and score each answer: `run_evals` with a single config."""

    def told(_: int, index: int, result: TaskResult) -> None:
        if on_result:
            on_result(index, result)

    [run] = await run_evals(
        tasks,
        [config],
        datasets,
        graph=graph,
        raw_outs=[raw_out],
        resume=resume,
        concurrency=concurrency,
        judge=judge,
        cache=cache,
        on_result=told if on_result else None,
        coherence=coherence,
    )
    return run
