"""What the OpenAI-compatible layer costs: `POST /v1/chat/completions` against the native
`POST /v1/refinements` on the same requests, in one run, on one server.

Run: `.venv/bin/python -m bench.compat_overhead` (starts its own redis-server, the fake model
server speaking the OpenAI protocol, by default answering at once so that the layer's own cost is
as large a share as it can be, and `refinery serve` on loopback).

Both sides refine the same task with the same required words (the chat request carries them in
its `refinery` extension, the one user message is the task as it is), so every run does the same
work: the same model calls and the same answer, checked. Four pairs are measured: not streamed
and streamed, one request at a time and ten at once. Streamed, the native side carries the
writers' tokens as they come and ends with its `result` event; the chat side streams the final
answer only (progress as comments, the answer's chunks, `[DONE]`), as it does for its clients.
Each round sends one side's requests then the other's, the order reversed every round, so drift
hits both alike. Per side: latency p50 and p99, and the server's CPU per request (from /proc).
The ratio is compat / native. The response cache is off and checked: the server's metrics count
no cache hit, and every run gave the same answer with the same number of model calls.

    .venv/bin/python -m bench.compat_overhead [--rounds 200] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.api_load import SERVE, bench_env, child, cpu_s, fixed_limit, pct
from bench.checkpoints import loopback_redis
from core.processes import free_port

WORDS = ["cat", "dog", "moon", "river"]
TASK = "Write a story."
NATIVE = {"task": TASK, "constraints": {"required_words": WORDS}}
COMPAT = {
    "model": "refinery-refine_default",
    "messages": [{"role": "user", "content": TASK}],
    "refinery": {"constraints": {"required_words": WORDS}},
}
CONCURRENCY = (1, 10)

Outcome = tuple[str, int]
"""What one run returned: its answer and its number of model calls."""


async def native(client: httpx.AsyncClient) -> Outcome:
    response = await client.post("/v1/refinements", json=NATIVE)
    response.raise_for_status()
    body = response.json()
    return body["answer"], body["usage"]["calls"]


async def compat(client: httpx.AsyncClient) -> Outcome:
    response = await client.post("/v1/chat/completions", json=COMPAT)
    response.raise_for_status()
    body = response.json()
    return body["choices"][0]["message"]["content"], body["refinery"]["usage"]["calls"]


async def native_stream(client: httpx.AsyncClient) -> Outcome:
    """The native stream read to its end; the `result` event's answer."""
    async with client.stream("POST", "/v1/refinements/stream", json=NATIVE) as response:
        raw = (await response.aread()).decode()
    last = raw.rstrip().rsplit("\n\n", 1)[-1]
    assert last.startswith("event: result"), last[:200]
    body = json.loads(last.split("\ndata: ", 1)[1].split("\nid: ", 1)[0])
    return body["answer"], body["usage"]["calls"]


async def compat_stream(client: httpx.AsyncClient) -> Outcome:
    """The OpenAI stream read to `[DONE]`; the chunks' text, the finish chunk's run."""
    body = COMPAT | {"stream": True}
    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
        raw = (await response.aread()).decode()
    events = [e.removeprefix("data: ") for e in raw.split("\n\n") if e.startswith("data: ")]
    assert events[-1] == "[DONE]", events[-1][:200]
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    return text, chunks[-1]["refinery"]["usage"]["calls"]


Send = Callable[[httpx.AsyncClient], Awaitable[Outcome]]
PAIRS: dict[str, tuple[Send, Send]] = {
    "complete": (native, compat),
    "stream": (native_stream, compat_stream),
}


@dataclass
class Side:
    latencies: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0
    outcomes: set[Outcome] = field(default_factory=set)

    def row(self) -> dict[str, float]:
        return {
            "p50_ms": 1000 * pct(self.latencies, 50),
            "p99_ms": 1000 * pct(self.latencies, 99),
            "cpu_ms": 1000 * self.server_cpu_s / len(self.latencies),
        }


async def one_round(
    client: httpx.AsyncClient, send: Send, concurrency: int, side: Side, pid: int
) -> None:
    """`concurrency` requests of one side at once, each timed, the server's CPU counted."""

    async def timed() -> None:
        started = time.perf_counter()
        side.outcomes.add(await send(client))
        side.latencies.append(time.perf_counter() - started)

    before = cpu_s(pid)
    await asyncio.gather(*(timed() for _ in range(concurrency)))
    side.server_cpu_s += cpu_s(pid) - before


async def measure(base_url: str, rounds: int, pid: int) -> list[dict[str, Any]]:
    rows = []
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        for sends in PAIRS.values():  # warm both paths
            for send in sends:
                for _ in range(5):
                    await send(client)
        for concurrency in CONCURRENCY:
            for mode, (base, layered) in PAIRS.items():
                sides = {"native": Side(), "compat": Side()}
                order = [("native", base), ("compat", layered)]
                for i in range(max(3, rounds // concurrency)):
                    for name, send in order if i % 2 == 0 else order[::-1]:
                        await one_round(client, send, concurrency, sides[name], pid)
                rows.append(summarise(mode, concurrency, sides["native"], sides["compat"]))
                print_row(rows[-1])
    return rows


def summarise(mode: str, concurrency: int, base: Side, layered: Side) -> dict[str, Any]:
    outcomes = base.outcomes | layered.outcomes
    if len(outcomes) != 1:  # the same work on both sides, every time
        raise SystemExit(f"{mode} x{concurrency}: runs differ between or within sides: {outcomes}")
    a, b = base.row(), layered.row()
    return {
        "mode": mode,
        "concurrency": concurrency,
        "requests": len(base.latencies),
        "model_calls": next(iter(outcomes))[1],
        "native": a,
        "compat": b,
        "ratio_p50": b["p50_ms"] / a["p50_ms"],
        "ratio_p99": b["p99_ms"] / a["p99_ms"],
        "added_p50_ms": b["p50_ms"] - a["p50_ms"],
        "ratio_cpu": b["cpu_ms"] / a["cpu_ms"],
        "added_cpu_ms": b["cpu_ms"] - a["cpu_ms"],
    }


def print_row(row: dict[str, Any]) -> None:
    a, b = row["native"], row["compat"]
    print(
        f"{row['mode']:<8} x{row['concurrency']:<3} {row['requests']:>4} each | native p50 "
        f"{a['p50_ms']:7.1f} p99 {a['p99_ms']:7.1f} ms, CPU {a['cpu_ms']:6.1f} ms | compat p50 "
        f"{b['p50_ms']:7.1f} p99 {b['p99_ms']:7.1f} ms, CPU {b['cpu_ms']:6.1f} ms | ratio p50 "
        f"{row['ratio_p50']:.3f} p99 {row['ratio_p99']:.3f} CPU {row['ratio_cpu']:.3f} | added "
        f"p50 {row['added_p50_ms']:+.2f} ms, CPU {row['added_cpu_ms']:+.2f} ms a request",
        flush=True,
    )


def cache_hits(base_url: str) -> float:
    """Response cache hits the server's metrics count (every layer)."""
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("refinery_llm_cache_lookups_total") and 'result="hit"' in line
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rounds", type=int, default=200, help="Rounds at concurrency 1 (a tenth at 10)."
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="The fake model's latency.")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-compat-"))
    fake_port, api_port = free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}/v1"
    fake = [sys.executable, "-m", "testkit.fake_openai", "--port", str(fake_port)]
    fake += ["--latency-ms", str(args.latency_ms)]
    with (
        loopback_redis() as redis_url,
        child(fake, dict(os.environ), f"{fake_url}/models", workdir / "fake.log"),
    ):
        env = bench_env(
            fake_url, redis_url, workdir, REFINERY_API_MAX_QUEUE="64", **fixed_limit(16)
        )
        base_url = f"http://127.0.0.1:{api_port}"
        print(
            f"conditions: one `refinery serve` (uvicorn, 1 worker, 16 runs at once), fake model "
            f"at {args.latency_ms:.0f} ms a call, response cache "
            f"{'off' if env['REFINERY_LLM_CACHE'] == 'false' else 'ON'}; {os.cpu_count()} CPUs "
            f"shared by server, Redis, fake model and client; task {TASK!r} with required words "
            f"{', '.join(WORDS)}; native and compat alternate which goes first each round; "
            "streamed, the native side also carries the writers' tokens",
            flush=True,
        )
        with child(
            [*SERVE, "--port", str(api_port)], env, f"{base_url}/healthz", workdir / "api.log"
        ) as server:
            asyncio.run(measure(base_url, args.rounds, server.pid))
            hits = cache_hits(base_url)
    if hits:
        raise SystemExit(f"the response cache served {hits:.0f} hits: the figures are void")
    print(
        "checked: no response-cache hit; every run on both sides gave the same answer with the "
        "same number of model calls"
    )


if __name__ == "__main__":
    main()
