"""The `refinery` command line: run refinements (one, or a file of them), manage the local
model, and reach the other faces (threads, the API server, the MCP server, evaluations) as
sub-commands."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from api.cli.feedback import feedback_app
from api.cli.threads import threads_app
from api.cli.train import train_app
from core.run_config import DEFAULT_CONFIG
from evals.cli import eval_app

for _name, _value in {
    "RAGAS_DO_NOT_TRACK": "true",
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "1",
    "LANGSMITH_TEST_TRACKING": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)  # keep every library off the network

app = typer.Typer(help="refinery: drafts, critiques and refines answers on LangGraph.")
model_app = typer.Typer(help="The embedded local model.")
app.add_typer(model_app, name="model")
app.add_typer(eval_app, name="eval")
app.add_typer(feedback_app, name="feedback")
app.add_typer(threads_app, name="threads")
app.add_typer(train_app, name="train")
console = Console(stderr=True)


SHOWN = frozenset({"content", "required_words", "repetition", "answer"})
"""Findings a score line names besides failing instructions: what the next round works on."""


def _request(task: str, words: str | None, docs: list[Path]) -> dict[str, Any]:
    request: dict[str, Any] = {"task": task}
    if words:
        request["constraints"] = {"required_words": [w.strip() for w in words.split(",")]}
    if docs:
        request["documents"] = [{"id": p.stem, "text": _text_of(p)} for p in docs]
    return request


def _text_of(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise typer.BadParameter(f"{path} is not UTF-8 text", param_hint="'--doc'") from exc


def _summary(result: Any) -> Table:
    table = Table.grid(padding=(0, 2))
    usage = result.usage
    rows = [
        ("score", f"{result.score:.3f}"),
        ("confidence", f"{result.confidence:.3f}"),
        ("iterations", str(result.iterations)),
        ("stop reason", str(result.stop_reason)),
        ("instructions", _followed(result)),
        ("tokens", f"{usage.input_tokens} in / {usage.output_tokens} out ({usage.calls} calls)"),
        ("wall time", f"{result.wall_s:.1f} s"),
        ("thread", result.thread_id),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/]", value)
    return table


def edits(first: str, final: str) -> list[tuple[str, str]]:
    """What refinement changed in the first draft, sentence by sentence, in text order: ("-", a
    sentence taken out or reworded), ("+", one put in or as reworded). Nothing for an answer
    that is its first draft."""
    from difflib import SequenceMatcher

    from core.text.plain import sentences

    old, new = sentences(first), sentences(final)
    changes: list[tuple[str, str]] = []
    for op, a, b, c, d in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op != "equal":
            changes += [("-", s) for s in old[a:b]] + [("+", s) for s in new[c:d]]
    return changes


def _edits_panel(result: Any) -> Panel | None:
    changes = edits(result.first_draft or "", result.answer or "")
    if not changes:
        return None
    style = {"-": "red", "+": "green"}
    lines = [f"[{style[mark]}]{mark} {escape(sentence)}[/]" for mark, sentence in changes]
    return Panel("\n".join(lines), title="edits to the first draft", expand=False)


def _show(result: Any) -> None:
    """A finished run at the terminal: its edits to the first draft, the answer, the figures."""
    if panel := _edits_panel(result):
        console.print(panel)
    console.print(Panel(result.answer or "", title="answer", expand=False))
    console.print(_summary(result))


def _followed(result: Any) -> str:
    """ "3 of 3 followed", or which kinds still fail."""
    total = len(result.instructions)
    if not total:
        return "none read from the request"
    followed = f"{total - len(result.failing)} of {total} followed"
    return followed + (f" (failing: {', '.join(result.failing)})" if result.failing else "")


async def _run_one(
    request: dict[str, Any], config: str, thread: str | None, interactive: bool = False
) -> Any:
    """Run the request; a pause for review is put to the person at the terminal when
    `interactive` (and the run goes on with their decision), else it ends the run here."""
    from api.cli.review import ask
    from core.checkpoint.factory import aget_checkpointer
    from graph.builder import build_graph
    from graph.runner import run_task

    graph = build_graph(await aget_checkpointer())

    def show(event: tuple[str, dict[str, Any]]) -> None:
        name, data = event
        if name == "node" and data["node"] != "score":
            console.print(f"[cyan]{data['node']}[/]")
        elif name == "plan":
            for item in data.get("instructions") or []:
                fields = {k: v for k, v in item.items() if k not in ("kind", "read_from")}
                shown = ", ".join(f"{k}={v!r}" for k, v in fields.items() if v is not None)
                source = f"[dim]<- {item['read_from']!r}[/]"
                console.print(f"  [green]check[/] {item['kind']}({shown[:120]})  {source}")
            for conflict in data.get("conflicts") or []:
                console.print(f"  [yellow]conflict[/] {conflict}")
        elif name == "score":
            console.print(f"[cyan]score[/] iteration {data['iteration']}: {data['score']:.3f}")
            for finding in data.get("findings") or []:
                if finding["source"].startswith("instruction:") or finding["source"] in SHOWN:
                    console.print(
                        f"  [red]fails[/] {finding['source']}: {finding['message'][:160]}"
                    )

    result = await run_task(graph, request, thread_id=thread, config_name=config, emit=show)
    while interactive and result.review is not None and not result.error:
        decision = await asyncio.to_thread(ask, console, result.review)
        result = await run_task(graph, None, thread_id=result.thread_id, review=decision, emit=show)
    return result


def _paused(result: Any) -> None:
    """A run paused for review with nobody at the terminal: what waits, and how to answer."""
    from api.cli.review import resume_commands, show_review

    show_review(console, result.review)
    console.print(f"[bold]thread {result.thread_id} awaits a review.[/] Answer it with one of:")
    for command in resume_commands(result.thread_id):
        console.print(f"  {command}")


async def _run_file(source: Path, target: Path, config: str, concurrency: int) -> list[Any]:
    from core.checkpoint.factory import aget_checkpointer
    from graph.builder import build_graph
    from graph.runner import run_many

    lines = (await asyncio.to_thread(source.read_text)).splitlines()
    requests = [json.loads(line) for line in lines if line.strip()]
    graph = build_graph(await aget_checkpointer())
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        target.open("w") as out,
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar,
    ):
        job = bar.add_task(f"{source.name} ({config})", total=len(requests))

        def write(_: int, result: Any) -> None:
            row = result.model_dump(exclude={"history"})
            row["usage"] = {k: row["usage"][k] for k in ("input_tokens", "output_tokens", "calls")}
            row["config"] = config
            out.write(json.dumps(row) + "\n")
            out.flush()
            bar.advance(job)

        return await run_many(
            graph, requests, concurrency=concurrency, config_name=config, on_result=write
        )


@app.command()
def run(
    task: Annotated[str | None, typer.Argument(help="What to write or answer.")] = None,
    words: Annotated[str | None, typer.Option(help="Required words, comma-separated.")] = None,
    doc: Annotated[
        list[Path] | None,
        typer.Option(
            help="A source document (repeatable); its file name without the suffix is its id.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    config: Annotated[str, typer.Option(help="Run configuration preset.")] = DEFAULT_CONFIG,
    thread: Annotated[str | None, typer.Option(help="Thread id (resumes it if known).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    input: Annotated[Path | None, typer.Option(help="A JSONL file of tasks.")] = None,
    output: Annotated[Path | None, typer.Option(help="Where to write JSONL results.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64)] = 2,
    review: Annotated[
        str | None,
        typer.Option(
            help="Pause for a person before the answer is final: never, always, or uncertain "
            "(confidence under --review-below, or the loop stopped without passing); default: "
            "the preset's (never). At a terminal it asks you; otherwise it prints how to resume.",
        ),
    ] = None,
    review_below: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="The confidence --review uncertain reviews under."),
    ] = None,
) -> None:
    """Refine one task, or a file of tasks with --input/--output."""
    from core.review import ReviewPolicy
    from core.run_config import load_config

    load_config(config)
    policy: dict[str, Any] = {}
    if review is not None or review_below is not None:
        fields = {"when": review or "uncertain"}
        if review_below is not None:
            fields["confidence_below"] = review_below
        try:
            policy = ReviewPolicy.model_validate(fields).model_dump()
        except ValueError as exc:
            raise typer.BadParameter("--review takes never, always or uncertain") from exc
    if input is not None:
        if output is None:
            raise typer.BadParameter("--input needs --output")
        results = asyncio.run(_run_file(input, output, config, concurrency))
        failed = sum(1 for r in results if r.error)
        console.print(f"{len(results)} tasks, {failed} failed -> {output}")
        if failed:  # a script must be able to tell
            raise typer.Exit(1)
        return
    if not task:
        raise typer.BadParameter("give a TASK, or --input FILE")
    request = _request(task, words, doc or []) | ({"review": policy} if policy else {})
    interactive = sys.stdin.isatty() and not as_json
    result = asyncio.run(_run_one(request, config, thread, interactive))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    elif result.error:
        console.print(f"[red]error:[/] {result.error}")
    elif result.review is not None:
        _paused(result)
    else:
        _show(result)
    if result.error:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Serve the HTTP API and the web page (loopback only unless API keys are configured)."""
    from api.server import UnsafeBindError
    from api.server import serve as serve_api

    try:
        serve_api(host, port)
    except UnsafeBindError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def mcp(
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP at /mcp instead of stdio.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on (with --http).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port (with --http).")] = 8001,
) -> None:
    """Serve the engine as MCP tools (`refine`, `thread`): on stdio for an agent that starts
    this command, or over streamable HTTP with --http (API keys apply; loopback only without)."""
    from api.mcp.http import serve_http, serve_stdio
    from api.server import UnsafeBindError

    if not http:
        serve_stdio()
        return
    try:
        serve_http(host, port)
    except UnsafeBindError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


@model_app.command("prepare")
def model_prepare() -> None:
    """Assemble and verify the packaged local model (done once)."""
    from core.llm.local_model import model_file

    name, path = model_file()
    console.print(f"{name}: {path} ({path.stat().st_size / 1e6:.0f} MB, sha256 verified)")


@model_app.command("serve")
def model_serve() -> None:
    """Serve the local model on loopback until Ctrl-C or SIGTERM (for REFINERY_OPENAI_BASE_URL);
    either stops its llama-server too. The handlers are set here, not inherited: a process
    started in the background by a shell ignores SIGINT, and SIGTERM (what a supervisor sends)
    would end Python without its exit hooks, leaving llama-server running."""
    import signal
    import threading

    from core.llm.local_server import local_server

    server = local_server()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    console.print(f"serving {server.model_name} at {server.base_url}; Ctrl-C stops it")
    stop.wait()
    server.stop()


if __name__ == "__main__":
    app()
