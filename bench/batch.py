"""Benchmark of batching: the same tasks run one at a time and with bounded concurrency
(`graph.runner.run_many`, as `refinery run --input` does), in one run, against the fake model
server at a fixed latency per generation and at most `--parallel` generations at once (a real
server's slots: llama-cpp-python's `n_parallel`, vLLM's batch; an unlimited fake would credit
batching with parallelism no model server has). Passes alternate (one, many, many, one, ...
over `--repeats` pairs), so neither side always meets the warmer process; the response cache is
off and checked, so no pass can replay another.

Run: `.venv/bin/python -m bench.batch --limit 12 --latency-ms 200 --concurrency 8 --parallel 4`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from evals.datasets import DATA_DIR

DATA = DATA_DIR / "commongen_hard_dev.jsonl"


def load_tasks(path: Path, limit: int) -> list[dict[str, Any]]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines[:limit]]


async def timed_pass(graph: Any, tasks: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    from graph.runner import run_many

    started = time.perf_counter()
    results = await run_many(graph, tasks, concurrency=concurrency)
    wall = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "wall_s": wall,
        "tasks_per_s": len(tasks) / wall,
        "failed": sum(1 for r in results if r.error),
        "calls": sum(r.usage.calls for r in results),
    }


def order(concurrency: int, repeats: int) -> list[int]:
    """One, many, many, one, ...: each side goes first as often as the other."""
    pair = [1, concurrency]
    return [c for i in range(repeats) for c in (pair if i % 2 == 0 else pair[::-1])]


def mean_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "concurrency": rows[0]["concurrency"],
        "wall_s": statistics.mean(r["wall_s"] for r in rows),
        "tasks_per_s": statistics.mean(r["tasks_per_s"] for r in rows),
        "failed": sum(r["failed"] for r in rows),
        "calls": sum(r["calls"] for r in rows) // len(rows),
    }


async def main(args: argparse.Namespace) -> None:
    from testkit.fake_openai import FakeOpenAI

    fake = FakeOpenAI(latency_s=args.latency_ms / 1000, parallel=args.parallel or None).serve()
    os.environ["REFINERY_OPENAI_BASE_URL"] = fake.base_url  # before settings are first read
    os.environ["REFINERY_LLM_CACHE"] = "false"
    from core.llm.stats import llm_stats
    from core.settings import get_settings
    from graph.builder import build_graph

    tasks = load_tasks(args.input, args.limit)
    graph = build_graph(None)
    await timed_pass(graph, tasks[:1], 1)  # warm-up: imports, lemmatiser, clients
    passes: dict[int, list[dict[str, Any]]] = {1: [], args.concurrency: []}
    for concurrency in order(args.concurrency, args.repeats):
        passes[concurrency].append(await timed_pass(graph, tasks, concurrency))
    fake.stop()
    stats = llm_stats().snapshot()
    hits = sum(stats.cache_hits.values())
    if get_settings().llm_cache or hits:
        raise SystemExit(f"the response cache was on or hit ({hits} hits): figures void")
    print(
        f"conditions: {len(tasks)} tasks of {args.input.name}; fake model {args.latency_ms:.0f} ms "
        f"a generation, {args.parallel or 'unlimited'} at once (most seen: {fake.max_active}); "
        f"{os.cpu_count()} cores; order {order(args.concurrency, args.repeats)}, mean of "
        f"{args.repeats} passes each; response cache off, no hit"
    )
    one, many = mean_row(passes[1]), mean_row(passes[args.concurrency])
    for row in (one, many):
        print(
            f"  concurrency {row['concurrency']:>2}: {row['wall_s']:7.2f} s  "
            f"{row['tasks_per_s']:6.2f} tasks/s  {row['calls']} model calls a pass  "
            f"{row['failed']} failed"
        )
    print(f"throughput gain: {many['tasks_per_s'] / one['tasks_per_s']:.2f}x")
    print(f"model layer: {stats.model_dump(exclude={'retry_delays_s'})}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--parallel", type=int, default=4, help="fake generation slots (0: unlimited, unfair)"
    )
    parser.add_argument("--repeats", type=int, default=2, help="passes of each side")
    asyncio.run(main(parser.parse_args()))
