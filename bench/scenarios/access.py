"""Access: one key's threads and feedback are invisible to another key on every server process
(read, resume, cancel, events, feedback; there is no delete route), a key's rate limit holds
across two server processes sharing Redis, and no secret (API keys, the Redis password, the
model endpoint's key, a rejected key) appears in any server log or error body."""

from __future__ import annotations

import asyncio
import math
import secrets
import time

from bench.scenarios.client import Outcome, request
from bench.scenarios.report import Scenario
from bench.scenarios.stack import KEYS, Stack
from testkit.api_server import THREAD_PROBES as PROBES


async def run(stack: Stack) -> Scenario:
    report = Scenario(
        "access",
        "another key's threads and feedback on both server processes; "
        "one key's rate limit across both; secrets in logs and error bodies",
    )
    bodies: list[Outcome] = []
    await _isolation(stack, report, bodies)
    await _shared_limit(stack, report)
    rejected = "rf_" + secrets.token_urlsafe(24)
    async with stack.client(None) as anonymous:
        o = await request(
            anonymous, "GET", "/v1/threads/x", headers={"Authorization": f"Bearer {rejected}"}
        )
        report.count(o.status, o.error_type, o.status == 401)
        bodies.append(o)
    await asyncio.sleep(0.5)  # let the log lines land
    logs = stack.api.log_text() + stack.peer.log_text()
    leaked = [s for s in [*stack.secrets, rejected] if s in logs]
    in_bodies = [s for s in [*stack.secrets, rejected] for b in bodies if s in str(b.body)]
    report.figures["log bytes scanned"] = len(logs)
    report.check("no secret in the server logs", not leaked, f"{len(leaked)} found")
    report.check("no secret in error bodies", not in_bodies, f"{len(in_bodies)} found")
    return report


async def _isolation(stack: Stack, report: Scenario, bodies: list[Outcome]) -> None:
    async with stack.client("alice") as alice:
        made = await request(alice, "POST", "/v1/refinements", json={"task": "Say hi."})
        thread_id = made.thread_id
        rated = await request(
            alice,
            "POST",
            "/v1/feedback",
            json={"thread_id": thread_id, "rating": 1, "comment": "mine"},
        )
    report.count(made.status, made.error_type, made.ok)
    report.count(rated.status, rated.error_type, rated.status == 201)
    wrong = []
    for server in (stack.api, stack.peer):
        async with stack.client("bob", server) as bob:
            for method, path in PROBES:
                o = await request(bob, method, f"/v1/threads/{thread_id}{path}")
                bodies.append(o)
                report.count(o.status, o.error_type, o.status == 404)
                if o.status != 404:
                    wrong.append(f"{method} {path}: {o.status}")
            fb = await request(
                bob,
                "POST",
                "/v1/feedback",
                json={"thread_id": thread_id, "rating": -1, "comment": "not mine"},
            )
            report.count(fb.status, fb.error_type, fb.status == 404)
            wrong += [] if fb.status == 404 else [f"POST /v1/feedback: {fb.status}"]
            gone = await request(bob, "DELETE", f"/v1/threads/{thread_id}")
            wrong += [] if gone.status in (404, 405) else [f"DELETE: {gone.status}"]
        async with stack.client("alice", stack.peer) as alice_peer:
            own = await request(alice_peer, "GET", f"/v1/threads/{thread_id}/feedback")
    report.check(
        "another key gets 404 for every thread and feedback route, on both servers",
        not wrong,
        "; ".join(wrong),
    )
    report.check(
        "the owner reads the thread and its feedback unchanged on the other server",
        own.ok and own.body.get("rating") == 1 and own.body.get("comment") == "mine",
    )


async def _shared_limit(stack: Stack, report: Scenario) -> None:
    per_minute, burst = KEYS["limited"]
    started = time.monotonic()
    async with stack.client("limited") as a, stack.client("limited", stack.peer) as b:
        outcomes = await asyncio.gather(
            *(request(c, "GET", "/v1/threads/none") for _ in range(10) for c in (a, b))
        )
    elapsed = time.monotonic() - started
    allowed = sum(o.status != 429 for o in outcomes)
    budget = burst + math.ceil(elapsed * per_minute / 60)
    for o in outcomes:
        report.count(o.status, o.error_type, o.status == 404)
    report.figures["rate limit across 2 processes"] = (
        f"{allowed} of {len(outcomes)} let through in {elapsed:.1f} s "
        f"(budget {budget}: burst {burst} + {per_minute}/min)"
    )
    report.check("one key's rate limit holds across both processes", allowed <= budget)
    report.check(
        "every refusal is 429 with Retry-After",
        all(o.retry_after for o in outcomes if o.status == 429),
    )
