"""Load benchmark of the HTTP API against calling the graph in-process, in one run.

Run: `.venv/bin/python -m bench.api_load` (starts its own redis-server, a fake model server
speaking the OpenAI protocol at a fixed 50 ms a call, and `refinery serve` on loopback).

1. Latency p50/p99 and throughput at 1, 10 and 100 concurrent streams: the API path
   (POST /v1/refinements/stream read to its `result` event) against the same graph run in this
   process with the same stream modes, rounds interleaved; the ratio API / in-process and the
   p99 added latency.
2. Twice the capacity: a server with `--capacity` runs at once (and a queue of a quarter of
   that) under a closed loop of twice as many clients, a tenth of them high priority, against
   the same server at its capacity: 503s, throughput, and latency by priority.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.checkpoints import loopback_redis
from core.processes import free_port, stop_process
from testkit.balancer import wait_http

CONCURRENCY = (1, 10, 100)
REQUEST = {"task": "Write a story.", "constraints": {"required_words": ["cat", "dog", "moon"]}}
SERVE = [sys.executable, "-c", "from api.cli.main import app; app()", "serve"]


@contextlib.contextmanager
def child(
    args: list[str], env: dict[str, str], ready_url: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_http(ready_url, process, 180, log)
        yield process
    finally:
        stop_process(process)


def fixed_limit(running: int) -> dict[str, str]:
    """Settings that pin the scheduler's adaptive limit at `running`: the bench measures the
    API path and its overload behaviour at a known capacity, not the AIMD ramp."""
    value = str(running)
    return {
        "REFINERY_API_MAX_RUNNING": value,
        "REFINERY_ADMISSION_MIN": value,
        "REFINERY_ADMISSION_MAX": value,
        "REFINERY_ADMISSION_INITIAL": value,
    }


def bench_env(fake_url: str, redis_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFINERY_")}
    env.update(
        {
            "REFINERY_OPENAI_BASE_URL": fake_url,
            "REDIS_URL": redis_url,
            "REFINERY_REDIS_KEY_PREFIX": f"bench{uuid.uuid4().hex[:6]}",
            "REFINERY_DATA_DIR": str(workdir / "data"),
            "REFINERY_LLM_CACHE": "false",
            "REFINERY_LLM_LOCAL_FALLBACK": "false",
            "REFINERY_LOG_LEVEL": "WARNING",
            "REFINERY_LOG_FORMAT": "text",
            "REFINERY_API_RATE_PER_MINUTE": "1000000",
            "REFINERY_API_RATE_BURST": "100000",
            **extra,
        }
    )
    return env


def client_limits(connections: int) -> httpx.Limits:
    """The load generator's pool: idle connections expire at 2 s, before uvicorn's 5 s
    keep-alive closes them (a request sent on one the server is closing fails with ReadError)."""
    return httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2.0
    )


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the two paths --------------------------------------------------------------------------


async def api_stream(client: httpx.AsyncClient, body: dict[str, Any]) -> tuple[int, float, float]:
    """One streamed run over HTTP: (status, seconds until the stream ends with `result`)."""
    started = time.perf_counter()
    async with client.stream("POST", "/v1/refinements/stream", json=body) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        return response.status_code, seconds, float(response.headers.get("retry-after", 1))
    last = raw.rstrip().rsplit(b"\n\n", 1)[-1]
    if not last.startswith((b"event: result", b"event: error")):
        return 598, seconds, 0.0
    payload = json.loads(last.split(b"\ndata: ", 1)[1].split(b"\nid: ", 1)[0])
    if last.startswith(b"event: error"):  # shed from the queue after the stream began
        shed = payload.get("type") == "overloaded"
        return (503 if shed else 599), seconds, float(payload.get("retry_after_s") or 1)
    return (200 if payload.get("answer") else 599), seconds, 0.0


async def inprocess_stream(graph: Any, body: dict[str, Any]) -> float:
    """The same run in this process, with the API's stream modes, every chunk consumed."""
    started = time.perf_counter()
    config = {"configurable": {"thread_id": uuid.uuid4().hex}}
    final: dict[str, Any] = {}
    modes = ["updates", "messages", "values"]
    async for mode, chunk in graph.astream(dict(body), config, stream_mode=modes):
        if mode == "values":
            final = chunk
    assert final.get("answer"), "the run finished without an answer"
    return time.perf_counter() - started


@dataclass
class Round:
    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: int = 0
    cpu_s: float = 0.0
    """CPU seconds spent on the round: this process, plus the server's for the API path."""
    server_cpu_s: float = 0.0
    """The server's share of `cpu_s` (the API path only)."""

    def add(self, other: Round) -> None:
        self.latencies += other.latencies
        self.wall_s += other.wall_s
        self.errors += other.errors
        self.cpu_s += other.cpu_s
        self.server_cpu_s += other.server_cpu_s


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def api_round(client: httpx.AsyncClient, concurrency: int, server_pid: int) -> Round:
    started, cpu, server = time.perf_counter(), time.process_time(), cpu_s(server_pid)
    outcomes = await asyncio.gather(*(api_stream(client, REQUEST) for _ in range(concurrency)))
    server = cpu_s(server_pid) - server
    used = time.process_time() - cpu + server
    result = Round(wall_s=time.perf_counter() - started, cpu_s=used, server_cpu_s=server)
    for status, seconds, _ in outcomes:
        if status == 200:
            result.latencies.append(seconds)
        else:
            result.errors += 1
    return result


async def inprocess_round(graph: Any, concurrency: int) -> Round:
    started, cpu = time.perf_counter(), time.process_time()
    runs = [inprocess_stream(graph, REQUEST) for _ in range(concurrency)]
    latencies = await asyncio.gather(*runs)
    return Round(list(latencies), time.perf_counter() - started, 0, time.process_time() - cpu)


async def compare(base_url: str, rounds: int, server_pid: int) -> list[dict[str, Any]]:
    """Part 1: both paths at each concurrency, rounds interleaved so drift hits both alike."""
    from core.checkpoint.factory import aget_checkpointer
    from graph.builder import build_graph

    graph = build_graph(await aget_checkpointer())
    limits = client_limits(500)
    rows = []
    async with httpx.AsyncClient(base_url=base_url, timeout=300, limits=limits) as client:
        await api_round(client, 5, server_pid)
        await inprocess_round(graph, 5)  # warm both
        for concurrency in CONCURRENCY:
            api, local = Round(), Round()
            n = max(rounds, 30 // concurrency)
            for i in range(n):  # alternate which side goes first, so neither is always warmer
                if i % 2 == 0:
                    local.add(await inprocess_round(graph, concurrency))
                api.add(await api_round(client, concurrency, server_pid))
                if i % 2 == 1:
                    local.add(await inprocess_round(graph, concurrency))
            rows.append(summarise(concurrency, api, local))
            print_row(rows[-1])
    return rows


def summarise(concurrency: int, api: Round, local: Round) -> dict[str, Any]:
    def stats(r: Round) -> dict[str, float]:
        return {
            "p50_ms": 1000 * pct(r.latencies, 50),
            "p99_ms": 1000 * pct(r.latencies, 99),
            "runs_per_s": len(r.latencies) / r.wall_s,
            "mean_ms": 1000 * statistics.fmean(r.latencies),
            "cpu_ms_per_run": 1000 * r.cpu_s / max(1, len(r.latencies)),
            "server_cpu_ms_per_run": 1000 * r.server_cpu_s / max(1, len(r.latencies)),
        }

    a, b = stats(api), stats(local)
    return {
        "concurrency": concurrency,
        "runs": len(api.latencies),
        "api_errors": api.errors,
        "api": a,
        "inprocess": b,
        "ratio_p50": a["p50_ms"] / b["p50_ms"],
        "ratio_p99": a["p99_ms"] / b["p99_ms"],
        "ratio_throughput": b["runs_per_s"] / a["runs_per_s"],
        "added_p50_ms": a["p50_ms"] - b["p50_ms"],
        "added_p99_ms": a["p99_ms"] - b["p99_ms"],
        "ratio_cpu": a["cpu_ms_per_run"] / b["cpu_ms_per_run"],
    }


def print_row(row: dict[str, Any]) -> None:
    a, b = row["api"], row["inprocess"]
    print(
        f"{row['concurrency']:>4} streams x{row['runs']:>4} | in-process p50 {b['p50_ms']:7.1f} "
        f"p99 {b['p99_ms']:7.1f} ms {b['runs_per_s']:6.1f}/s | API p50 {a['p50_ms']:7.1f} "
        f"p99 {a['p99_ms']:7.1f} ms {a['runs_per_s']:6.1f}/s | ratio p50 {row['ratio_p50']:.3f} "
        f"p99 {row['ratio_p99']:.3f} thr {row['ratio_throughput']:.3f} | added p99 "
        f"{row['added_p99_ms']:+.1f} ms | CPU/run in-process {b['cpu_ms_per_run']:.1f} ms, API "
        f"{a['cpu_ms_per_run']:.1f} ms (server {a['server_cpu_ms_per_run']:.1f} + client), ratio "
        f"{row['ratio_cpu']:.3f} | "
        f"errors {row['api_errors']}",
        flush=True,
    )


# --- twice the capacity -----------------------------------------------------------------------


@dataclass
class LoadResult:
    clients: int
    ok: dict[str, list[float]] = field(default_factory=lambda: {"high": [], "normal": []})
    refused: int = 0
    failed: int = 0
    wall_s: float = 0.0


async def closed_loop(
    base_url: str, clients: int, duration_s: float, backoff_s: float | None
) -> LoadResult:
    """`clients` loops, each sending a run after the last one ends, and after a 503 waiting
    `backoff_s` (None: the Retry-After the server sent); every tenth client is high priority."""
    result = LoadResult(clients)
    stop_at = time.perf_counter() + duration_s
    limits = client_limits(1000)

    async def loop(index: int, client: httpx.AsyncClient) -> None:
        priority = "high" if index % 10 == 0 else "normal"
        while time.perf_counter() < stop_at:
            status, seconds, retry_after = await api_stream(
                client, REQUEST | {"priority": priority}
            )
            if status == 200:
                result.ok[priority].append(seconds)
            elif status == 503:
                result.refused += 1
                await asyncio.sleep(retry_after if backoff_s is None else backoff_s)
            else:
                result.failed += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=300, limits=limits) as client:
        await asyncio.gather(*(loop(i, client) for i in range(clients)))
    result.wall_s = time.perf_counter() - started
    return result


def print_load(label: str, r: LoadResult, server_cpu_s: float) -> dict[str, Any]:
    done = len(r.ok["high"]) + len(r.ok["normal"])
    row = {
        "label": label,
        "clients": r.clients,
        "completed": done,
        "refused_503": r.refused,
        "failed": r.failed,
        "runs_per_s": done / r.wall_s,
        "server_cpu_share": server_cpu_s / r.wall_s,
        "server_cpu_ms_per_run": 1000 * server_cpu_s / max(1, done),
        **{f"{p}_p50_ms": 1000 * pct(r.ok[p], 50) for p in ("high", "normal")},
        **{f"{p}_p99_ms": 1000 * pct(r.ok[p], 99) for p in ("high", "normal")},
    }
    print(
        f"{label:<16} {r.clients:>4} clients | {done:>5} done {r.refused:>5} x 503 "
        f"{r.failed} failed | {row['runs_per_s']:6.1f} runs/s | high p50 "
        f"{row['high_p50_ms']:7.1f} p99 {row['high_p99_ms']:7.1f} ms | normal p50 "
        f"{row['normal_p50_ms']:7.1f} p99 {row['normal_p99_ms']:7.1f} ms | server CPU "
        f"{row['server_cpu_share']:.2f} cores, {row['server_cpu_ms_per_run']:.0f} ms a run",
        flush=True,
    )
    return row


def pooled(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two runs of one load level as one row: the mean of every figure."""
    return {k: (a[k] + b[k]) / 2 if isinstance(a[k], int | float) else a[k] for k in a}


# --- main -------------------------------------------------------------------------------------


def run(coroutine: Any) -> Any:
    """On uvloop, as uvicorn runs the server, so both paths get the same event loop."""
    import uvloop

    return uvloop.run(coroutine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="Rounds per concurrency level.")
    parser.add_argument("--capacity", type=int, default=20, help="Runs at once, part 2.")
    parser.add_argument("--duration", type=float, default=15.0, help="Seconds per load phase.")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--backoff-ms",
        type=float,
        default=None,
        help="Wait after a 503 (default: the server's Retry-After).",
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    fake_port, api_port, small_port = free_port(), free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}/v1"
    fake_args = [
        sys.executable,
        "-m",
        "testkit.fake_openai",
        "--port",
        str(fake_port),
        "--latency-ms",
        str(args.latency_ms),
    ]
    with (
        loopback_redis() as redis_url,
        child(fake_args, dict(os.environ), f"{fake_url}/models", workdir / "fake.log"),
    ):
        env = bench_env(
            fake_url, redis_url, workdir, REFINERY_API_MAX_QUEUE="256", **fixed_limit(256)
        )
        os.environ.update(env)  # the in-process graph reads the same settings
        print(
            f"conditions: fake model at {args.latency_ms:.0f} ms a call; {os.cpu_count()} CPUs; "
            "in-process and API rounds alternate which goes first; load levels run 1x, 2x, 2x, 1x",
            flush=True,
        )
        print("part 1: API stream vs in-process graph stream, same run", flush=True)
        with child(
            [*SERVE, "--port", str(api_port)],
            env,
            f"http://127.0.0.1:{api_port}/healthz",
            workdir / "api.log",
        ) as server:
            rows = run(compare(f"http://127.0.0.1:{api_port}", args.rounds, server.pid))

        cap = args.capacity
        small = bench_env(
            fake_url,
            redis_url,
            workdir,
            **fixed_limit(cap),
            REFINERY_API_MAX_QUEUE=str(max(1, cap // 4)),
        )
        print(f"part 2: capacity {cap} running + {max(1, cap // 4)} queued", flush=True)
        url = f"http://127.0.0.1:{small_port}"
        with child(
            [*SERVE, "--port", str(small_port)], small, f"{url}/healthz", workdir / "small.log"
        ) as server:
            backoff = None if args.backoff_ms is None else args.backoff_ms / 1000
            run(closed_loop(url, cap // 2, 3.0, backoff))  # warm
            rows_load = []
            # at capacity, 2x, 2x, at capacity: each load level goes first once; the two runs of
            # a level are averaged field by field
            levels = (("at capacity", cap), ("2x capacity", 2 * cap))
            for label, clients in (*levels, *levels[::-1]):
                before = cpu_s(server.pid)
                result = run(closed_loop(url, clients, args.duration, backoff))
                rows_load.append(print_load(label, result, cpu_s(server.pid) - before))
            at, over = (pooled(rows_load[i], rows_load[3 - i]) for i in (0, 1))
        print(
            f"2x vs 1x: throughput {over['runs_per_s'] / at['runs_per_s']:.2f}x, high-priority "
            f"p99 {over['high_p99_ms'] / at['high_p99_ms']:.2f}x, normal p99 "
            f"{over['normal_p99_ms'] / at['normal_p99_ms']:.2f}x",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"compare": rows, "load": [at, over]}, indent=2))


if __name__ == "__main__":
    main()
