"""A thread's run events in a Redis stream (`{prefix}:api:events:{thread}`), so that any
replica can replay and follow them: a run's publisher appends each event (batched: whatever
queued up goes in one pipeline) and hands it, with its stream id, to the local SSE response;
`follow` serves the same events to a client that attaches, or reattaches with `Last-Event-ID`
after its replica died, on any replica. The stream id is the SSE `id` everywhere."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aredis
from fastapi.sse import format_sse_event
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.events import Event

log = logging.getLogger("refinery.api")

TERMINAL = frozenset({"result", "error"})
"""The events that end a run's stream."""
HEARTBEAT = b": heartbeat\n\n"

Published = tuple[str, str, str]
"""An event as the local stream sends it: name, JSON payload, stream id."""


def sse(name: str, data: str, event_id: str) -> bytes:
    return format_sse_event(event=name, data_str=data, id=event_id)


@dataclass
class RunEvents:
    """The event streams of one deployment."""

    client: aredis.Redis
    prefix: str
    ttl_s: int
    maxlen: int

    def key(self, thread_id: str) -> str:
        return f"{self.prefix}:api:events:{thread_id}"

    def publisher(
        self, thread_id: str, local: Callable[[Published], None] | None = None
    ) -> Publisher:
        """A publisher for one run on the thread; `local` gets each event once it is stored."""
        return Publisher(self, thread_id, local)

    async def follow(
        self,
        thread_id: str,
        after: str,
        heartbeat_s: float,
        running: Callable[[], Awaitable[bool]],
    ) -> AsyncIterator[bytes]:
        """The thread's events after stream id `after` ("0" from the first kept), as SSE,
        following new ones while `running()`; a heartbeat comment whenever it is quiet. Ends
        after a run's last event when nothing runs on the thread any more."""
        key, last, ended = self.key(thread_id), after, False
        # Short blocking reads (below the client's socket timeout); a heartbeat when quiet.
        block_ms, quiet_since = int(min(heartbeat_s, 1.0) * 1000), time.monotonic()
        while True:
            try:
                reply = await self.client.xread({key: last}, count=500, block=block_ms)
            except (RedisTimeoutError, RedisConnectionError):
                reply = []  # a stall or a blip; `running()` says whether Redis is really gone
            if not reply:
                if ended or not await running():
                    return
                if time.monotonic() - quiet_since >= heartbeat_s:
                    quiet_since = time.monotonic()
                    yield HEARTBEAT
                continue
            chunks = []
            for entry_id, fields in reply[0][1]:
                last = entry_id.decode()
                name = fields[b"event"].decode()
                chunks.append(sse(name, fields[b"data"].decode(), last))
                ended = name in TERMINAL
            quiet_since = time.monotonic()
            yield b"".join(chunks)
            if ended and not await running():
                return


class Publisher:
    """Appends one run's events to the thread's stream, in order, in batches."""

    def __init__(
        self, events: RunEvents, thread_id: str, local: Callable[[Published], None] | None
    ) -> None:
        self._events = events
        self._key = events.key(thread_id)
        self._local = local
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name=f"events-{thread_id}")

    def emit(self, event: Event) -> None:
        """Queue an event (never blocks the run)."""
        self._queue.put_nowait(event)

    async def close(self) -> None:
        """Store what is queued and stop."""
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.shield(self._writer)

    async def _write(self) -> None:
        done = False
        while not done:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            done = batch[-1] is None
            events = [e for e in batch if e is not None]
            if events:
                await self._store(events)

    async def _store(self, events: list[Event]) -> None:
        payloads = [(name, json.dumps(data)) for name, data in events]
        try:
            async with self._events.client.pipeline(transaction=False) as pipe:
                for name, data in payloads:
                    pipe.xadd(self._key, {"event": name, "data": data},
                              maxlen=self._events.maxlen, approximate=True)  # fmt: skip
                pipe.expire(self._key, self._events.ttl_s)
                ids = (await pipe.execute())[:-1]
        except RedisError as exc:  # the local client still gets its events, without replay
            log.warning("run events not stored", extra={"error": str(exc)})
            ids = [f"0-{i}" for i in range(len(events))]
        if self._local is not None:
            for (name, data), entry_id in zip(payloads, ids, strict=True):
                self._local((name, data, _text(entry_id)))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
