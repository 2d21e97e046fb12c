"""`refinery eval`: run a configuration over data sets, compare two runs with significance
tests, and gate a run against a stored baseline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from core.run_config import DEFAULT_CONFIG

eval_app = typer.Typer(help="Evaluate configurations: run, compare, gate.")
console = Console(stderr=True)

DatasetOpt = Annotated[
    list[Path] | None,
    typer.Option("--dataset", help="A JSONL data set (repeatable); default: the shared dev sets."),
]
LimitOpt = Annotated[
    list[int] | None,
    typer.Option(min=1, help="First N tasks of each data set; repeat for one N per --dataset."),
]
CacheOpt = Annotated[
    bool, typer.Option("--cache", help="Allow cached model replies (costs then read low).")
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Keep the answers a stopped run of the same preset left.")
]
JudgeOpt = Annotated[
    bool, typer.Option("--judge", help="Also run the LLM-judged Ragas metrics (slow).")
]
ConcurrencyOpt = Annotated[
    int,
    typer.Option(
        min=1,
        max=16,
        help="Tasks answered at once (the embedded server has parallel slots); wall times "
        "then share the model.",
    ),
]
CoherenceOpt = Annotated[
    bool,
    typer.Option(
        "--coherence/--no-coherence",
        help="Score how well constrained and instruction answers read to a second model "
        "(perplexity, and the final answer judged against the first draft).",
    ),
]


def _judge() -> Any:
    from core.llm.factory import chat_model, model_name
    from core.run_config import RoleModel
    from evals.ragas_metrics import Judge

    llm = chat_model(RoleModel(temperature=0.0, max_tokens=1024))
    return Judge(llm, model_name(llm))


def _limits(limit: list[int] | None, datasets: list[Path]) -> list[int | None]:
    if not limit:
        return [None] * len(datasets)
    if len(limit) == 1:
        return [limit[0]] * len(datasets)
    if len(limit) != len(datasets):
        raise typer.BadParameter("give one --limit, or one per --dataset")
    return list(limit)


async def _load(datasets: list[Path], limits: list[int | None]) -> tuple[list[Any], list[Any]]:
    from evals.datasets import dataset_info, load_dataset

    tasks, infos = [], []
    for path, limit in zip(datasets, limits, strict=True):
        loaded = await asyncio.to_thread(load_dataset, path, limit)
        tasks += loaded
        infos.append(await asyncio.to_thread(dataset_info, path, len(loaded)))
    return tasks, infos


async def _evaluate(
    configs: list[str],
    datasets: list[Path],
    limits: list[int | None],
    targets: list[Path],
    *,
    judge: bool = False,
    cache: bool = False,
    resume: bool = False,
    coherence: bool = True,
    concurrency: int = 1,
) -> list[Any]:
    """Load the data sets and run every preset over them into `targets`, with a progress bar.

    See `evals.evaluate.run_evals`: answers interleaved task by task (A, B, A, B...), so a run
    that is stopped early still holds paired answers; then each is scored. The bar shows the
    generation alone: it starts after the warm-up and is gone before the scoring."""
    from evals.evaluate import RESULTS_FILE, run_evals
    from graph.builder import build_graph

    tasks, infos = await _load(datasets, limits)
    columns = ["[progress.description]{task.description}", BarColumn(), MofNCompleteColumn()]
    bar = Progress(*columns, TimeElapsedColumn(), console=console)
    job = bar.add_task(" vs ".join(configs), total=len(tasks) * len(configs))

    @contextmanager
    def shown() -> Iterator[None]:
        bar.reset(job)  # its clock starts after the warm-up, as the answers do
        with bar:
            yield

    return await run_evals(
        tasks,
        configs,
        infos,
        graph=build_graph(None),
        raw_outs=[target / RESULTS_FILE for target in targets],
        resume=resume,
        judge=_judge if judge else None,
        cache=cache,
        on_result=lambda *_: bar.advance(job),
        generating=shown(),
        coherence=coherence,
        concurrency=concurrency,
    )


def _print_summary(summary: Any) -> None:
    stamp = summary.stamp
    table = Table(title=f"{stamp.config} ({stamp.fingerprint}) on {stamp.model}")
    table.add_column("metric")
    for kind in summary.by_kind:
        table.add_column(kind, justify="right")
    for name in summary.means:
        cells = [
            f"{summary.by_kind[k][name]:.3f}" if name in summary.by_kind[k] else "-"
            for k in summary.by_kind
        ]
        judged = summary.metrics[name]["judge"]
        label = escape(f"{name} [judge: {judged}]" if judged else name)
        table.add_row(label, *cells)
    console.print(table)
    for name in summary.unscored:
        judge = summary.metrics[name]["judge"]
        label = escape(f"{name} [judge: {judge}]" if judge else name)
        console.print(f"{label}: no valid score on any task")
    _print_instructions(summary)
    console.print(
        f"{summary.tasks} tasks, {summary.failed} failed; commit {stamp.git_commit[:10]}"
        f"{' (dirty)' if stamp.git_dirty else ''}"
    )


def _print_instructions(summary: Any) -> None:
    """Per benchmark: prompt- and instruction-level accuracy (the micro average), strict and
    loose, then each instruction family's instruction-level accuracy."""
    for name, seen in summary.instructions.items():
        table = Table(title=f"instruction following ({name})")
        for column in ("figure", "over", "strict", "loose"):
            table.add_column(column, justify="left" if column == "figure" else "right")
        prompts, instructions = f"{seen.prompts} prompts", f"{seen.instructions} instructions"
        table.add_row("prompt level", prompts, *_pair(seen.prompt_strict, seen.prompt_loose))
        table.add_row(
            "instruction level",
            instructions,
            *_pair(seen.instruction_strict, seen.instruction_loose),
        )
        for family, score in seen.by_family.items():
            over = f"{score.instructions} instructions"
            table.add_row(f"  {family}", over, *_pair(score.strict, score.loose))
        console.print(table)
    if summary.instructions:
        console.print(
            "instruction metrics: if-verifiable 0.1.2's verifiers, run offline; where they can "
            "differ from the reference scorer: evals/nltk_data/README.md"
        )


def _pair(strict: float, loose: float) -> tuple[str, str]:
    return f"{strict:.3f}", f"{loose:.3f}"


@eval_app.command("run")
def run(
    out: Annotated[Path, typer.Option(help="Directory for rows.jsonl and summary.json.")],
    dataset: DatasetOpt = None,
    config: Annotated[str, typer.Option(help="Run configuration preset.")] = DEFAULT_CONFIG,
    limit: LimitOpt = None,
    judge: JudgeOpt = False,
    cache: CacheOpt = False,
    resume: ResumeOpt = False,
    coherence: CoherenceOpt = True,
    concurrency: ConcurrencyOpt = 1,
    langsmith: Annotated[
        bool, typer.Option("--langsmith", help="Push the results as a LangSmith experiment.")
    ] = False,
) -> None:
    """Run one configuration over the data sets and score every answer."""
    from core.run_config import load_config
    from evals.datasets import DEFAULT_DATASETS

    load_config(config)
    out.mkdir(parents=True, exist_ok=True)
    datasets = dataset or DEFAULT_DATASETS
    limits = _limits(limit, datasets)
    [result] = asyncio.run(
        _evaluate(
            [config],
            datasets,
            limits,
            [out],
            judge=judge,
            cache=cache,
            resume=resume,
            coherence=coherence,
            concurrency=concurrency,
        )
    )
    result.save(out)
    _print_summary(result.summary)
    console.print(f"-> {out}")
    if langsmith:
        _push(result, datasets, _limits(limit, datasets))


def _push(run: Any, datasets: list[Path], limits: list[int | None]) -> None:
    from core.settings import get_settings
    from evals.datasets import load_dataset
    from evals.langsmith_push import can_push, push

    settings = get_settings()
    if not can_push(settings):
        console.print("no LangSmith key configured (LANGSMITH_API_KEY): results stay local")
        return
    tasks = [t for p, n in zip(datasets, limits, strict=True) for t in load_dataset(p, n)]
    console.print(f"pushed to LangSmith as experiment {push(run, tasks, settings)}")


def _run_configs(
    configs: list[str],
    datasets: list[Path],
    limits: list[int | None],
    out: Path,
    resume: bool,
    coherence: bool = True,
    concurrency: int = 1,
) -> list[Any]:
    """Run the presets into `out/NAME` each, save and print them."""
    targets = [out / name for name in configs]
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
    runs = asyncio.run(
        _evaluate(
            configs,
            datasets,
            limits,
            targets,
            resume=resume,
            coherence=coherence,
            concurrency=concurrency,
        )
    )
    for run, target in zip(runs, targets, strict=True):
        run.save(target)
        _print_summary(run.summary)
    return runs


@eval_app.command("compare")
def compare(
    run_a: Annotated[Path | None, typer.Argument(help="Run A: a run directory.")] = None,
    run_b: Annotated[Path | None, typer.Argument(help="Run B: a run directory.")] = None,
    config: Annotated[
        list[str] | None,
        typer.Option("--config", help="Instead of runs: two presets to run now, A then B."),
    ] = None,
    dataset: DatasetOpt = None,
    limit: LimitOpt = None,
    out: Annotated[Path, typer.Option(help="Directory for the report.")] = Path("runs/compare"),
    alpha: Annotated[float, typer.Option(min=0.0001, max=0.5)] = 0.05,
    resume: ResumeOpt = False,
    coherence: CoherenceOpt = True,
    concurrency: ConcurrencyOpt = 1,
) -> None:
    """Compare run B against run A: significance per metric, a verdict, a report with plots."""
    from evals.compare import compare as compare_runs
    from evals.datasets import DEFAULT_DATASETS
    from evals.evaluate import EvalRun
    from evals.report import write_report

    configs = config or []
    if not (run_a and run_b) and len(configs) != 2:
        raise typer.BadParameter("give RUN_A RUN_B, or --config A --config B")
    if run_a and run_b:
        runs = [EvalRun.load(run_a), EvalRun.load(run_b)]
    else:
        datasets = dataset or DEFAULT_DATASETS
        limits = _limits(limit, datasets)
        runs = _run_configs(configs, datasets, limits, out, resume, coherence, concurrency)
    result = compare_runs(runs[0], runs[1], alpha=alpha)
    path = write_report(runs[0], runs[1], result, out)
    typer.echo(path.read_text())
    console.print(f"[bold]verdict:[/] {result.verdict_text}\n-> {path}")


@eval_app.command("gate")
def gate(
    baseline: Annotated[Path, typer.Option(help="A stored baseline run (directory or summary).")],
    run: Annotated[Path | None, typer.Option(help="The run to check; default: run now.")] = None,
    config: Annotated[
        str | None, typer.Option(help="Preset to run now; default: the baseline's.")
    ] = None,
    max_drop: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.05,
    metric: Annotated[list[str] | None, typer.Option(help="Only these metrics.")] = None,
    out: Annotated[Path, typer.Option(help="Where a run made now is saved.")] = Path("runs/gate"),
    resume: ResumeOpt = False,
) -> None:
    """Fail (exit 1) when a quality metric fell more than --max-drop against the baseline, or
    has no value (missing, NaN, errored) on a task the baseline scored. A run made now scores
    what the baseline scored: coherence (the second model) only where the baseline has it."""
    from evals.evaluate import EvalRun
    from evals.gate import check
    from evals.metrics import COHERENCE

    base = EvalRun.load(baseline)
    if run is None:
        stamp = base.summary.stamp
        name = config or stamp.config
        datasets = [Path(d.path) for d in stamp.datasets]
        limits: list[int | None] = [d.tasks for d in stamp.datasets]
        coherence = any(metric in COHERENCE for row in base.rows for metric in row.metrics)
        [candidate] = _run_configs([name], datasets, limits, out, resume, coherence)
    else:
        candidate = EvalRun.load(run)
    try:
        failures = check(base, candidate, max_drop, metric)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--metric") from exc
    label = f"{candidate.summary.stamp.config} against baseline {base.summary.stamp.config}"
    if failures:
        for failure in failures:
            console.print(f"[red]FAIL[/] {failure.message(max_drop)}")
        console.print(
            f"gate failed: {label}, {len(failures)} metric(s) fell more than {max_drop:.0%} "
            "or lost values"
        )
        raise typer.Exit(1)
    console.print(f"[green]PASS[/] gate passed: {label}, no metric fell more than {max_drop:.0%}")
