"""Threads: GET /v1/threads/{id} (latest state), GET /v1/threads/{id}/history (iterations and
checkpoints), POST /v1/threads/{id}/resume (and /resume/stream) to continue an interrupted run
or answer the review a paused one waits for,
GET /v1/threads/{id}/events to replay and follow its run's events, POST /v1/threads/{id}/cancel
to stop it. Every one works on any replica: run state lives in Redis (`api.runs.leases`). A thread
is visible only to the key that created it; other keys get 404."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query

from api.deps import Caller, ServicesDep
from api.errors import ERROR_RESPONSES, answering, field_error
from api.runs.execute import RunSpec, admit, execute
from api.runs.failures import NotAwaitingReview, ThreadBusy, ThreadFinished
from api.runs.scheduler import Ticket
from api.runs.thread_view import describe_thread, thread_config
from api.schemas import (
    CancelOut,
    CheckpointOut,
    IterationOut,
    RefinementResult,
    ResumeRequest,
    ThreadHistory,
    ThreadOut,
)
from api.streaming import SSE_CONTENT, EventStream, sse_response

router = APIRouter(prefix="/v1/threads", tags=["threads"], responses=ERROR_RESPONSES)
ThreadIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


@router.get("/{thread_id}", response_model=ThreadOut)
async def get_thread(thread_id: ThreadIdPath, key: Caller, services: ServicesDep) -> ThreadOut:
    """The thread's latest checkpoint: status, the draft under review and its score, the
    answer once finished, and the nodes a resume would run next."""
    return await describe_thread(services, key, thread_id)


@router.get("/{thread_id}/history", response_model=ThreadHistory)
async def get_history(
    thread_id: ThreadIdPath,
    key: Caller,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Checkpoints at most.")] = 50,
) -> ThreadHistory:
    """Every scored iteration of the thread, and its checkpoints newest first (each with the
    nodes whose writes made it)."""
    await services.threads.owned(thread_id, key)
    snapshots = [
        s async for s in services.graph.aget_state_history(thread_config(thread_id), limit=limit)
    ]
    checkpoints = []
    for index, snap in enumerate(snapshots):
        parent = snapshots[index + 1] if index + 1 < len(snapshots) else None
        checkpoints.append(
            CheckpointOut(
                checkpoint_id=snap.config["configurable"]["checkpoint_id"],
                step=(snap.metadata or {}).get("step", -1),
                source=(snap.metadata or {}).get("source", ""),
                nodes=list(parent.next) if parent else [],
                created_at=snap.created_at,
                next=list(snap.next),
            )
        )
    values = snapshots[0].values if snapshots else {}
    iterations = [IterationOut.model_validate(h) for h in values.get("history") or []]
    return ThreadHistory(thread_id=thread_id, iterations=iterations, checkpoints=checkpoints)


async def _resume(
    services: ServicesDep, key: Caller, thread_id: str, body: ResumeRequest
) -> tuple[RunSpec, Ticket]:
    """What to run (from the checkpoint, answering its pending review with the body's; or the
    original request when the run never reached its first checkpoint) and an admitted ticket;
    409 when there is nothing to do (or no review to answer), 422 when a review is due and the
    body has none."""
    record = await services.threads.owned(thread_id, key)
    snapshot = await services.graph.aget_state(thread_config(thread_id))
    if await services.leases.holder(thread_id):  # a fair answer; `execute` takes the lease for real
        raise ThreadBusy(thread_id)
    pending = snapshot.interrupts[0] if snapshot.interrupts else None
    if pending is None and body.review is not None:
        finished = bool(snapshot.values) and not snapshot.tasks
        raise NotAwaitingReview(
            thread_id,
            "it has finished"
            if finished
            else "its run was interrupted, not paused for review (resume it without `review`)",
        )
    if pending is not None and body.review is None:
        raise field_error(
            422,
            "review_required",
            "this thread is paused for a person's review; a resume must carry their decision",
            f'send {{"review": {{"action": "approve"}}}} (or "edit" with "text", "feedback" '
            f'with "text" or "changes", "reject"); GET /v1/threads/{thread_id} shows what to '
            "review",
            "review",
        )
    if pending is not None and body.review_id not in (None, pending.id):
        raise NotAwaitingReview(thread_id, f"review {body.review_id} was answered already")
    if snapshot.values and not snapshot.tasks:  # a task killed after its writes is not done
        raise ThreadFinished(thread_id)
    spec = RunSpec(
        thread_id=thread_id,
        key_id=key.id,
        request=record["request"],
        resume=bool(snapshot.values),
        experiment=record.get("experiment"),
        variant=record.get("variant"),
        review=body.review.model_dump(mode="json", exclude_none=True) if body.review else None,
        review_id=pending.id if pending is not None else None,
    )
    return spec, admit(services, body.priority)


@router.post("/{thread_id}/resume", response_model=RefinementResult)
async def resume_thread(
    thread_id: ThreadIdPath, key: Caller, services: ServicesDep, body: ResumeRequest | None = None
) -> RefinementResult:
    """Continue an interrupted run (cancelled, timed out, failed) from its last checkpoint,
    or a run paused for review with the reviewer's decision (`review`), and return the result
    (finished, or paused for review again after feedback)."""
    spec, ticket = await _resume(services, key, thread_id, body or ResumeRequest())
    with answering(thread_id):
        return await execute(services, ticket, spec)


@router.post(
    "/{thread_id}/resume/stream",
    response_class=EventStream,
    responses={
        200: {
            "description": "The events of POST /v1/refinements/stream.",
            "content": SSE_CONTENT,
        }
    },
)
async def resume_thread_stream(
    thread_id: ThreadIdPath, key: Caller, services: ServicesDep, body: ResumeRequest | None = None
) -> EventStream:
    """Continue an interrupted run, or answer a paused run's review, streaming its events
    (ending with `result`, or with `review` if it pauses again)."""
    spec, ticket = await _resume(services, key, thread_id, body or ResumeRequest())
    return sse_response(
        services, thread_id, lambda emit: execute(services, ticket, spec, emit=emit)
    )


@router.get(
    "/{thread_id}/events",
    response_class=EventStream,
    responses={
        200: {
            "description": "The thread's run events (those of POST /v1/refinements/stream), "
            "replayed from Redis, then followed while a run goes on (on any replica).",
            "content": SSE_CONTENT,
        }
    },
)
async def thread_events(
    thread_id: ThreadIdPath,
    key: Caller,
    services: ServicesDep,
    last_event_id: Annotated[
        str | None,
        Header(pattern=r"^[0-9]+-[0-9]+$", description="Resume after this event id."),
    ] = None,
) -> EventStream:
    """Replay the thread's run events after `Last-Event-ID` (all kept ones without it) and
    follow them until its run ends; for a client whose stream broke (its replica died, the
    network dropped): the run goes on, on whichever replica holds it. Leaving does not stop
    the run."""
    await services.threads.owned(thread_id, key)
    reaping = services.settings.api_reaper_interval_s > 0
    running = functools.partial(services.leases.in_flight, thread_id, reaping)
    body = services.events.follow(
        thread_id, last_event_id or "0", services.settings.api_heartbeat_s, running
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Thread-Id": thread_id}
    return EventStream(body, headers=headers)


@router.post("/{thread_id}/cancel", response_model=CancelOut, status_code=202)
async def cancel_thread(thread_id: ThreadIdPath, key: Caller, services: ServicesDep) -> CancelOut:
    """Stop the thread's run, on whichever replica runs it (within a third of the lease TTL);
    the thread stays resumable. A run whose replica died is dropped instead of resumed."""
    await services.threads.owned(thread_id, key)
    return CancelOut(thread_id=thread_id, outcome=await services.leases.cancel(thread_id))
