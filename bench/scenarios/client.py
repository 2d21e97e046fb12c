"""The scenarios' HTTP client side: one refinement (plain or streamed, events kept as they
arrive), and what an answer says (status, error type, Retry-After)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

WORDS = ["lantern", "river", "fox", "bridge", "winter", "bell", "garden", "clock"]
STORY = {"task": "Write a short story about a journey.", "constraints": {"required_words": WORDS}}


@dataclass
class Outcome:
    """One request's ending: status, error type (if any), Retry-After, timing, body."""

    status: int
    error_type: str | None = None
    retry_after: str | None = None
    seconds: float = 0.0
    body: dict[str, Any] = field(default_factory=dict)
    thread_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error_type is None


def outcome_of(response: httpx.Response, seconds: float) -> Outcome:
    try:
        body = response.json()
    except ValueError:
        body = {"raw": response.text[:500]}
    error = body.get("error") if isinstance(body, dict) else None
    return Outcome(
        status=response.status_code,
        error_type=(error or {}).get("type") if response.status_code >= 400 else None,
        retry_after=response.headers.get("retry-after"),
        seconds=seconds,
        body=body if isinstance(body, dict) else {"value": body},
        thread_id=(body.get("thread_id") or (error or {}).get("thread_id"))
        if isinstance(body, dict)
        else None,
    )


async def request(client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> Outcome:
    """One request; a transport failure is status 0 with its exception name as the type."""
    started = time.perf_counter()
    try:
        response = await client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        return Outcome(0, type(exc).__name__, seconds=time.perf_counter() - started)
    return outcome_of(response, time.perf_counter() - started)


@dataclass
class Stream:
    """A streamed run as the client saw it: the events in order, and how it ended."""

    thread_id: str | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 0
    ended: str = "open"
    """`result`, `error`, `cut` (the connection dropped) or `refused` (not 200)."""

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    @property
    def result(self) -> dict[str, Any] | None:
        return next((data for name, data in self.events if name == "result"), None)


async def stream(client: httpx.AsyncClient, path: str, body: dict[str, Any], out: Stream) -> None:
    """Run `POST path` as a stream, appending each event to `out` the moment it arrives."""
    name, data = "message", ""
    try:
        async with client.stream("POST", path, json=body) as response:
            out.status = response.status_code
            out.thread_id = response.headers.get("x-thread-id")
            if response.status_code != 200:
                out.ended = "refused"
                await response.aread()
                return
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data += line[6:]
                elif line == "" and data:
                    out.events.append((name, json.loads(data)))
                    if name in ("result", "error"):
                        out.ended = name
                    name, data = "message", ""
    except httpx.HTTPError:
        pass
    if out.ended == "open":
        out.ended = "cut"


async def resume(client: httpx.AsyncClient, thread_id: str, wait_s: float = 20.0) -> Outcome:
    """POST /v1/threads/{id}/resume; while the thread is busy (the run lease of a run that
    died with its Redis or its process has not lapsed yet) wait and ask again, as told."""
    deadline = time.monotonic() + wait_s
    while True:
        outcome = await request(client, "POST", f"/v1/threads/{thread_id}/resume")
        if outcome.error_type != "thread_busy" or time.monotonic() > deadline:
            return outcome
        await asyncio.sleep(1.0)
