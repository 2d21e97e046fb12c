"""POST /v1/refinements (run to the end), /v1/refinements/stream (server-sent events) and
/v1/refinements/batch (many tasks, bounded concurrency). A request that names no `config`
while an A/B experiment is enabled runs the variant assigned to its user or session id."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from api.deps import Caller, ServicesDep, UnitIdHeader, charge
from api.errors import ERROR_RESPONSES, ApiError, answering, error_of
from api.runs.execute import execute
from api.runs.start import start_run
from api.schemas import (
    BatchItem,
    BatchRequest,
    BatchResult,
    RefinementRequest,
    RefinementResult,
)
from api.streaming import SSE_RESPONSE, EventStream, sse_response

router = APIRouter(prefix="/v1", tags=["refinements"], responses=ERROR_RESPONSES)


@router.post("/refinements", response_model=RefinementResult)
async def create_refinement(
    body: RefinementRequest, key: Caller, services: ServicesDep, unit: UnitIdHeader
) -> RefinementResult:
    """Refine one task to the end and return the final answer with its score, confidence,
    iterations, stop reason, token usage, thread id, and the configuration (experiment
    variant) it ran."""
    spec, ticket = await start_run(services, key, body, unit)
    with answering(spec.thread_id):
        return await execute(services, ticket, spec)


@router.post(
    "/refinements/stream",
    response_class=EventStream,
    responses=SSE_RESPONSE,
)
async def stream_refinement(
    body: RefinementRequest, key: Caller, services: ServicesDep, unit: UnitIdHeader
) -> EventStream:
    """Refine one task, streaming its progress as server-sent events (see the event list).
    Disconnecting cancels the run; its thread stays resumable."""
    spec, ticket = await start_run(services, key, body, unit)
    return sse_response(
        services, spec.thread_id, lambda emit: execute(services, ticket, spec, emit=emit)
    )


@router.post("/refinements/batch", response_model=BatchResult)
async def create_batch(
    body: BatchRequest, key: Caller, services: ServicesDep, unit: UnitIdHeader
) -> BatchResult:
    """Refine many tasks, at most `concurrency` at once (capped by the server); every task is
    charged to the key's rate limit and goes through the scheduler at the batch's priority."""
    limit = services.settings.api_batch_max_tasks
    if len(body.tasks) > limit:
        raise ApiError(
            422,
            "invalid_request",
            f"a batch holds at most {limit} tasks",
            f"split it into batches of {limit} or fewer",
        )
    if len(body.tasks) > 1:
        await charge(services, key, len(body.tasks) - 1)
    gate = asyncio.Semaphore(min(body.concurrency, services.settings.api_batch_concurrency))

    async def one(index: int, task: RefinementRequest) -> BatchItem:
        async with gate:
            task = task.model_copy(update={"priority": body.priority})
            thread_id = None
            try:
                spec, ticket = await start_run(services, key, task, unit)
                thread_id = spec.thread_id
                result = await execute(services, ticket, spec)
            except Exception as exc:
                return BatchItem(index=index, error=error_of(exc, thread_id).body)
            return BatchItem(index=index, result=result)

    items = await asyncio.gather(*(one(i, t) for i, t in enumerate(body.tasks)))
    failed = sum(1 for item in items if item.error)
    return BatchResult(items=list(items), succeeded=len(items) - failed, failed=failed)
