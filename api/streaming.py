"""Server-sent events for a run: the run executes in its own task and feeds a queue; the
response drains it, sends a heartbeat comment whenever the run is quiet, and cancels the run
when the client goes away (its checkpoint stays, so the thread can be resumed)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event

from api.errors import ApiError
from api.events import Event
from api.runs import Emit, failure_of
from api.schemas import RefinementResult
from api.services import Services

HEARTBEAT = b": heartbeat\n\n"


class EventStream(StreamingResponse):
    """A `text/event-stream` response (the OpenAPI document's media type for the streams)."""

    media_type = "text/event-stream"


StartRun = Callable[[Emit], Awaitable[RefinementResult]]


def sse_response(services: Services, thread_id: str, start: StartRun) -> EventStream:
    """A `text/event-stream` response carrying the events of the run that `start` executes."""
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    async def produce() -> None:
        try:
            result = await start(queue.put_nowait)
            queue.put_nowait(("result", result.model_dump(mode="json")))
        except ApiError as exc:
            queue.put_nowait(("error", exc.body.model_dump(mode="json", exclude_none=True)))
        except Exception as exc:  # the stream must end with an event, whatever happened
            body = failure_of(exc, thread_id).body
            queue.put_nowait(("error", body.model_dump(mode="json", exclude_none=True)))
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(produce(), name=f"run-{thread_id}")
    services.background.add(task)
    task.add_done_callback(services.background.discard)
    body = _drain(queue, task, services.settings.api_heartbeat_s)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Thread-Id": thread_id}
    return EventStream(body, headers=headers)


async def _drain(
    queue: asyncio.Queue[Event | None], task: asyncio.Task[None], heartbeat_s: float
) -> AsyncIterator[bytes]:
    ids = itertools.count(1)
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
            chunks = []
            while item is not None:
                name, data = item
                chunks.append(format_sse_event(event=name, data_str=json.dumps(data),
                                               id=str(next(ids))))  # fmt: skip
                if queue.empty():
                    break
                item = queue.get_nowait()
            if chunks:
                yield b"".join(chunks)
            if item is None:
                return
    finally:
        # A client that disconnects cancels this generator: stop its run too.
        if not task.done():
            task.cancel()
