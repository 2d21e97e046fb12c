"""`refinery train ...`: the loop teaches the model. A data set from the engine's checked answers,
LoRA fine-tuning on CPU (checkpointed, resumable), the adapter exported to GGUF for the local
server, evaluation against the base before promotion, and the retraining trigger."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

train_app = typer.Typer(help="Fine-tune and distil a model from the engine's own best answers.")
console = Console(stderr=True)

RecipeOpt = Annotated[
    str,
    typer.Option(
        "--recipe", help="Training recipe: a name in core/training/presets/ or a JSON file."
    ),
]
ResultsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--results",
        help="Result JSONL (`refinery run --output`, an eval's results.jsonl) or a folder "
        "searched for results.jsonl (repeatable; default: runs/).",
    ),
]
RequestsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--requests",
        help="JSONL of the tasks the results answer, matched by id (repeatable; default: "
        "the shared and repository data sets).",
    ),
]
FeedbackOpt = Annotated[
    bool, typer.Option(help="Read people's ratings and reviews from the feedback store (Redis).")
]
RootOpt = Annotated[Path, typer.Option("--root", help="Where pipeline runs are written.")]
DEFAULT_ROOT = Path("runs/train")


def _recipe(name: str) -> Any:
    from core.training.config import UnknownTrainingError, load_training

    try:
        return load_training(name)
    except UnknownTrainingError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _results(paths: list[Path] | None) -> list[Path]:
    found: list[Path] = []
    for path in paths or [Path("runs")]:
        if not path.exists():
            if paths:
                raise typer.BadParameter(f"{path} does not exist", param_hint="--results")
            continue  # no runs/ folder yet: no history
        found += sorted(path.rglob("results.jsonl")) if path.is_dir() else [path]
    return found


def _requests(paths: list[Path] | None) -> list[Path]:
    if paths:
        return paths
    from core.training.config import REPO_DATA, SHARED_DATA

    return sorted(SHARED_DATA.glob("*.jsonl")) + sorted(REPO_DATA.glob("*.jsonl"))


async def _feedback() -> list[Any]:
    from core.feedback.store import FeedbackStore
    from core.redis.server import async_client
    from core.settings import get_settings

    settings = get_settings()
    redis = async_client(settings=settings)
    store = FeedbackStore(redis, f"{settings.redis_key_prefix}:telemetry", settings)
    try:  # a run rated and reviewed is in both indexes: one record a run
        rated = {r.run_id: r async for r in store.with_feedback()}
        reviewed = {r.run_id: r async for r in store.reviewed()}
        return list((rated | reviewed).values())
    finally:
        await redis.aclose()


@train_app.command("data")
def data(
    out: Annotated[Path, typer.Option(help="Folder for train/validation/preference JSONL.")],
    recipe: RecipeOpt = "distill_0_5b",
    results: ResultsOpt = None,
    requests: RequestsOpt = None,
    feedback: FeedbackOpt = False,
) -> None:
    """Build the training data set (held-out rows excluded) and its manifest."""
    from core.training.dataset import build_dataset
    from nodes.draft import one_pass_messages

    ratings = asyncio.run(_feedback()) if feedback else []
    manifest = build_dataset(
        out, _recipe(recipe), results=_results(results), requests=_requests(requests),
        feedback=ratings, prompter=one_pass_messages,
    )  # fmt: skip
    typer.echo(json.dumps(manifest.counts, indent=2))
    console.print(f"data set {manifest.version} -> {out}")


@train_app.command("run")
def run(
    data: Annotated[Path, typer.Option(help="A folder `refinery train data` wrote.")],
    out: Annotated[Path, typer.Option(help="Folder for checkpoints, adapter and GGUF.")],
    recipe: RecipeOpt = "distill_0_5b",
    resume: Annotated[bool, typer.Option(help="Continue from the last checkpoint.")] = True,
    stop_at: Annotated[
        int | None, typer.Option(min=1, help="Stop at this step (checkpointed), to resume later.")
    ] = None,
) -> None:
    """LoRA-train the recipe's base on the data set, then export the adapter to GGUF."""
    from core.training.export import adapter_name, export_adapter
    from core.training.lora import ADAPTER_DIR, BASE_CONFIG_DIR, train

    config = _recipe(recipe)
    result = train(config, data, out, resume=resume, stop_at=stop_at)
    typer.echo(result.model_dump_json(indent=2))
    if not result.finished:
        console.print(f"stopped at step {result.steps}; run again to resume")
        return
    exported = export_adapter(
        out / ADAPTER_DIR,
        out / BASE_CONFIG_DIR,
        out / adapter_name(config.name, data),
        config.export_type,
    )
    console.print(f"adapter {exported.bytes / 1e6:.1f} MB -> {exported.path}")


def _pipeline(recipe: str, results: Any, requests: Any, feedback: bool, evaluate: bool,
              root: Path, concurrency: int) -> Any:  # fmt: skip
    """The pipeline as `refinery train pipeline` and `trigger` run it."""
    from core.training.pipeline import run_pipeline

    config = _recipe(recipe)
    ratings = asyncio.run(_feedback()) if feedback else []

    def judge(cfg: Any, adapter: Path, out: Path) -> Any:
        from evals.promotion import evaluate_adapter

        return evaluate_adapter(cfg, adapter, out, concurrency=concurrency)

    def start(reason: Any) -> Any:
        from nodes.draft import one_pass_messages

        return run_pipeline(
            config, root, reason=reason, results=_results(results),
            requests=_requests(requests), feedback=ratings, evaluate=judge if evaluate else None,
            prompter=one_pass_messages,
        )  # fmt: skip

    return start


EvaluateOpt = Annotated[
    bool, typer.Option(help="Evaluate the student against its base (runs both on the held-out).")
]
ConcurrencyOpt = Annotated[int, typer.Option(min=1, max=16, help="Tasks answered at once.")]


@train_app.command("pipeline")
def pipeline(
    recipe: RecipeOpt = "distill_0_5b",
    results: ResultsOpt = None,
    requests: RequestsOpt = None,
    feedback: FeedbackOpt = True,
    evaluate: EvaluateOpt = True,
    root: RootOpt = DEFAULT_ROOT,
    concurrency: ConcurrencyOpt = 1,
) -> None:
    """Data, training, export, evaluation and a report, now."""
    start = _pipeline(recipe, results, requests, feedback, evaluate, root, concurrency)
    report = start("manual")
    typer.echo(report.summary())
    console.print(f"-> {report.directory}")


async def _trigger(start: Any) -> Any:
    from core.redis.server import async_client
    from core.settings import get_settings
    from core.telemetry.drift import DriftMonitor
    from core.training.trigger import TrainingEvents, check

    settings = get_settings()
    redis = async_client(settings=settings)
    prefix = f"{settings.redis_key_prefix}:telemetry"
    try:
        drift = await DriftMonitor(redis, prefix, settings).check()
        return await check(
            drift, TrainingEvents(redis, prefix), lambda r: asyncio.to_thread(start, r)
        )
    finally:
        await redis.aclose()


@train_app.command("trigger")
def trigger(
    recipe: RecipeOpt = "distill_0_5b",
    results: ResultsOpt = None,
    requests: RequestsOpt = None,
    feedback: FeedbackOpt = True,
    evaluate: EvaluateOpt = True,
    root: RootOpt = DEFAULT_ROOT,
    concurrency: ConcurrencyOpt = 1,
) -> None:
    """Start the pipeline if "review or retrain" is raised or the schedule is due (run it from
    cron or a timer); the start is recorded as an event with its report."""
    start = _pipeline(recipe, results, requests, feedback, evaluate, root, concurrency)
    event = asyncio.run(_trigger(start))
    if event is None:
        console.print("not due: no review-or-retrain alert, schedule not reached")
        return
    typer.echo(event.summary)


@train_app.command("events")
def events(count: Annotated[int, typer.Option(min=1, max=200)] = 10) -> None:
    """The pipeline's recent starts, newest first (JSON lines)."""
    from core.redis.server import async_client
    from core.settings import get_settings
    from core.training.trigger import TrainingEvents

    async def read() -> list[Any]:
        settings = get_settings()
        redis = async_client(settings=settings)
        try:
            log = TrainingEvents(redis, f"{settings.redis_key_prefix}:telemetry")
            return await log.recent(count)
        finally:
            await redis.aclose()

    for event in asyncio.run(read()):
        typer.echo(event.model_dump_json(exclude={"report"}))


@train_app.command("promote")
def promote(
    run_dir: Annotated[Path, typer.Argument(help="A pipeline run's folder (has report.json).")],
    force: Annotated[bool, typer.Option(help="Promote even when evaluation refused it.")] = False,
) -> None:
    """A person's decision: make the run's adapter the promoted local model."""
    from core.training.promotion import NotPromotableError
    from core.training.promotion import promote as record

    try:
        model = record(run_dir, force=force)
    except NotPromotableError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    typer.echo(" ".join(f"{k}={v}" for k, v in model.environment().items()))
    console.print(f"promoted {model.name}; serve it with the settings above")
