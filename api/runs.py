"""Executes one refinement run for a request: admission through the scheduler, the per-request
deadline, the graph run itself (events emitted as they come), and the mapping of failures to
API errors. A failed, cancelled or timed-out run leaves its thread resumable."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import redis

from api.errors import ApiError
from api.events import Event, TokenFilter, node_events, result_of
from api.scheduler import OverloadedError, Ticket
from api.schemas import RefinementResult
from api.services import Services
from core.state import Priority

log = logging.getLogger("refinery.api")

Emit = Callable[[Event], Awaitable[None] | None]
STREAM_MODES = ["updates", "messages", "values"]
"""What a streamed run asks the graph for: node updates, model tokens, the final state."""
PLAIN_MODES = ["values"]


@dataclass(frozen=True)
class RunRecord:
    """One run's outcome, handed to `Services.run_listeners` (monitoring) when it ends."""

    run_id: str
    thread_id: str
    key_id: str
    priority: str
    status: str
    """`ok`, or the error type: `timeout`, `overloaded`, `model_unavailable`, `cancelled`..."""
    queued_s: float
    wall_s: float
    score: float | None = None
    stop_reason: str | None = None
    iterations: int | None = None


def admit(services: Services, priority: Priority) -> Ticket:
    """A scheduler ticket, or a 503 with Retry-After when the server is at capacity."""
    try:
        return services.scheduler.reserve(priority)
    except OverloadedError as exc:
        raise overloaded(exc) from exc


def overloaded(exc: OverloadedError, thread_id: str | None = None) -> ApiError:
    return ApiError(
        503,
        "overloaded",
        f"the server is at capacity: {exc}",
        "retry after the Retry-After seconds, or send it with a higher priority",
        thread_id=thread_id,
        retry_after_s=exc.retry_after_s,
    )


def failure_of(exc: BaseException, thread_id: str) -> ApiError:
    """The API error for a run that did not finish; every one says the thread is resumable."""
    resume = f"resume it with POST /v1/threads/{thread_id}/resume"
    if isinstance(exc, OverloadedError):
        return overloaded(exc, thread_id)
    if isinstance(exc, TimeoutError):
        return ApiError(
            504,
            "timeout",
            "the run passed the server's per-request deadline",
            f"{resume}; it continues from its last checkpoint",
            thread_id=thread_id,
        )
    if isinstance(exc, redis.RedisError):
        return ApiError(
            503,
            "storage_unavailable",
            f"Redis failed during the run: {exc}",
            f"retry shortly, then {resume}",
            thread_id=thread_id,
            retry_after_s=5,
        )
    if isinstance(exc, openai.APIError | httpx.HTTPError):
        return ApiError(
            502,
            "model_unavailable",
            f"the model endpoint failed: {type(exc).__name__}: {exc}",
            f"retry shortly, then {resume}",
            thread_id=thread_id,
        )
    log.error("run on thread %s failed", thread_id, exc_info=exc)
    return ApiError(
        500,
        "run_failed",
        f"the run failed: {type(exc).__name__}: {exc}",
        f"{resume}; report it if it fails again",
        thread_id=thread_id,
    )


async def _emit(emit: Emit | None, event: Event) -> None:
    if emit is not None:
        maybe = emit(event)
        if maybe is not None:
            await maybe


async def _graph_run(
    services: Services,
    graph_input: dict[str, Any] | None,
    thread_id: str,
    modes: list[str],
    emit: Emit | None,
) -> dict[str, Any]:
    config = {"configurable": {"thread_id": thread_id}}
    final: dict[str, Any] = {}
    token_event = TokenFilter()
    async for mode, chunk in services.graph.astream(graph_input, config, stream_mode=modes):
        if mode == "values":
            final = chunk
        elif mode == "updates":
            for event in node_events(chunk):
                await _emit(emit, event)
        elif mode == "messages" and (event := token_event(chunk)):
            await _emit(emit, event)
    return final


async def execute(
    services: Services,
    ticket: Ticket,
    thread_id: str,
    graph_input: dict[str, Any] | None,
    key_id: str,
    *,
    emit: Emit | None = None,
) -> RefinementResult:
    """Wait for a slot, run the graph (from `graph_input`, or resume when None) and return
    the result; raises `ApiError` for every way a run can fail. Always releases the ticket."""
    run_id = uuid.uuid4().hex
    services.running[thread_id] = run_id  # before any await: a second resume sees it
    deadline = time.monotonic() + services.settings.api_request_timeout_s
    started = time.perf_counter()
    status, result = "ok", None
    try:
        async with asyncio.timeout(deadline - time.monotonic()):
            if ticket.admitted_at is None:
                await _emit(
                    emit,
                    (
                        "queued",
                        {"priority": ticket.priority, "queued": services.scheduler.stats().queued},
                    ),
                )
            await ticket.wait()
            await _emit(
                emit,
                (
                    "run",
                    {
                        "run_id": run_id,
                        "thread_id": thread_id,
                        "priority": ticket.priority,
                        "queued_s": round(ticket.queued_s, 4),
                    },
                ),
            )
            final = await _graph_run(services, graph_input, thread_id, _modes(emit), emit)
        result = result_of(final, run_id, thread_id, ticket.queued_s, time.perf_counter() - started)
        return result
    except asyncio.CancelledError:
        status = "cancelled"
        raise
    except Exception as exc:
        error = failure_of(exc, thread_id)
        status = error.body.type
        raise error from exc
    finally:
        ticket.release()
        if services.running.get(thread_id) == run_id:
            del services.running[thread_id]
        _report(
            services,
            RunRecord(
                run_id=run_id,
                thread_id=thread_id,
                key_id=key_id,
                priority=ticket.priority,
                status=status,
                queued_s=ticket.queued_s,
                wall_s=time.perf_counter() - started,
                score=result.score if result else None,
                stop_reason=result.stop_reason if result else None,
                iterations=result.iterations if result else None,
            ),
        )


def _modes(emit: Emit | None) -> list[str]:
    return STREAM_MODES if emit is not None else PLAIN_MODES


def _report(services: Services, record: RunRecord) -> None:
    for listener in services.run_listeners:
        try:
            listener(record)
        except Exception:  # monitoring must never break a run
            log.exception("run listener failed")
