"""`refinery eval`: run a configuration over data sets, compare two runs with significance
tests, and gate a run against a stored baseline."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from core.run_config import DEFAULT_CONFIG

eval_app = typer.Typer(help="Evaluate configurations: run, compare, gate.")
console = Console(stderr=True)

DatasetOpt = Annotated[
    list[Path] | None,
    typer.Option("--dataset", help="A JSONL data set (repeatable); default: the shared dev sets."),
]
LimitOpt = Annotated[int | None, typer.Option(min=1, help="First N tasks of each data set.")]
JudgeOpt = Annotated[
    bool, typer.Option("--judge", help="Also run the LLM-judged Ragas metrics (slow).")
]


def _judge() -> Any:
    from core.llm import chat_model, model_name
    from core.run_config import RoleModel
    from evals.ragas_metrics import Judge

    llm = chat_model(RoleModel(temperature=0.0, max_tokens=1024))
    return Judge(llm, model_name(llm))


async def _run(datasets: list[Path], config: str, limit: int | None, out: Path, judge: bool) -> Any:
    from evals.datasets import dataset_info, load_dataset
    from evals.runner import RESULTS_FILE, run_eval
    from graph.builder import build_graph

    tasks, infos = [], []
    for path in datasets:
        loaded = await asyncio.to_thread(load_dataset, path, limit)
        tasks += loaded
        infos.append(await asyncio.to_thread(dataset_info, path, len(loaded)))
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    ) as bar:  # fmt: skip
        job = bar.add_task(config, total=len(tasks))
        run = await run_eval(
            tasks, config, infos, graph=build_graph(None), limit=limit,
            judge=_judge() if judge else None, raw_out=out / RESULTS_FILE,
            on_result=lambda *_: bar.advance(job),
        )  # fmt: skip
    return run


def _print_summary(summary: Any) -> None:
    stamp = summary.stamp
    table = Table(title=f"{stamp.config} ({stamp.fingerprint}) on {stamp.model}")
    table.add_column("metric")
    for kind in summary.by_kind:
        table.add_column(kind, justify="right")
    for name in summary.means:
        cells = [f"{summary.by_kind[k][name]:.3f}" if name in summary.by_kind[k] else "-"
                 for k in summary.by_kind]  # fmt: skip
        label = f"{name} [judge: {stamp.judge}]" if summary.metrics[name]["judge"] else name
        table.add_row(label, *cells)
    console.print(table)
    console.print(f"{summary.tasks} tasks, {summary.failed} failed; commit {stamp.git_commit[:10]}"
                  f"{' (dirty)' if stamp.git_dirty else ''}")  # fmt: skip


@eval_app.command("run")
def run(
    out: Annotated[Path, typer.Option(help="Directory for rows.jsonl and summary.json.")],
    dataset: DatasetOpt = None,
    config: Annotated[str, typer.Option(help="Run configuration preset.")] = DEFAULT_CONFIG,
    limit: LimitOpt = None,
    judge: JudgeOpt = False,
) -> None:
    """Run one configuration over the data sets and score every answer."""
    from core.run_config import load_config
    from evals.datasets import DEFAULT_DATASETS

    load_config(config)
    out.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(_run(dataset or DEFAULT_DATASETS, config, limit, out, judge))
    result.save(out)
    _print_summary(result.summary)
    console.print(f"-> {out}")
