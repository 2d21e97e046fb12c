"""POST /v1/refinements (run to the end), /v1/refinements/stream (server-sent events) and
/v1/refinements/batch (many tasks, bounded concurrency)."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter

from api import events
from api.deps import Caller, Svc, charge
from api.errors import ERROR_RESPONSES, ApiError
from api.runs import admit, execute
from api.scheduler import Ticket
from api.schemas import (
    BatchItem,
    BatchRequest,
    BatchResult,
    RefinementRequest,
    RefinementResult,
)
from api.streaming import EventStream, sse_response

router = APIRouter(prefix="/v1", tags=["refinements"], responses=ERROR_RESPONSES)


async def _start(svc: Svc, key: Caller, body: RefinementRequest) -> tuple[str, Ticket]:
    """Admit the request (503 if no room) and record its new thread as the caller's."""
    ticket = admit(svc, body.priority)
    thread_id = uuid.uuid4().hex
    try:
        await svc.threads.claim(thread_id, key, body.graph_input())
    except BaseException:
        ticket.release()
        raise
    return thread_id, ticket


@router.post("/refinements", response_model=RefinementResult)
async def create_refinement(body: RefinementRequest, key: Caller, svc: Svc) -> RefinementResult:
    """Refine one task to the end and return the final answer with its score, confidence,
    iterations, stop reason, token usage and thread id."""
    thread_id, ticket = await _start(svc, key, body)
    return await execute(svc, ticket, thread_id, body.graph_input(), key.id)


@router.post(
    "/refinements/stream",
    response_class=EventStream,
    responses={200: {"description": events.__doc__ or "", "content": {"text/event-stream": {}}}},
)
async def stream_refinement(body: RefinementRequest, key: Caller, svc: Svc) -> EventStream:
    """Refine one task, streaming its progress as server-sent events (see the event list).
    Disconnecting cancels the run; its thread stays resumable."""
    thread_id, ticket = await _start(svc, key, body)
    request = body.graph_input()
    return sse_response(
        svc,
        thread_id,
        lambda emit: execute(svc, ticket, thread_id, request, key.id, emit=emit),
    )


@router.post("/refinements/batch", response_model=BatchResult)
async def create_batch(body: BatchRequest, key: Caller, svc: Svc) -> BatchResult:
    """Refine many tasks, at most `concurrency` at once (capped by the server); every task is
    charged to the key's rate limit and goes through the scheduler at the batch's priority."""
    limit = svc.settings.api_batch_max_tasks
    if len(body.tasks) > limit:
        raise ApiError(
            422,
            "invalid_request",
            f"a batch holds at most {limit} tasks",
            f"split it into batches of {limit} or fewer",
        )
    if len(body.tasks) > 1:
        await charge(svc, key, len(body.tasks) - 1)
    gate = asyncio.Semaphore(min(body.concurrency, svc.settings.api_batch_concurrency))

    async def one(index: int, task: RefinementRequest) -> BatchItem:
        async with gate:
            task = task.model_copy(update={"priority": body.priority})
            try:
                thread_id, ticket = await _start(svc, key, task)
                result = await execute(svc, ticket, thread_id, task.graph_input(), key.id)
            except ApiError as exc:
                return BatchItem(index=index, error=exc.body)
            return BatchItem(index=index, result=result)

    items = await asyncio.gather(*(one(i, t) for i, t in enumerate(body.tasks)))
    failed = sum(1 for item in items if item.error)
    return BatchResult(items=list(items), succeeded=len(items) - failed, failed=failed)
