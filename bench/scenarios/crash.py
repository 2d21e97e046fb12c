"""Process crash: SIGKILL the API server while runs stream, start a new one on the same port and
Redis, and resume every interrupted thread; nothing checkpointed before the kill may be missing
from the thread afterwards."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from bench.scenarios.client import STORY, Stream, request, resume, stream
from bench.scenarios.report import Scenario
from bench.scenarios.stack import Stack

STREAMS = 6
LATENCY_MS = 250


async def checkpoint_ids(client: Any, thread_id: str) -> set[str]:
    """The thread's checkpoints as the API lists them (all of them: a run has fewer than 200)."""
    history = await request(client, "GET", f"/v1/threads/{thread_id}/history?limit=200")
    return {c["checkpoint_id"] for c in history.body.get("checkpoints", [])}


async def _kill_mid_stream(stack: Stack, streams: list[Stream], runs: list[Any]) -> bool:
    """SIGKILL once most streams are inside their loop (a scored draft seen) and none is done."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        scored = sum("score" in s.names() for s in streams)
        if scored >= STREAMS // 2 or all(s.ended != "open" for s in streams):
            break
        await asyncio.sleep(0.02)
    stack.api.kill()
    await asyncio.gather(*runs)
    return scored >= STREAMS // 2


async def _stream(client: Any, out: Stream) -> None:
    """One streamed run; a refusal (503 + Retry-After) is retried as a client would."""
    for _ in range(3):
        out.status, out.ended = 0, "open"
        await stream(client, "/v1/refinements/stream", STORY, out)
        if out.status != 503:
            return
        await asyncio.sleep(2)


async def run(stack: Stack) -> Scenario:
    report = Scenario(
        "process crash",
        f"{STREAMS} streamed refinements (one-word model: several "
        "rounds each), SIGKILL of the server mid-stream, restart, resume",
    )
    stack.model.configure(latency_ms=LATENCY_MS, responder="one-word")
    streams = [Stream() for _ in range(STREAMS)]
    async with stack.client() as client:
        runs = [asyncio.create_task(_stream(client, s)) for s in streams]
        mid = await _kill_mid_stream(stack, streams, runs)
    report.check("the kill landed while streams were mid-loop", mid)
    report.figures["stream endings"] = dict(Counter(s.ended for s in streams))
    report.sent = STREAMS
    cut = [s for s in streams if s.ended == "cut" and s.thread_id]
    report.figures["cut before its thread id arrived"] = sum(
        s.ended == "cut" and not s.thread_id for s in streams
    )
    report.completed = sum(s.ended == "result" for s in streams)
    report.interrupted = len(cut)
    started = time.monotonic()
    stack.api.start()
    report.figures["restart_s"] = round(time.monotonic() - started, 1)
    async with stack.client() as client:
        # What the kill left in Redis, read by the new process before anything runs again.
        at_kill = {s.thread_id: await checkpoint_ids(client, s.thread_id) for s in cut}
        await _resume_all(client, cut, report)
        after = {t: await checkpoint_ids(client, t) for t in at_kill}
    report.lost += sum(len(ids - after[t]) for t, ids in at_kill.items())
    report.figures["checkpoints_at_kill"] = sum(len(ids) for ids in at_kill.values())
    report.figures["checkpoints_after_resume"] = sum(len(ids) for ids in after.values())
    report.check("every interrupted thread resumed and finished", report.resumed == len(cut))
    report.check(
        "every stream either finished or was cut by the kill",
        all(s.ended in ("result", "cut") for s in streams),
    )
    stack.model.configure(latency_ms=0, responder="cooperative")
    return report


async def _resume_all(client: Any, cut: list[Stream], report: Scenario) -> None:
    for s in cut:
        state = await request(client, "GET", f"/v1/threads/{s.thread_id}")
        seen = [d for n, d in s.events if n == "score"]
        resumed = await resume(client, s.thread_id)
        report.count(resumed.status, resumed.error_type, resumed.ok)
        if not resumed.ok:
            continue
        report.resumed += 1
        history = resumed.body.get("history") or []
        drafts = {(h["iteration"], h["draft"]) for h in history}
        # A scored draft the client was shown before the crash is part of the finished thread.
        report.lost += sum((d["iteration"], d["draft"]) not in drafts for d in seen)
        # "running": the other server's reaper had already taken the orphan over (not a failure)
        statuses = report.figures.setdefault("status when asked to resume", {})
        statuses[state.body.get("status")] = statuses.get(state.body.get("status"), 0) + 1
