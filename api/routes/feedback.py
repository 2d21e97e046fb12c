"""POST /v1/feedback: a rating (thumbs up/down, a comment) or an implicit signal (copied,
regenerated, abandoned) for a thread's run, kept in the one feedback store
(`core.feedback.store`: against the run and its experiment variant, exported by
`refinery feedback export`); GET /v1/threads/{id}/feedback reads a thread's back. Only the
key that owns a thread may give or read its feedback (404 for anyone else)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import Caller, ServicesDep
from api.errors import ERROR_RESPONSES, ApiError
from api.schemas import FeedbackIn, FeedbackOut
from core.feedback.store import RunRecord, UnknownRunError

router = APIRouter(prefix="/v1", tags=["feedback"], responses=ERROR_RESPONSES)


def _out(thread_id: str, record: RunRecord | None) -> FeedbackOut:
    if record is None:
        return FeedbackOut(thread_id=thread_id)
    rating = {"up": 1, "down": -1}.get(record.rating or "")
    return FeedbackOut(
        thread_id=thread_id,
        run_id=record.execution_id,
        rating=rating,  # type: ignore[arg-type]
        comment=record.comment,
        signals=record.signals,
        experiment=record.experiment,
        variant=record.variant,
    )


def _no_run(thread_id: str) -> ApiError:
    return ApiError(
        409,
        "no_run",
        f"thread {thread_id!r} has no run to give feedback on (none started, or it expired)",
        "send feedback once POST /v1/refinements (or a resume) has started the thread's run",
        thread_id=thread_id,
    )


@router.post("/feedback", response_model=FeedbackOut, status_code=201)
async def send_feedback(body: FeedbackIn, key: Caller, services: ServicesDep) -> FeedbackOut:
    """Record feedback on one of this key's threads (404 for anyone else's): a rating replaces
    the run's earlier one; signals are counted. Returns the run's feedback now."""
    await services.threads.owned(body.thread_id, key)
    store = services.telemetry.feedback
    try:
        record = await store.run(body.thread_id)
        if body.run_id and record.execution_id and body.run_id != record.execution_id:
            raise ApiError(
                409,
                "stale_run",
                f"run {body.run_id!r} is no longer the thread's latest run",
                "send feedback for the run the thread holds now (GET /v1/threads/{id})",
                thread_id=body.thread_id,
            )
        if body.kind == "rating":
            rating = "up" if body.rating == 1 else "down"
            await store.rate(body.thread_id, rating, body.comment)
        else:
            await store.signal(body.thread_id, body.kind)
        return _out(body.thread_id, await store.run(body.thread_id))
    except UnknownRunError:
        raise _no_run(body.thread_id) from None


@router.get("/threads/{thread_id}/feedback", response_model=FeedbackOut)
async def thread_feedback(
    thread_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")],
    key: Caller,
    services: ServicesDep,
) -> FeedbackOut:
    """The feedback one of this key's threads holds: rating, comment, signal counts, variant."""
    await services.threads.owned(thread_id, key)
    try:
        record = await services.telemetry.feedback.run(thread_id)
    except UnknownRunError:
        record = None
    return _out(thread_id, record)
