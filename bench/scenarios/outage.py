"""Redis outage: SIGKILL redis-server while clients keep sending refinements, start it again on
the same port and append-only file. Requests in the gap must get a clear 503 (never another 5xx,
never a hang), the server must stay up and recover by itself, and every thread that finished
before the outage must read back the same afterwards."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bench.scenarios.client import Outcome, request, resume
from bench.scenarios.report import Scenario
from bench.scenarios.stack import Stack

CLIENTS = 4
BEFORE_S, GAP_S, AFTER_S = 4.0, 6.0, 10.0
TASK = {"task": "Say hello to the team.", "constraints": {"required_words": ["team", "hello"]}}


async def _closed_loop(client: httpx.AsyncClient, until: float, log: list[tuple[float, Outcome]]):
    while time.monotonic() < until:
        sent = time.monotonic()  # a request sent before the kill may well finish in the gap
        outcome = await request(client, "POST", "/v1/refinements", json=TASK)
        log.append((sent, outcome))
        if not outcome.ok:
            await asyncio.sleep(0.2)


async def _probe(client: httpx.AsyncClient, until: float, probes: list[tuple]) -> None:
    """(sent, answered, healthz status, readyz status) every half second."""
    while time.monotonic() < until:
        sent = time.monotonic()
        health = await request(client, "GET", "/healthz")
        ready = await request(client, "GET", "/readyz")
        probes.append((sent, time.monotonic(), health.status, ready.status))
        await asyncio.sleep(0.5)


async def _outage(stack: Stack, marks: dict[str, float]) -> None:
    await asyncio.sleep(BEFORE_S)
    await asyncio.to_thread(stack.redis.stop)
    marks["down"] = time.monotonic()  # the kill has landed: nothing sent from now can succeed
    await asyncio.sleep(GAP_S)
    await asyncio.to_thread(stack.redis.start)
    marks["up"] = time.monotonic()


async def _snapshot(client: httpx.AsyncClient, thread_ids: list[str]) -> dict[str, Any]:
    out = {}
    for thread_id in thread_ids:
        got = await request(client, "GET", f"/v1/threads/{thread_id}")
        history = await request(client, "GET", f"/v1/threads/{thread_id}/history")
        checkpoints = [c["checkpoint_id"] for c in history.body.get("checkpoints", [])]
        out[thread_id] = (got.body.get("answer"), got.body.get("status"), checkpoints)
    return out


async def run(stack: Stack) -> Scenario:
    report = Scenario(
        "redis outage",
        f"{CLIENTS} clients sending refinements; redis-server "
        f"SIGKILLed for {GAP_S:.0f} s, then started again on its append-only file",
    )
    stack.model.configure(latency_ms=50)
    log: list[tuple[float, Outcome]] = []
    probes: list[tuple] = []
    marks: dict[str, float] = {}
    until = time.monotonic() + BEFORE_S + GAP_S + AFTER_S
    async with stack.client() as client:
        await asyncio.gather(
            _outage(stack, marks),
            _probe(client, until, probes),
            *(_closed_loop(client, until, log) for _ in range(CLIENTS)),
        )
        before = [o.thread_id for t, o in log if o.ok and t < marks["down"] and o.thread_id]
        saved = await _snapshot(client, before)  # read after the outage: all must be intact
        cut = [o for t, o in log if o.error_type == "storage_unavailable" and o.thread_id]
        for outcome in cut:  # runs the outage broke mid-way resume now
            resumed = await resume(client, outcome.thread_id)
            if resumed.error_type == "thread_finished":  # it had finished; only its answer was cut
                resumed = await request(client, "GET", f"/v1/threads/{outcome.thread_id}")
                resumed.error_type = None if resumed.body.get("answer") else "no answer"
            report.interrupted += 1
            report.resumed += resumed.ok
            if not resumed.ok:
                report.failed[f"resume: {resumed.status} {resumed.error_type}"] += 1
    for _, outcome in log:
        report.count(outcome.status, outcome.error_type, outcome.ok)
    _judge(report, stack, log, probes, marks, saved, before)
    return report


def _judge(
    report: Scenario,
    stack: Stack,
    log: list,
    probes: list,
    marks: dict,
    saved: dict,
    before: list[str],
) -> None:
    gap = [o for t, o in log if marks["down"] <= t <= marks["up"]]
    bad = [o for _, o in log if (o.status >= 500 and o.status != 503) or o.status == 0]
    unclear = [o for _, o in log if o.status == 503 and not o.retry_after]
    first_ok = min((t for t, o in log if o.ok and t > marks["up"]), default=None)
    report.lost = sum(1 for t in before if not saved.get(t, (None,))[0]) + sum(
        1 for t in before if saved[t][1] != "done"
    )
    report.figures["requests_in_gap"] = len(gap)
    report.figures["gap_answers"] = dict(sorted(_codes(gap).items()))
    report.figures["threads_done_before_outage"] = len(before)
    report.figures["recovered_after_s"] = round(first_ok - marks["up"], 2) if first_ok else None
    down_probes = [p for p in probes if marks["down"] + 1 < p[0] and p[1] < marks["up"]]
    report.check(
        "no 5xx but 503, no dropped connection", not bad, f"{len(bad)} other: {_codes(bad)}"
    )
    report.check("every 503 says Retry-After", not unclear, f"{len(unclear)} without")
    # A request may also wait for a pooled Redis connection until Redis is back, and succeed.
    report.check(
        "requests in the gap got 503 storage_unavailable (or waited and succeeded)",
        gap
        and all(o.ok or (o.status == 503 and o.error_type == "storage_unavailable") for o in gap),
        f"{_codes(gap)}",
    )
    report.check(
        "the server stayed up (healthz 200 throughout, process alive)",
        stack.api.alive and all(p[2] == 200 for p in probes),
    )
    report.check(
        "readyz said 503 while Redis was down",
        down_probes and all(p[3] == 503 for p in down_probes),
    )
    report.check("service recovered by itself", first_ok is not None)
    report.check("every interrupted run resumed", report.resumed == report.interrupted)


def _codes(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes:
        key = f"{o.status} {o.error_type or ''}".strip()
        counts[key] = counts.get(key, 0) + 1
    return counts
