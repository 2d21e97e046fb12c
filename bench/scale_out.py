"""Throughput with one, two and three API replicas on one Redis behind nginx, in one run.

Run: `.venv/bin/python -m bench.scale_out` (starts its own redis-server, two fake model servers
as processes, three `refinery serve` replicas and Debian's nginx, all on loopback).

The three replicas start once; each measurement runs nginx with the first 1, 2 or 3 of them as
its upstream, so every configuration meets the same processes and the same fake-model load: a
closed loop of `--clients` clients each sending `POST /v1/refinements` until `--runs` runs are
done. Configurations run in the order 1, 2, 3, 3, 2, 1 (drift cancels out), the two results of
each are averaged, and the ratio against one replica is printed.

Two profiles:
- `model-bound`: every model call takes `--latency-ms` and the two model servers generate
  `--model-slots` calls at once each (as llama-cpp-python's `n_parallel` or vLLM's batch do),
  the same servers for every replica count; each replica may run `--capacity` runs at once
  (default: every model slot, so one replica alone can fill the model servers). The model's
  capacity is fixed, so what more replicas add here is what a deployment would see, not a
  figure built in by fakes that serve any number of calls at once.
- `cpu-bound`: model calls answer at once and capacity is ample: the graph's own CPU is the
  limit, and the machine's cores (shared by the replicas, Redis, nginx, the fake models and
  the clients) cap what more replicas can add.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.checkpoints import loopback_redis
from core.processes import stop_process
from testkit.balancer import Nginx, replica_env, start_fake_models, start_replicas

REQUEST = {"task": "Write a story.", "constraints": {"required_words": ["cat", "dog", "moon"]}}
ORDER = (1, 2, 3, 3, 2, 1)


async def closed_loop(base_url: str, clients: int, runs: int) -> dict[str, float]:
    """`clients` clients send runs back to back until `runs` are done: runs/s and latency."""
    latencies: list[float] = []
    failures = 0
    left = runs
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal left, failures
        while left > 0:
            left -= 1
            started = time.perf_counter()
            response = await http.post("/v1/refinements", json=REQUEST)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or not response.json().get("answer"):
                failures += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=300, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "runs_per_s": runs / wall,
        "p50_s": statistics.median(latencies),
        "p95_s": latencies[int(0.95 * (len(latencies) - 1))],
        "failures": failures,
    }


@contextlib.contextmanager
def balancer(workdir: Path, ports: list[int], tag: str) -> Iterator[Nginx]:
    nginx = Nginx(workdir / f"nginx-{tag}", [f"127.0.0.1:{p}" for p in ports]).start()
    try:
        yield nginx
    finally:
        nginx.stop()


def profile(
    redis_url: str, workdir: Path, name: str, latency_ms: float, capacity: int, args: Any
) -> dict[int, dict[str, float]]:
    """One profile: its model servers and replicas, every configuration in `ORDER`."""
    slots = args.model_slots if name == "model-bound" else None
    fakes = start_fake_models(workdir, [latency_ms, latency_ms], parallel=slots)
    endpoints = [{"base_url": url, "weight": 1} for url, _ in fakes]
    env = replica_env(
        redis_url,
        endpoints,
        workdir / name,
        REFINERY_API_MAX_RUNNING=str(capacity),
        REFINERY_ADMISSION_INITIAL=str(capacity),
        REFINERY_ADMISSION_MIN=str(capacity),  # a fixed capacity: the adaptive limit stays put
        REFINERY_API_MAX_QUEUE="1000",
        REFINERY_LLM_TIMEOUT_S="300",
    )
    (workdir / name).mkdir(parents=True, exist_ok=True)
    replicas = start_replicas(env, 3, workdir / name)
    ports = [port for port, _ in replicas]
    samples: dict[int, list[dict[str, float]]] = {n: [] for n in ORDER}
    try:
        with balancer(workdir, ports, f"{name}-warm") as nginx:  # every replica warmed up
            asyncio.run(closed_loop(nginx.base_url, 3, 6))
        for index, count in enumerate(ORDER):
            with balancer(workdir, ports[:count], f"{name}-{index}") as nginx:
                result = asyncio.run(closed_loop(nginx.base_url, args.clients, args.runs))
            samples[count].append(result)
            rate, p50, failed = result["runs_per_s"], result["p50_s"], result["failures"]
            print(
                f"  {name}: {count} replica(s): {rate:.2f} runs/s, p50 {p50:.2f} s, "
                f"{failed:.0f} failed",
                flush=True,
            )
    finally:
        for _, process in replicas:
            stop_process(process)
        for _, process in fakes:
            stop_process(process)
    return {
        n: {k: statistics.fmean(s[k] for s in runs) for k in runs[0]} for n, runs in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--runs", type=int, default=36)
    parser.add_argument("--latency-ms", type=float, default=1000)
    parser.add_argument("--model-slots", type=int, default=4, help="per fake model server")
    parser.add_argument(
        "--capacity", type=int, default=0, help="runs at once per replica (0: all model slots)"
    )
    parser.add_argument("--profiles", default="model-bound,cpu-bound")
    parser.add_argument("--output", type=Path, default=Path("bench/out/scale_out.json"))
    args = parser.parse_args()
    args.capacity = args.capacity or 2 * args.model_slots
    settings = {"model-bound": (args.latency_ms, args.capacity), "cpu-bound": (0.0, 64)}
    report: dict[str, Any] = {
        "clients": args.clients,
        "runs": args.runs,
        "latency_ms": args.latency_ms,
        "capacity": args.capacity,
        "model_slots": {
            "model-bound": 2 * args.model_slots or "unlimited",
            "cpu-bound": "unlimited",
        },
    }
    with loopback_redis() as redis_url, tempfile.TemporaryDirectory() as tmp:
        for name in args.profiles.split(","):
            latency, capacity = settings[name]
            limited = name == "model-bound" and args.model_slots
            slots = f"{2 * args.model_slots}" if limited else "unlimited"
            print(
                f"conditions: {name}: model latency {latency:.0f} ms, {slots} model slots in "
                f"all (2 servers), {capacity} runs at once per replica, {args.clients} clients"
            )
            report[name] = profile(redis_url, Path(tmp), name, latency, capacity, args)
    print(
        f"\n{args.clients} clients, {args.runs} runs per measurement, mean of 2 (order "
        f"{', '.join(map(str, ORDER))})"
    )
    print(f"{'profile':<12} {'replicas':>8} {'runs/s':>8} {'x 1':>6} {'p50 s':>7} {'p95 s':>7}")
    for name in args.profiles.split(","):
        base = report[name][1]["runs_per_s"]
        for count in (1, 2, 3):
            row = report[name][count]
            rate = row["runs_per_s"]
            print(
                f"{name:<12} {count:>8} {rate:>8.2f} {rate / base:>6.2f} "
                f"{row['p50_s']:>7.2f} {row['p95_s']:>7.2f}"
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(f"-> {args.output}")


if __name__ == "__main__":
    main()
