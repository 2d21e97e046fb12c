"""Benchmark of batching: the same tasks run one at a time and then with bounded concurrency
(`graph.runner.run_many`, as `refinery run --input` does), in one run, against the fake model
server at a fixed latency. The response cache is off, so the second pass cannot replay the first.

Run: `.venv/bin/python -m bench.batch --limit 12 --latency-ms 200 --concurrency 8`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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


async def main(args: argparse.Namespace) -> None:
    from testkit.fake_openai import FakeOpenAI

    fake = FakeOpenAI(latency_s=args.latency_ms / 1000).serve()
    os.environ["REFINERY_OPENAI_BASE_URL"] = fake.base_url  # before settings are first read
    os.environ["REFINERY_LLM_CACHE"] = "false"
    from core.llm.stats import llm_stats
    from graph.builder import build_graph

    tasks = load_tasks(args.input, args.limit)
    graph = build_graph(None)
    await timed_pass(graph, tasks[:1], 1)  # warm-up: imports, lemmatiser, clients
    one = await timed_pass(graph, tasks, 1)
    many = await timed_pass(graph, tasks, args.concurrency)
    fake.stop()
    print(
        f"{len(tasks)} tasks, fake model latency {args.latency_ms:.0f} ms, {os.cpu_count()} cores"
    )
    for row in (one, many):
        print(
            f"  concurrency {row['concurrency']:>2}: {row['wall_s']:7.2f} s  "
            f"{row['tasks_per_s']:6.2f} tasks/s  {row['calls']} model calls  "
            f"{row['failed']} failed"
        )
    print(f"throughput gain: {many['tasks_per_s'] / one['tasks_per_s']:.2f}x")
    print(f"model layer: {llm_stats().snapshot().model_dump(exclude={'retry_delays_s'})}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
