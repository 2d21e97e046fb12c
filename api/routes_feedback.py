"""POST /v1/feedback: a rating (thumbs up/down, a comment) or an implicit signal (copied,
regenerated, abandoned) for a run; GET /v1/threads/{id}/feedback reads a thread's back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import Caller, Svc
from api.errors import ERROR_RESPONSES
from api.schemas import FeedbackIn, FeedbackOut

router = APIRouter(prefix="/v1", tags=["feedback"], responses=ERROR_RESPONSES)


@router.post("/feedback", response_model=FeedbackOut, status_code=201)
async def send_feedback(body: FeedbackIn, key: Caller, svc: Svc) -> FeedbackOut:
    """Record feedback on one of this key's threads (404 for anyone else's)."""
    await svc.threads.owned(body.thread_id, key)
    event_id = await svc.feedback.add(body, key)
    return FeedbackOut(id=event_id, thread_id=body.thread_id, kind=body.kind)


@router.get("/threads/{thread_id}/feedback", response_model=list[dict])
async def thread_feedback(
    thread_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")], key: Caller, svc: Svc
) -> list[dict]:
    """The feedback events recorded for one of this key's threads, oldest first."""
    await svc.threads.owned(thread_id, key)
    return await svc.feedback.of_thread(thread_id)
