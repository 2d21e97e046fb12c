"""`refinery threads …`: list, inspect, resume, delete and prune checkpointed threads from the
shell."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from langgraph.checkpoint.base import CheckpointTuple
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from core.checkpoint import RedisSaver
from core.checkpoint.factory import get_checkpointer
from core.redis.server import RedisUnavailableError

threads_app = typer.Typer(help="Checkpointed threads: list, show, history, resume, delete, prune.")
out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


class CheckpointView(BaseModel):
    """One checkpoint as the CLI shows it."""

    checkpoint_id: str
    checkpoint_ns: str
    created_at: str
    step: int | None
    source: str | None
    parent_id: str | None
    pending_writes: int
    values: dict[str, Any]


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `12h`, `7d`, `2w` or a sum of them (`1d12h`)."""
    spec = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(spec)
    if not spec or "".join(n + u for n, u in parts) != spec:
        raise typer.BadParameter(f"{text!r} is not a duration like 30m, 12h, 7d or 1d12h")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


def _view(tup: CheckpointTuple) -> CheckpointView:
    conf = tup.config["configurable"]
    parent = tup.parent_config["configurable"]["checkpoint_id"] if tup.parent_config else None
    return CheckpointView(
        checkpoint_id=conf["checkpoint_id"],
        checkpoint_ns=conf.get("checkpoint_ns", ""),
        created_at=tup.checkpoint["ts"],
        step=tup.metadata.get("step"),
        source=tup.metadata.get("source"),
        parent_id=parent,
        pending_writes=len(tup.pending_writes or []),
        values=tup.checkpoint["channel_values"],
    )


def _print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=repr))


def _excerpt(value: Any, width: int = 120) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@contextmanager
def _saver() -> Iterator[RedisSaver]:
    try:
        yield get_checkpointer()
    except RedisUnavailableError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


@threads_app.command("list")
def list_threads(
    as_json: JsonFlag = False,
    limit: Annotated[int, typer.Option(help="Show at most this many threads.")] = 50,
) -> None:
    """Threads, most recently written first."""
    with _saver() as saver:
        threads = saver.threads()[:limit]
    if as_json:
        _print_json([t.model_dump(mode="json") for t in threads])
        return
    table = Table("thread", "last write (UTC)", "checkpoints", title=f"{len(threads)} threads")
    for t in threads:
        table.add_row(t.thread_id, t.updated_at.strftime("%Y-%m-%d %H:%M:%S"), str(t.checkpoints))
    out.print(table)


@threads_app.command()
def show(thread_id: str, as_json: JsonFlag = False) -> None:
    """The latest checkpoint of a thread: its state values and where it stands."""
    with _saver() as saver:
        tup = saver.get_tuple(_config(thread_id))
    if tup is None:
        err.print(f"[red]no thread {thread_id!r}[/red]")
        raise typer.Exit(1)
    view = _view(tup)
    if as_json:
        _print_json(view.model_dump(mode="json"))
        return
    out.print(
        f"[bold]{thread_id}[/bold]  checkpoint {view.checkpoint_id}  step {view.step}"
        f"  ({view.source}, {view.created_at}, {view.pending_writes} pending writes)"
    )
    table = Table("channel", "value")
    for channel, value in view.values.items():
        table.add_row(channel, _excerpt(value))
    out.print(table)


@threads_app.command()
def history(
    thread_id: str,
    as_json: JsonFlag = False,
    limit: Annotated[int | None, typer.Option(help="Show at most this many checkpoints.")] = None,
) -> None:
    """Every checkpoint of a thread (root namespace), newest first."""
    with _saver() as saver:
        views = [_view(t) for t in saver.list(_config(thread_id), limit=limit)]
    if as_json:
        _print_json([v.model_dump(mode="json", exclude={"values"}) for v in views])
        return
    if not views:
        err.print(f"[red]no thread {thread_id!r}[/red]")
        raise typer.Exit(1)
    table = Table("step", "source", "checkpoint", "created (UTC)", "writes", title=thread_id)
    for v in views:
        table.add_row(
            str(v.step), v.source or "", v.checkpoint_id, v.created_at, str(v.pending_writes)
        )
    out.print(table)


class ReviewMismatch(Exception):
    """A decision for a thread not paused for review, or none for one that is."""


async def _resume(thread_id: str, review: dict[str, Any] | None = None) -> tuple[bool, Any]:
    """(whether it was unfinished, the run's result) after finishing the thread's run (or
    answering its pending review with `review`; the result may pause again)."""
    from core.checkpoint.factory import aget_checkpointer
    from graph.builder import build_graph
    from graph.runner import RunEnd, TaskResult, run_task

    graph = build_graph(await aget_checkpointer())
    snapshot = await graph.aget_state({"configurable": {"thread_id": thread_id}})
    if not snapshot.values:
        return False, None
    if snapshot.interrupts and review is None:
        raise ReviewMismatch(
            "it awaits a review: give --approve, --edit-file, --feedback or --reject"
        )
    if review is not None and not snapshot.interrupts:
        raise ReviewMismatch("it is not awaiting a review; resume it without a decision")
    # `snapshot.next` leaves out tasks of the interrupted step that already saved their
    # writes (a resume applies them and goes on): `tasks` says whether anything is left.
    if not snapshot.tasks:
        done = RunEnd(state=snapshot.values).outcome() | {"thread_id": thread_id}
        return False, TaskResult.model_validate(done)
    result = await run_task(graph, None, thread_id=thread_id, review=review)
    if result.error:
        raise RuntimeError(result.error)
    return True, result


@threads_app.command()
def resume(
    thread_id: str,
    as_json: JsonFlag = False,
    approve: Annotated[bool, typer.Option("--approve", help="Review: accept the answer.")] = False,
    edit: Annotated[str | None, typer.Option(help="Review: replace the answer with this.")] = None,
    edit_file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Review: --edit from a file.")
    ] = None,
    feedback: Annotated[
        str | None, typer.Option(help="Review: what is wrong; the loop refines again.")
    ] = None,
    change: Annotated[
        list[str] | None, typer.Option(help="Review: one concrete change (repeatable).")
    ] = None,
    reject: Annotated[bool, typer.Option("--reject", help="Review: refuse the answer.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why it is rejected (with --reject).")] = None,
) -> None:
    """Finish a thread's interrupted run (a crash, a kill) from its last checkpoint, or answer
    the review a paused run waits for (one of --approve, --edit/--edit-file, --feedback/--change,
    --reject)."""
    from api.cli.review import decision_of, resume_commands, show_review

    review = decision_of(approve, edit, edit_file, feedback, change or [], reject, reason)
    try:
        unfinished, result = asyncio.run(_resume(thread_id, review))
    except RedisUnavailableError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    except ReviewMismatch as exc:
        err.print(f"[red]thread {thread_id!r}: {exc}[/red]")
        raise typer.Exit(2) from exc
    if result is None:
        err.print(f"[red]no thread {thread_id!r}[/red]")
        raise typer.Exit(1)
    if as_json:
        _print_json({"resumed": unfinished, **result.model_dump(mode="json")})
        return
    if result.review is not None:
        show_review(err, result.review)
        err.print(f"[bold]{thread_id}[/bold] awaits a review again; answer it with one of:")
        for command in resume_commands(thread_id):
            err.print(f"  {command}")
        return
    status = "resumed and finished" if unfinished else "already finished; nothing to resume"
    out.print(f"[bold]{thread_id}[/bold]: {status}")
    out.print(f"score {result.score}  iterations {result.iterations}  ({result.stop_reason})")
    out.print(result.answer or "")


@threads_app.command()
def delete(thread_id: str, as_json: JsonFlag = False) -> None:
    """Delete a thread: every checkpoint, write and blob of it."""
    _apply(lambda saver: saver.delete_thread(thread_id), [thread_id], as_json, "deleted")


@threads_app.command()
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Idle time, e.g. 30m, 12h, 7d, 1d12h.")
    ],
    dry_run: Annotated[bool, typer.Option(help="List what would go; delete nothing.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete every thread last written longer ago than `--older-than`."""
    cutoff = datetime.now(UTC) - parse_duration(older_than)
    with _saver() as saver:
        doomed = [t.thread_id for t in saver.threads(older_than=cutoff)]
    if dry_run:
        _apply(lambda saver: None, doomed, as_json, "would delete")
    else:
        _apply(lambda saver: saver.prune(doomed, strategy="delete"), doomed, as_json, "deleted")


def _apply(
    action: Callable[[RedisSaver], None], thread_ids: list[str], as_json: bool, verb: str
) -> None:
    with _saver() as saver:
        action(saver)
    if as_json:
        _print_json({verb.replace(" ", "_"): thread_ids})
        return
    out.print(f"{verb} {len(thread_ids)} thread(s)" + "".join(f"\n  {t}" for t in thread_ids))
