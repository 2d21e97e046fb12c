"""A thread as a person would want to see it: its owner's record and its latest checkpoint read
into one `ThreadOut` (status, task, draft, score, answer), for every face that shows one."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig

from api.auth import ApiKey
from api.schemas import ThreadOut, ThreadStatus
from api.services import Services
from graph.events import ReviewRequested


def thread_config(thread_id: str) -> RunnableConfig:
    """The graph configuration that addresses the thread's checkpoints."""
    return {"configurable": {"thread_id": thread_id}}


async def thread_status(services: Services, thread_id: str, snapshot: Any) -> ThreadStatus:
    """`running` while a replica holds its lease, `awaiting_review` while it is paused for a
    person (an interrupt pending in its checkpoint), `done` once its last checkpoint has no task
    left, `interrupted` otherwise (a task killed after its writes is not done)."""
    if await services.leases.holder(thread_id):
        return "running"
    if snapshot.interrupts:
        return "awaiting_review"
    if snapshot.tasks or not snapshot.values:  # `next` leaves out tasks that wrote already
        return "interrupted"
    return "done"


async def describe_thread(services: Services, key: ApiKey, thread_id: str) -> ThreadOut:
    """The thread's latest checkpoint, if `key` owns it (`ThreadNotFound` otherwise)."""
    record = await services.threads.owned(thread_id, key)
    snapshot = await services.graph.aget_state(thread_config(thread_id))
    values = snapshot.values or {}
    request = record["request"]
    pending = snapshot.interrupts
    return ThreadOut(
        thread_id=thread_id,
        status=await thread_status(services, thread_id, snapshot),
        next=list(snapshot.next) if values else ["__start__"],
        created_at=record.get("created_at"),
        updated_at=snapshot.created_at,
        task=values.get("task", request.get("task")),
        config=values.get("config", request.get("config")),
        **{
            k: values.get(k)
            for k in ("iteration", "draft", "score", "answer", "confidence", "stop_reason")
        },
        review=ReviewRequested.of(pending[0]) if pending else None,
        reviews=values.get("reviews") or [],
    )
