"""`refinery feedback ...`: the feedback users gave, exported as a data set of well-rated
(task, answer) pairs for fine-tuning or distilling a smaller model, or (`--reviews`) of the
preference pairs (draft, corrected) that reviewers' edits and feedback made."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import IO, Annotated

import typer

feedback_app = typer.Typer(help="User feedback on answers.")


async def _export(
    output: Path | None, min_score: float | None, implicit: bool, reviews: bool
) -> int:
    from core.feedback.store import FeedbackStore
    from core.redis.server import async_client
    from core.settings import get_settings

    settings = get_settings()
    redis = async_client(settings=settings)
    store = FeedbackStore(redis, f"{settings.redis_key_prefix}:telemetry", settings)

    async def write(out: IO[str]) -> int:
        if reviews:
            return await store.export_pairs(out)
        return await store.export(out, min_score=min_score, include_implicit=implicit)

    try:
        if output is None:
            return await write(sys.stdout)
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8") as out:
            return await write(out)
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
    reviews: Annotated[
        bool,
        typer.Option(
            "--reviews",
            help="Write the reviewers' preference pairs instead: prompt, chosen (the edit, or "
            "the answer accepted after feedback), rejected (the draft they were shown).",
        ),
    ] = False,
) -> None:
    """Write the well-rated (task, answer) pairs as JSONL (chat `messages` plus plain fields),
    or with --reviews the reviews' preference pairs (`prompt`, `chosen`, `rejected`)."""
    written = asyncio.run(_export(output, min_score, implicit, reviews))
    typer.echo(f"{written} pairs" + (f" -> {output}" if output else ""), err=True)
