"""The one run path: a request becomes the graph's input, the graph streams to its end with its
events handed to whoever watches, and the final state becomes a result. The CLI, the API (and
its reaper), the evaluation and the benches all run requests through here."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import Field

from core.llm.retries import run_retry_budget
from core.outcome import RunOutcome
from core.settings import get_settings
from graph.events import Event, ReviewRequested, TokenFilter, node_events

INPUT_KEYS = ("task", "constraints", "documents", "config", "priority", "review")

Emit = Callable[[Event], Awaitable[None] | None]
"""Takes each event as it comes (a coroutine function or a plain one)."""


def graph_input(request: Mapping[str, Any], config_name: str | None = None) -> dict[str, Any]:
    """The graph's input from a request (extra fields, such as a data set's `id`, ignored)."""
    payload = {k: request[k] for k in INPUT_KEYS if request.get(k)}
    if config_name:
        payload["config"] = config_name
    return payload


@dataclass
class RunEnd:
    """What a streamed run left: the final state and the passages retrieval chose."""

    state: dict[str, Any] = field(default_factory=dict)
    passages: list[str] = field(default_factory=list)
    """Ids of the documents retrieval handed to the drafter, best first (internal state, not in
    the graph's output)."""
    review: ReviewRequested | None = None
    """Set when the run paused for a person (`human_review`'s interrupt): what they are shown;
    `Command(resume=<a core.review.ReviewDecision>)` continues it."""

    def outcome(self) -> dict[str, Any]:
        """The outcome fields every result shares, with the per-iteration history (and, for a
        run paused for review, what the reviewer is shown)."""
        history = [dict(h) for h in self.state.get("history") or []]
        paused = {"review": self.review.model_dump(mode="json")} if self.review else {}
        return RunOutcome.fields_of(self.state) | {"history": history} | paused


async def emit_to(emit: Emit | None, event: Event) -> None:
    """Hand `event` to `emit`, awaiting it if it is a coroutine function."""
    if emit is not None:
        maybe = emit(event)
        if maybe is not None:
            await maybe


async def stream_run(
    graph: CompiledStateGraph,
    payload: dict[str, Any] | Command | None,
    config: RunnableConfig,
    *,
    emit: Emit | None = None,
    tokens: bool = False,
) -> RunEnd:
    """Run the graph on `payload` (None: continue the thread from its last checkpoint; a
    `Command(resume=...)`: answer its pending review) to its end or to a pause for review
    (`RunEnd.review`); `node` and `score` events, and with `tokens` the writers' `token`
    events, go to `emit` as they come. Its model calls share one retry budget
    (`llm_run_retry_budget`)."""
    modes = ["updates", "messages", "values"] if tokens else ["updates", "values"]
    end = RunEnd()
    token_event = TokenFilter()
    with run_retry_budget(get_settings().llm_run_retry_budget):
        async for mode, chunk in graph.astream(payload, config, stream_mode=modes):
            if mode == "values":
                end.state = chunk
            elif mode == "updates":
                if "__interrupt__" in chunk:
                    end.review = ReviewRequested.of(chunk["__interrupt__"][0])
                if chunk.get("retrieve"):
                    end.passages = [p["doc_id"] for p in chunk["retrieve"].get("passages") or []]
                if emit is not None:
                    for event in node_events(chunk):
                        await emit_to(emit, event)
            elif mode == "messages" and (event := token_event(chunk)):
                await emit_to(emit, event)
    return end


class TaskResult(RunOutcome):
    """The outcome of one request: what `refinery run` prints and writes per JSON line."""

    id: str | None = None
    thread_id: str
    wall_s: float = 0.0
    error: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    passages: list[str] = Field(default_factory=list)
    """Ids of the documents retrieval handed to the drafter, best first (for retrieval metrics)."""


async def run_task(
    graph: CompiledStateGraph,
    request: Mapping[str, Any] | None,
    *,
    thread_id: str | None = None,
    config_name: str | None = None,
    emit: Emit | None = None,
    review: Mapping[str, Any] | None = None,
) -> TaskResult:
    """Run one request to the end or to a pause for review (`TaskResult.review`); `request`
    None: resume `thread_id` from its checkpoint, answering its pending review with `review`
    (a `core.review.ReviewDecision`'s fields) when given. Errors become `TaskResult.error`,
    never exceptions."""
    thread_id = thread_id or str(uuid.uuid4())
    task_id = request.get("id") if request else None
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    started = time.perf_counter()
    payload: dict[str, Any] | Command | None = None
    if request is not None:
        payload = graph_input(request, config_name)
    elif review is not None:
        payload = Command(resume=dict(review))
    deadline = get_settings().run_deadline_s
    try:
        async with asyncio.timeout(deadline):
            end = await stream_run(graph, payload, config, emit=emit)
    except TimeoutError:
        return TaskResult(
            id=task_id,
            thread_id=thread_id,
            wall_s=round(time.perf_counter() - started, 3),
            error=f"DeadlineExceeded: the run passed its deadline of {deadline:g} s "
            "(REFINERY_RUN_DEADLINE_S); its thread resumes from the last checkpoint",
        )
    except Exception as exc:  # one failing task never stops a file of them
        return TaskResult(
            id=task_id,
            thread_id=thread_id,
            wall_s=round(time.perf_counter() - started, 3),
            error=f"{type(exc).__name__}: {exc}",
        )
    wall_s = round(time.perf_counter() - started, 3)
    return TaskResult.model_validate(
        end.outcome()
        | {"id": task_id, "thread_id": thread_id, "wall_s": wall_s, "passages": end.passages}
    )


async def run_many(
    graph: CompiledStateGraph,
    requests: Iterable[Mapping[str, Any]],
    *,
    concurrency: int = 2,
    config_name: str | None = None,
    on_result: Callable[[int, TaskResult], None] | None = None,
) -> list[TaskResult]:
    """Run many requests with at most `concurrency` at once; results in input order."""
    items = list(requests)
    gate = asyncio.Semaphore(max(1, concurrency))
    results: list[TaskResult | None] = [None] * len(items)

    async def one(index: int, request: Mapping[str, Any]) -> None:
        async with gate:
            result = await run_task(graph, request, config_name=config_name)
        results[index] = result
        if on_result:
            on_result(index, result)

    await asyncio.gather(*(one(i, r) for i, r in enumerate(items)))
    return [r for r in results if r is not None]
