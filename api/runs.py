"""Executes one refinement run for a request: admission through the scheduler, the per-request
deadline, the graph run itself (events emitted as they come, nodes timed), the mapping of
failures to API errors, and the report of every run to monitoring (metrics, feedback record,
experiment variant, the adaptive limit, a log line with the run and thread ids). A run holds
its thread's lease in Redis (`api.leases`) from start to end, so no two replicas advance one
thread at once. A failed, cancelled or timed-out run leaves its thread resumable."""

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
from api.leases import Lease
from api.observability import note_ids
from api.scheduler import OverloadedError, Ticket
from api.schemas import RefinementResult
from api.services import Services
from core.endpoints import NoHealthyEndpointError
from core.state import Priority
from core.telemetry.callbacks import NodeTimer
from core.telemetry.feedback import RunRecord
from core.telemetry.logs import log_context
from core.telemetry.service import ObservedRun, request_type

log = logging.getLogger("refinery.api")

Emit = Callable[[Event], Awaitable[None] | None]
STREAM_MODES = ["updates", "messages", "values"]
"""What a streamed run asks the graph for: node updates, model tokens, the final state."""
PLAIN_MODES = ["values"]


@dataclass(frozen=True)
class RunSpec:
    """What one execution runs, and how monitoring files it."""

    thread_id: str
    key_id: str
    request: dict[str, Any]
    """The thread's request as the graph takes it (`task`, `config`, `constraints`...)."""
    resume: bool = False
    """Continue from the thread's last checkpoint instead of starting from `request`."""
    experiment: str | None = None
    variant: str | None = None
    """The A/B experiment and variant the thread was assigned to, if any."""

    @property
    def graph_input(self) -> dict[str, Any] | None:
        return None if self.resume else self.request

    @property
    def config(self) -> str | None:
        return self.request.get("config")


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
    if isinstance(exc, ApiError):
        return exc
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
    # Every tier failing ends in the last tier's error, or in its pool being ejected whole.
    if isinstance(exc, openai.APIError | httpx.HTTPError | NoHealthyEndpointError):
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
    services: Services, spec: RunSpec, modes: list[str], emit: Emit | None
) -> dict[str, Any]:
    config = {"configurable": {"thread_id": spec.thread_id}, "callbacks": [NodeTimer()]}
    final: dict[str, Any] = {}
    token_event = TokenFilter()
    stream = services.graph.astream(spec.graph_input, config, stream_mode=modes)
    async for mode, chunk in stream:
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
    spec: RunSpec,
    *,
    emit: Emit | None = None,
    lease: Lease | None = None,
) -> RefinementResult:
    """Take the thread's lease (409 when another run holds it; or use `lease`, taken by the
    caller), wait for a slot, run the graph (from the request, or from the checkpoint on
    resume) and return the result; raises `ApiError` for every way a run can fail. Always
    releases the ticket and the lease, and reports every run that started to monitoring."""
    run_id = lease.run_id if lease else uuid.uuid4().hex
    thread_id = spec.thread_id
    note_ids(thread_id=thread_id, run_id=run_id)
    deadline = time.monotonic() + services.settings.api_request_timeout_s
    started = time.perf_counter()
    status, result = "ok", None
    with log_context(run_id=run_id, thread_id=thread_id, variant=spec.variant):
        try:
            async with lease or await _lease(services, spec, run_id):
                await _remember(services, spec, run_id)
                async with asyncio.timeout(deadline - time.monotonic()):
                    await _admitted(services, ticket, emit, run_id, thread_id)
                    final = await _graph_run(services, spec, _modes(emit), emit)
                result = result_of(
                    final, run_id, thread_id, ticket.queued_s, time.perf_counter() - started
                )
            result.config, result.experiment, result.variant = (
                spec.config, spec.experiment, spec.variant,
            )  # fmt: skip
            return result
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        except Exception as exc:
            error = failure_of(exc, thread_id)
            status = error.body.type
            raise error from exc
        finally:
            ran = ticket.admitted_at is not None and status not in NOT_RUNS
            run_s = time.perf_counter() - (ticket.admitted_at or started)
            if ran:
                ticket.release(*_load_sample(run_s, status, result))
            else:
                ticket.release()
            _log_end(spec, ticket, status, result, run_s)
            if ran:
                await _observe(services, spec, status, result, run_s)


async def _lease(services: Services, spec: RunSpec, run_id: str) -> Lease:
    kind = "resumed" if spec.resume else "started"
    lease = await services.leases.acquire(spec.thread_id, run_id, kind)
    if lease is None:
        raise busy(spec.thread_id)
    return lease


def busy(thread_id: str) -> ApiError:
    return ApiError(
        409,
        "thread_busy",
        "this thread is running now (on this or another replica)",
        f"wait for it to finish: GET /v1/threads/{thread_id} shows its status, "
        f"GET /v1/threads/{thread_id}/events follows it",
        thread_id=thread_id,
    )


async def _admitted(
    services: Services, ticket: Ticket, emit: Emit | None, run_id: str, thread_id: str
) -> None:
    """Wait for the ticket's slot, telling a stream that it waits and then that it runs."""
    if ticket.admitted_at is None:
        queued = {"priority": ticket.priority, "queued": services.scheduler.stats().queued}
        await _emit(emit, ("queued", queued))
    await ticket.wait()
    started = {"run_id": run_id, "thread_id": thread_id, "priority": ticket.priority,
               "queued_s": round(ticket.queued_s, 4)}  # fmt: skip
    await _emit(emit, ("run", started))


def _modes(emit: Emit | None) -> list[str]:
    return STREAM_MODES if emit is not None else PLAIN_MODES


NOT_RUNS = frozenset({"cancelled", "overloaded", "thread_busy", "run_cancelled", "lease_lost"})
"""Endings that say nothing about the run or the model: the client left (or asked to stop),
it never ran, or another replica took it over."""


def _load_sample(run_s: float, status: str, result: RefinementResult | None) -> tuple[float, bool]:
    """What the adaptive limit learns from a run: seconds per model call (a load signal that
    does not grow with the number of iterations), and whether it succeeded."""
    calls = result.usage.calls if result else 0
    return run_s / max(calls, 1), status == "ok"


async def _remember(services: Services, spec: RunSpec, run_id: str) -> None:
    """Register the run with the feedback store before it starts, so that a client can signal
    (e.g. `abandoned`) while it goes on; the finished run adds its answer."""
    record = RunRecord(
        run_id=spec.thread_id, task=spec.request.get("task", ""), execution_id=run_id,
        request_type=request_type(spec.request), config=spec.config,
        experiment=spec.experiment, variant=spec.variant,
    )  # fmt: skip
    try:
        await services.telemetry.feedback.remember_run(record)
    except redis.RedisError as exc:  # the run itself will say whether Redis is really gone
        log.warning("run not registered for feedback", extra={"error": str(exc)})


async def _observe(
    services: Services, spec: RunSpec, status: str, result: RefinementResult | None,
    run_s: float,
) -> None:  # fmt: skip
    """Report a run that ran (finished or failed) to monitoring; never raises."""
    outcome = ObservedRun.of(result) if result else ObservedRun(thread_id=spec.thread_id)
    outcome.wall_s = run_s  # the run's own time; queueing is the scheduler's story
    if status != "ok":
        outcome.error = status
    try:
        await services.telemetry.observe_run(
            outcome, request_type=request_type(spec.request), task=spec.request.get("task"),
            config=spec.config, experiment=spec.experiment, variant=spec.variant,
        )  # fmt: skip
    except Exception:  # monitoring must never break a run
        log.exception("monitoring could not take the run")


def _log_end(
    spec: RunSpec, ticket: Ticket, status: str, result: RefinementResult | None, run_s: float
) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "status": status, "key_id": spec.key_id, "priority": ticket.priority,
        "config": spec.config, "experiment": spec.experiment, "resume": spec.resume,
        "queued_s": round(ticket.queued_s, 4), "run_s": round(run_s, 4),
        "task": spec.request.get("task", ""),
    }  # fmt: skip
    if result is not None:
        fields |= {"score": result.score, "iterations": result.iterations,
                   "stop_reason": result.stop_reason, "tokens_in": result.usage.input_tokens,
                   "tokens_out": result.usage.output_tokens}  # fmt: skip
    log.info("run %s", status, extra=fields)
