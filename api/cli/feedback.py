"""`refinery feedback ...`: the feedback users gave, exported as a data set of well-rated
(task, answer) pairs for fine-tuning or distilling a smaller model."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

feedback_app = typer.Typer(help="User feedback on answers.")


async def _export(output: Path | None, min_score: float | None, implicit: bool) -> int:
    from core.feedback.store import FeedbackStore
    from core.redis.server import async_client
    from core.settings import get_settings

    settings = get_settings()
    redis = async_client(settings=settings)
    store = FeedbackStore(redis, f"{settings.redis_key_prefix}:telemetry", settings)
    try:
        if output is None:
            return await store.export(sys.stdout, min_score=min_score, include_implicit=implicit)
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8") as out:
            return await store.export(out, min_score=min_score, include_implicit=implicit)
    finally:
        await redis.aclose()


@feedback_app.command("export")
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="JSONL file to write (default: stdout).")
    ] = None,
    min_score: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Also require this final score.")
    ] = None,
    implicit: Annotated[
        bool, typer.Option(help="Count copied-and-never-regenerated answers as well-rated.")
    ] = False,
) -> None:
    """Write the well-rated (task, answer) pairs as JSONL (chat `messages` plus plain fields)."""
    written = asyncio.run(_export(output, min_score, implicit))
    typer.echo(f"{written} pairs" + (f" -> {output}" if output else ""), err=True)
