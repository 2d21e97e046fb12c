"""Runs requests through the compiled graph: one with live progress, or many with bounded
concurrency, each ending in a `TaskResult` (one failing task never stops the others)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, Field

from core.outcome import RunOutcome
from core.state import IterationRecord


class Progress(BaseModel):
    """One node finishing, as shown to a person watching the run."""

    node: str
    iteration: int | None = None
    score: float | None = None
    findings: int | None = None


class TaskResult(RunOutcome):
    """The outcome of one request: what `refinery run` prints and writes per JSON line."""

    id: str | None = None
    thread_id: str
    wall_s: float = 0.0
    error: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    passages: list[str] = Field(default_factory=list)
    """Ids of the documents retrieval handed to the drafter, best first (for retrieval metrics)."""


OnProgress = Callable[[Progress], Awaitable[None] | None]

INPUT_KEYS = ("task", "constraints", "documents", "config", "priority")


def graph_input(request: dict[str, Any], config_name: str | None = None) -> dict[str, Any]:
    """The graph's input from a request in the data sets' shape (extra fields ignored)."""
    payload = {k: request[k] for k in INPUT_KEYS if request.get(k) is not None}
    if config_name:
        payload["config"] = config_name
    return payload


def progress_of(node: str, update: dict[str, Any] | None) -> Progress:
    update = update or {}
    history: list[IterationRecord] = update.get("history") or []
    return Progress(
        node=node,
        iteration=history[-1]["iteration"] if history else update.get("iteration"),
        score=update.get("score"),
        findings=len(update["findings"]) if "findings" in update else None,
    )


def result_of(
    state: dict[str, Any], thread_id: str, task_id: str | None, wall_s: float
) -> TaskResult:
    return TaskResult.model_validate(
        RunOutcome.fields_of(state)
        | {
            "id": task_id,
            "thread_id": thread_id,
            "wall_s": round(wall_s, 3),
            "history": [dict(h) for h in state.get("history") or []],
        }
    )


async def run_task(
    graph: CompiledStateGraph,
    request: dict[str, Any],
    *,
    thread_id: str | None = None,
    config_name: str | None = None,
    on_progress: OnProgress | None = None,
) -> TaskResult:
    """Run one request to the end; errors become `TaskResult.error`, never exceptions."""
    thread_id = thread_id or str(uuid.uuid4())
    config = {"configurable": {"thread_id": thread_id}}
    started = time.perf_counter()
    final: dict[str, Any] = {}
    passages: list[str] = []
    try:
        async for mode, chunk in graph.astream(
            graph_input(request, config_name), config, stream_mode=["updates", "values"]
        ):
            if mode == "values":
                final = chunk
                continue
            if chunk.get("retrieve"):  # passages are internal state, not in the output schema
                passages = [p["doc_id"] for p in chunk["retrieve"].get("passages") or []]
            if on_progress:
                for node, update in chunk.items():
                    maybe = on_progress(progress_of(node, update))
                    if maybe is not None:
                        await maybe
    except Exception as exc:  # one failing task never stops a file of them
        return TaskResult(
            id=request.get("id"),
            thread_id=thread_id,
            wall_s=round(time.perf_counter() - started, 3),
            error=f"{type(exc).__name__}: {exc}",
        )
    result = result_of(final, thread_id, request.get("id"), time.perf_counter() - started)
    result.passages = passages
    return result


async def run_many(
    graph: CompiledStateGraph,
    requests: Iterable[dict[str, Any]],
    *,
    concurrency: int = 2,
    config_name: str | None = None,
    on_result: Callable[[int, TaskResult], None] | None = None,
) -> list[TaskResult]:
    """Run many requests with at most `concurrency` at once; results in input order."""
    import asyncio

    items = list(requests)
    gate = asyncio.Semaphore(max(1, concurrency))
    results: list[TaskResult | None] = [None] * len(items)

    async def one(index: int, request: dict[str, Any]) -> None:
        async with gate:
            result = await run_task(graph, request, config_name=config_name)
        results[index] = result
        if on_result:
            on_result(index, result)

    await asyncio.gather(*(one(i, r) for i, r in enumerate(items)))
    return [r for r in results if r is not None]
