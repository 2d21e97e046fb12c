"""Executes one refinement run for a request: admission through the scheduler, the per-request
deadline, the graph run itself (`graph.runner.stream_run`: events emitted as they come, nodes
timed), and the report of every run to monitoring (metrics, feedback record, experiment
variant, the adaptive limit, a log line with the run and thread ids). A run holds its thread's
lease in Redis (`api.runs.leases`) from start to end, so no two replicas advance one thread at
once. Failures are raised as they are (`api.runs.failures.kind_of` names them); a failed,
cancelled or timed-out run leaves its thread resumable."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

import redis
from langgraph.types import Command

from api.runs.failures import NOT_RUNS, NotAwaitingReview, ThreadBusy, kind_of
from api.runs.leases import Lease
from api.runs.scheduler import Ticket
from api.schemas import RefinementResult
from api.services import Services
from core.feedback.store import RunRecord
from core.state import Priority
from core.telemetry.callbacks import NodeTimer
from core.telemetry.logs import log_context, note_ids
from core.telemetry.metrics import REVIEW_WAIT, REVIEWS, REVIEWS_REQUESTED
from core.telemetry.service import ObservedRun, request_type
from graph.events import Payload
from graph.runner import Emit, emit_to, stream_run

log = logging.getLogger("refinery.api")


class Queued(Payload):
    """The run waits for a slot first: its priority and how many runs wait in all."""

    name: ClassVar[str] = "queued"
    priority: Priority
    queued: int


class RunStarted(Payload):
    """The run starts (after any queueing)."""

    name: ClassVar[str] = "run"
    run_id: str
    thread_id: str
    priority: Priority
    queued_s: float


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
    review: dict[str, Any] | None = None
    """A reviewer's decision (`core.review.ReviewDecision`'s fields) for the thread's pending
    review, sent as `Command(resume=...)`."""
    review_id: str | None = None
    """The pending review it answers (checked again once the lease is held)."""

    @property
    def graph_input(self) -> dict[str, Any] | Command | None:
        if self.review is not None:
            return Command(resume=self.review)
        return None if self.resume else self.request

    @property
    def config(self) -> str | None:
        return self.request.get("config")


def admit(services: Services, priority: Priority) -> Ticket:
    """A scheduler ticket; raises `OverloadedError` when the server is at capacity."""
    return services.scheduler.reserve(priority)


async def execute(
    services: Services,
    ticket: Ticket,
    spec: RunSpec,
    *,
    emit: Emit | None = None,
    lease: Lease | None = None,
    tokens: bool = True,
) -> RefinementResult:
    """Take the thread's lease (409 when another run holds it; or use `lease`, taken by the
    caller), wait for a slot, run the graph (from the request, or from the checkpoint on
    resume) and return the result, its events to `emit` (with the writers' tokens unless
    `tokens` is False: a client that shows only the final answer has no use for them).
    Raises a `RunFailure`, `OverloadedError`, `TimeoutError` (past the deadline) or the
    model's or Redis' own error when it fails (`kind_of` names each). Always releases the
    ticket and the lease, and reports every run that started to monitoring."""
    run_id = lease.run_id if lease else uuid.uuid4().hex
    thread_id = spec.thread_id
    note_ids(thread_id=thread_id, run_id=run_id)
    deadline = time.monotonic() + services.settings.api_request_timeout_s
    started = time.perf_counter()
    status, result = "ok", None
    with log_context(run_id=run_id, thread_id=thread_id, variant=spec.variant):
        try:
            async with lease or await _lease(services, spec, run_id):
                if spec.review is not None:
                    await _answering(services, spec)
                await _remember(services, spec, run_id)
                async with asyncio.timeout(deadline - time.monotonic()):
                    await _admitted(services, ticket, emit, run_id, thread_id)
                    config = {"configurable": {"thread_id": thread_id}, "callbacks": [NodeTimer()]}
                    end = await stream_run(
                        services.graph,
                        spec.graph_input,
                        config,
                        emit=emit,
                        tokens=tokens and emit is not None,
                    )
                result = RefinementResult.model_validate(
                    end.outcome()
                    | {
                        "run_id": run_id,
                        "thread_id": thread_id,
                        "queued_s": round(ticket.queued_s, 4),
                        "wall_s": round(time.perf_counter() - started, 4),
                    }
                )
            result.config, result.experiment, result.variant = (
                spec.config,
                spec.experiment,
                spec.variant,
            )
            await _reviewed(services, spec, result)
            return result
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        except Exception as exc:
            status = kind_of(exc)
            if status == "run_failed":
                log.error("run on thread %s failed", thread_id, exc_info=exc)
            raise
        finally:
            ran = ticket.admitted_at is not None and status not in NOT_RUNS
            run_s = time.perf_counter() - (ticket.admitted_at or started)
            if ran:
                ticket.release(*_load_sample(run_s, status, result))
            else:
                ticket.release()
            _log_end(spec, ticket, status, result, run_s)
            if ran and not (result and result.review):  # a paused run is reported once it ends
                await _observe(services, spec, status, result, run_s)


async def _lease(services: Services, spec: RunSpec, run_id: str) -> Lease:
    kind = "resumed" if spec.resume else "started"
    lease = await services.leases.acquire(spec.thread_id, run_id, kind)
    if lease is None:
        raise ThreadBusy(spec.thread_id)
    return lease


async def _answering(services: Services, spec: RunSpec) -> None:
    """Under the lease: the review the decision answers is still the pending one (another
    resume may have answered it between the request's check and the lease), and count it."""
    snapshot = await services.graph.aget_state({"configurable": {"thread_id": spec.thread_id}})
    pending = snapshot.interrupts[0] if snapshot.interrupts else None
    if pending is None or pending.id != spec.review_id:
        raise NotAwaitingReview(spec.thread_id, "its review was answered already")
    REVIEWS.labels((spec.review or {}).get("action", "")).inc()
    REVIEW_WAIT.observe(max(0.0, time.time() - float(pending.value.get("requested_at", 0.0))))


async def _reviewed(services: Services, spec: RunSpec, result: RefinementResult) -> None:
    """Count a pause for review, and keep the run's reviews with its feedback record."""
    if result.review is not None:
        REVIEWS_REQUESTED.labels(spec.config or "").inc()
    if result.reviews:
        try:
            await services.telemetry.feedback.save_reviews(spec.thread_id, result.reviews)
        except redis.RedisError as exc:  # the reviews are in the checkpoint all the same
            log.warning("reviews not stored for export", extra={"error": str(exc)})


async def _admitted(
    services: Services, ticket: Ticket, emit: Emit | None, run_id: str, thread_id: str
) -> None:
    """Wait for the ticket's slot, telling a stream that it waits and then that it runs."""
    if ticket.admitted_at is None:
        waiting = services.scheduler.stats().queued
        queued = Queued(priority=ticket.priority, queued=waiting).event()
        await emit_to(emit, queued)
    await ticket.wait()
    started = RunStarted(
        run_id=run_id,
        thread_id=thread_id,
        priority=ticket.priority,
        queued_s=round(ticket.queued_s, 4),
    )
    await emit_to(emit, started.event())


def _load_sample(run_s: float, status: str, result: RefinementResult | None) -> tuple[float, bool]:
    """What the adaptive limit learns from a run: seconds per model call (a load signal that
    does not grow with the number of iterations), and whether it succeeded."""
    calls = result.usage.calls if result else 0
    return run_s / max(calls, 1), status == "ok"


async def _remember(services: Services, spec: RunSpec, run_id: str) -> None:
    """Register the run with the feedback store before it starts, so that a client can signal
    (e.g. `abandoned`) while it goes on; the finished run adds its answer."""
    record = RunRecord(
        run_id=spec.thread_id,
        task=spec.request.get("task", ""),
        execution_id=run_id,
        request_type=request_type(spec.request),
        config=spec.config,
        experiment=spec.experiment,
        variant=spec.variant,
    )
    try:
        await services.telemetry.feedback.remember_run(record)
    except redis.RedisError as exc:  # the run itself will say whether Redis is really gone
        log.warning("run not registered for feedback", extra={"error": str(exc)})


async def _observe(
    services: Services,
    spec: RunSpec,
    status: str,
    result: RefinementResult | None,
    run_s: float,
) -> None:
    """Report a run that ran (finished or failed) to monitoring; never raises."""
    outcome = ObservedRun.of(result) if result else ObservedRun(thread_id=spec.thread_id)
    outcome.wall_s = run_s  # the run's own time; queueing is the scheduler's story
    if status != "ok":
        outcome.error = status
    try:
        await services.telemetry.observe_run(
            outcome,
            request_type=request_type(spec.request),
            task=spec.request.get("task"),
            config=spec.config,
            experiment=spec.experiment,
            variant=spec.variant,
        )
    except Exception:  # monitoring must never break a run
        log.exception("monitoring could not take the run")


def _log_end(
    spec: RunSpec, ticket: Ticket, status: str, result: RefinementResult | None, run_s: float
) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "status": status,
        "key_id": spec.key_id,
        "priority": ticket.priority,
        "config": spec.config,
        "experiment": spec.experiment,
        "resume": spec.resume,
        "queued_s": round(ticket.queued_s, 4),
        "run_s": round(run_s, 4),
        "task": spec.request.get("task", ""),
    }
    if result is not None:
        fields |= {
            "score": result.score,
            "iterations": result.iterations,
            "stop_reason": result.stop_reason,
            "tokens_in": result.usage.input_tokens,
            "tokens_out": result.usage.output_tokens,
        }
    log.info("run %s", status, extra=fields)
