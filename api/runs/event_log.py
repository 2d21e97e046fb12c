"""A thread's run events in a Redis stream (`{prefix}:api:events:{thread}`), so that any
replica can replay and follow them: a run's publisher appends each event (batched: whatever
queued up goes in one write, a run of tokens of one message as one event) and hands it, with
its stream id, to the local SSE response; `follow` serves the same events to a client that
attaches, or reattaches with `Last-Event-ID` after its replica died, on any replica. The
stream id is the SSE `id` everywhere."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aredis
from fastapi.sse import format_sse_event
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.redis.lanes import Lanes
from graph.events import Event

log = logging.getLogger("refinery.api")

TERMINAL = frozenset({"result", "review", "error"})
"""The events that end a run's stream (`review`: it paused for a person)."""
HEARTBEAT = b": heartbeat\n\n"

Published = tuple[str, str, str]
"""An event as the local stream sends it: name, JSON payload, stream id."""

Render = Callable[[list[Published]], bytes]
"""Turns a batch of a run's events into the bytes its client reads: the native SSE events
(`sse_batch`), or another protocol's rendering of the same run (the OpenAI-compatible chunks)."""


def sse(name: str, data: str, event_id: str) -> bytes:
    return format_sse_event(event=name, data_str=data, id=event_id)


def sse_batch(events: list[Published]) -> bytes:
    """The native rendering: each event as an SSE event with its name, data and stream id."""
    return b"".join(sse(*event) for event in events)


@dataclass
class RunEvents:
    """The event streams of one deployment."""

    client: aredis.Redis
    prefix: str
    ttl_s: int
    maxlen: int
    token_flush_s: float = 0.0
    """How long tokens may wait for more tokens (any other event sends them at once)."""
    _lanes: Lanes | None = field(default=None, init=False, repr=False)

    @property
    def lanes(self) -> Lanes:
        """The connections publishers write through (one packed write per batch)."""
        if self._lanes is None:
            self._lanes = Lanes(self.client.connection_pool)
        return self._lanes

    async def aclose(self) -> None:
        if self._lanes is not None:
            await self._lanes.aclose()

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
        render: Render = sse_batch,
    ) -> AsyncIterator[bytes]:
        """The thread's events after stream id `after` ("0" from the first kept), as `render`
        writes them (SSE by default), following new ones while `running()`; a heartbeat comment
        whenever it is quiet. Ends after a run's last event when nothing runs on the thread any
        more."""
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
            batch: list[Published] = []
            for entry_id, fields in reply[0][1]:
                last = entry_id.decode()
                name = fields[b"event"].decode()
                batch.append((name, fields[b"data"].decode(), last))
                ended = name in TERMINAL
            quiet_since = time.monotonic()
            if chunk := render(batch):
                yield chunk
            if ended and not await running():
                return


class Publisher:
    """Appends one run's events to the thread's stream, in order, in batches.

    A batch goes out as soon as the last one is stored, except that a batch of tokens only
    waits up to `token_flush_s` for more (and for whatever else comes): a token is one of
    dozens a second, and each write costs the run a Redis round trip, an SSE send and a wake-up
    of the client, while a person cannot tell 20 ms apart. Any other event ends the wait.
    """

    def __init__(
        self, events: RunEvents, thread_id: str, local: Callable[[Published], None] | None
    ) -> None:
        self._events = events
        self._key = events.key(thread_id)
        self._local = local
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._urgent = asyncio.Event()
        """Set when something other than a token is queued: a token wait ends at once."""
        self._writer = asyncio.create_task(self._write(), name=f"events-{thread_id}")

    def emit(self, event: Event) -> None:
        """Queue an event (never blocks the run)."""
        self._queue.put_nowait(event)
        if event[0] != "token":
            self._urgent.set()

    async def close(self) -> None:
        """Store what is queued and stop."""
        self._queue.put_nowait(None)
        self._urgent.set()
        with contextlib.suppress(Exception):
            await asyncio.shield(self._writer)

    async def _write(self) -> None:
        done = False
        while not done:
            batch = [await self._queue.get()]
            if batch[0] is not None and batch[0][0] == "token" and not self._urgent.is_set():
                await self._token_wait()
            self._urgent.clear()
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            done = batch[-1] is None
            events = [e for e in batch if e is not None]
            if events:
                await self._store(events)

    async def _token_wait(self) -> None:
        """Let tokens gather for up to `token_flush_s`, unless another event comes first."""
        if self._events.token_flush_s <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._events.token_flush_s):
                await self._urgent.wait()

    async def _store(self, events: list[Event]) -> None:
        payloads = [(name, json.dumps(data)) for name, data in join_tokens(events)]
        maxlen, key = self._events.maxlen, self._key
        commands: list[tuple[Any, ...]] = [
            ("XADD", key, "MAXLEN", "~", maxlen, "*", "event", name, "data", data)
            for name, data in payloads
        ]
        commands.append(("EXPIRE", key, self._events.ttl_s))
        try:
            ids = (await self._events.lanes.call_many(commands))[:-1]
        except RedisError as exc:  # the local client still gets its events, without replay
            log.warning("run events not stored", extra={"error": str(exc)})
            ids = [f"0-{i}" for i in range(len(payloads))]
        if self._local is not None:
            for (name, data), entry_id in zip(payloads, ids, strict=True):
                self._local((name, data, _text(entry_id)))


def join_tokens(events: list[Event]) -> list[Event]:
    """`events` with each run of `token` events of one message joined into one: the tokens
    that gathered for one batch go out as one event, not one per token."""
    joined: list[Event] = []
    for name, data in events:
        if name == "token" and joined and joined[-1][0] == "token":
            last = joined[-1][1]
            if (last["node"], last["message_id"]) == (data["node"], data["message_id"]):
                joined[-1] = ("token", {**last, "text": last["text"] + data["text"]})
                continue
        joined.append((name, data))
    return joined


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
