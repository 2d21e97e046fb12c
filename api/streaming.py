"""Server-sent events for a run: the run executes in its own task and publishes its events to
the thread's Redis stream (`api.runs.event_log`), which hands each one, with its stream id, to the
response; the response sends a heartbeat comment whenever the run is quiet, and cancels the run
when the client goes away (its checkpoint stays, so the thread can be resumed). Any replica can
replay and follow the same events (`GET /v1/threads/{id}/events`)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.errors import error_of
from api.runs.event_log import HEARTBEAT, Published, Render, sse_batch
from api.runs.execute import Queued, RunStarted
from api.runs.failures import LeaseLost, RunCancelled
from api.schemas import ErrorBody, RefinementResult
from api.services import Services
from graph.events import NodeDone, Payload, Planned, ReviewRequested, Scored, TokenChunk
from graph.runner import Emit

EVENTS: dict[str, type[BaseModel]] = {
    model.name if issubclass(model, Payload) else name: model
    for name, model in {
        "queued": Queued,
        "run": RunStarted,
        "node": NodeDone,
        "plan": Planned,
        "token": TokenChunk,
        "score": Scored,
        "review": ReviewRequested,
        "result": RefinementResult,
        "error": ErrorBody,
    }.items()
}
"""Every event a run's stream carries, by name: the one definition of each payload."""

_LAST = {
    "review": "the run paused for a person, last (`ReviewRequested`: the best answer, its "
    "score, findings and confidence, every score so far, `review_id`); POST "
    "/v1/threads/{id}/resume with a `review` decision continues it.",
    "result": "the finished run (`RefinementResult`), last.",
    "error": "why the run did not finish, last (`ErrorBody`); the thread stays resumable.",
}


def describe_events() -> str:
    """The published event list (the stream endpoints' OpenAPI description), from `EVENTS`."""
    lines = ["Server-sent events; the `data:` of each is one JSON object.", ""]
    for name, model in EVENTS.items():
        if name in _LAST:
            lines.append(f"- `{name}`: {_LAST[name]}")
            continue
        fields = ", ".join(
            f if info.is_required() else f"{f}?" for f, info in model.model_fields.items()
        )
        doc = " ".join((model.__doc__ or "").split())
        lines.append(f"- `{name}`: `{{{fields}}}`: {doc}")
    lines.append("- Heartbeats are SSE comments (`: heartbeat`) sent while nothing else is.")
    return "\n".join(lines)


SSE_CONTENT = {
    "text/event-stream": {
        "itemSchema": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "event": {"type": "string", "enum": list(EVENTS)},
                "data": {"type": "string", "contentMediaType": "application/json"},
                "id": {"type": "string", "description": "Send as Last-Event-ID to replay."},
                "retry": {"type": "integer", "minimum": 0},
            },
        }
    }
}
"""The OpenAPI `content` of a response carrying these events: each one's shape (OpenAPI 3.2
`itemSchema`, which schema-driven clients and fuzzers read per event)."""

SSE_RESPONSE = {200: {"description": describe_events(), "content": SSE_CONTENT}}


class EventStream(StreamingResponse):
    """A `text/event-stream` response (the OpenAPI document's media type for the streams)."""

    media_type = "text/event-stream"


StartRun = Callable[[Emit], Awaitable[RefinementResult]]


def sse_response(
    services: Services, thread_id: str, start: StartRun, render: Render = sse_batch
) -> EventStream:
    """A `text/event-stream` response carrying the events of the run that `start` executes,
    as `render` writes them (the native events by default); if this replica loses the run to
    another (it stalled past its lease), the response goes on with the events the other
    replica publishes."""
    queue: asyncio.Queue[Published | None] = asyncio.Queue()
    task = spawn_run(services, thread_id, start, local=queue.put_nowait)
    task.add_done_callback(lambda _: queue.put_nowait(None))
    body = _respond(services, thread_id, queue, task, render)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Thread-Id": thread_id}
    return EventStream(body, headers=headers)


def spawn_run(
    services: Services,
    thread_id: str,
    start: StartRun,
    local: Callable[[Published], None] | None = None,
) -> asyncio.Task[bool]:
    """Run `start` in a task of its own (kept referenced until it ends), publishing its events."""
    task = asyncio.create_task(
        publish_run(services, thread_id, start, local), name=f"run-{thread_id}"
    )
    services.background.add(task)
    task.add_done_callback(services.background.discard)
    return task


async def publish_run(
    services: Services,
    thread_id: str,
    start: StartRun,
    local: Callable[[Published], None] | None = None,
) -> bool:
    """Run `start`; its events, then its `result` (or `review`, when it paused for a person)
    or `error`, go to the thread's stream. False when the run went on elsewhere (lease lost):
    the new holder publishes its end."""
    publisher = services.events.publisher(thread_id, local)
    try:
        result = await start(publisher.emit)
        if result.review is not None:
            publisher.emit(("review", result.review.model_dump(mode="json")))
        else:
            publisher.emit(("result", result.model_dump(mode="json")))
    except LeaseLost:
        return False
    except asyncio.CancelledError:
        if not services.leases.draining:  # a replica that stops hands its runs over
            body = error_of(RunCancelled(thread_id, by_client=True)).body
            publisher.emit(("error", body.model_dump(mode="json", exclude_none=True)))
        raise
    except Exception as exc:  # the stream must end with an event, whatever happened
        body = error_of(exc, thread_id).body
        publisher.emit(("error", body.model_dump(mode="json", exclude_none=True)))
    finally:
        await publisher.close()
    return True


async def _respond(
    services: Services,
    thread_id: str,
    queue: asyncio.Queue[Published | None],
    task: asyncio.Task[bool],
    render: Render,
) -> AsyncIterator[bytes]:
    heartbeat_s, sent = services.settings.api_heartbeat_s, ["0"]
    async for chunk in _drain(queue, task, heartbeat_s, sent, render):
        yield chunk
    if task.done() and not task.cancelled() and task.result() is False:
        reaping = services.settings.api_reaper_interval_s > 0
        running = functools.partial(services.leases.in_flight, thread_id, reaping)
        follow = services.events.follow(thread_id, sent[0], heartbeat_s, running, render)
        async for chunk in follow:
            yield chunk


async def _drain(
    queue: asyncio.Queue[Published | None],
    task: asyncio.Task[bool],
    heartbeat_s: float,
    sent: list[str],
    render: Render,
) -> AsyncIterator[bytes]:
    """The local run's events as they come; `sent[0]` holds the id of the last one sent."""
    try:
        while True:
            try:
                async with asyncio.timeout(heartbeat_s):
                    item = await queue.get()
            except TimeoutError:
                yield HEARTBEAT
                continue
            # Whatever else is queued goes out in the same write: under load, one send per
            # token would cost a syscall and a client wake-up each.
            batch = []
            while item is not None:
                batch.append(item)
                sent[0] = item[2]
                if queue.empty():
                    break
                item = queue.get_nowait()
            if batch and (chunk := render(batch)):
                yield chunk
            if item is None:
                return
    finally:
        # A client that disconnects cancels this generator: stop its run too.
        if not task.done():
            task.cancel()
