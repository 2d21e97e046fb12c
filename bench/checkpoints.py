"""Benchmark of checkpoint savers: this RedisSaver, InMemorySaver and plainredis, in one run.

Run: `.venv/bin/python -m bench.checkpoints` (starts its own redis-server on loopback).
Prints put/get latency (p50/p99) and throughput at 1, 10 and 100 concurrent threads; bytes
stored after 1, 4 and 16 loop iterations; a 3-node loop graph (4 iterations) with each saver
against the same graph without a checkpointer; and the bytes this saver stores for the real
refinement graph (on the fake model, which covers one required word per sub-task, so the loop
runs every round it is allowed) after 1, 4 and 16 iterations.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import redis
import redis.asyncio as aredis
from langgraph.checkpoint.base import BaseCheckpointSaver, Checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph_checkpoint_plainredis import AsyncRedisSaver as PlainRedisSaver

from core.checkpoint import RedisSaver

REDIS_SERVER = "/usr/bin/redis-server"
CONCURRENCY = (1, 10, 100)
ITERATIONS = (1, 4, 16)

# --- a Redis of our own -------------------------------------------------------------------------


@contextlib.contextmanager
def loopback_redis() -> Iterator[str]:
    """Debian's redis-server on a free loopback port, in a temp dir, no persistence."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)]
    process = subprocess.Popen(
        [*args, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(500):
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            time.sleep(0.01)
        client.close()
        yield url
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


# --- the savers under test ----------------------------------------------------------------------

SaverFactory = Callable[[str], contextlib.AbstractAsyncContextManager[BaseCheckpointSaver]]


@contextlib.asynccontextmanager
async def refinery_saver(url: str) -> AsyncIterator[BaseCheckpointSaver]:
    async with RedisSaver.from_conn_string(url, key_prefix=f"b{uuid.uuid4().hex[:6]}") as saver:
        yield saver


@contextlib.asynccontextmanager
async def memory_saver(url: str) -> AsyncIterator[BaseCheckpointSaver]:
    yield InMemorySaver()


@contextlib.asynccontextmanager
async def plain_saver(url: str) -> AsyncIterator[BaseCheckpointSaver]:
    # The same blocking pool of 32 as ours: its default pool fails at high concurrency.
    pool = aredis.BlockingConnectionPool.from_url(url, max_connections=32, timeout=60)
    client = aredis.Redis(connection_pool=pool)
    yield PlainRedisSaver(client, prefix=f"p{uuid.uuid4().hex[:6]}")
    await pool.disconnect()


SAVERS: dict[str, SaverFactory] = {
    "refinery RedisSaver": refinery_saver,
    "InMemorySaver": memory_saver,
    "plainredis": plain_saver,
}

# --- put and get --------------------------------------------------------------------------------

TEXT = "The quick brown fox jumps over the lazy dog. "


def make_checkpoint(saver: BaseCheckpointSaver, step: int, versions: dict[str, Any]) -> Checkpoint:
    """A loop-shaped checkpoint: the draft, critique, score and iteration change each step."""
    for channel in ("draft", "critique", "score", "iteration"):
        versions[channel] = saver.get_next_version(versions.get(channel), None)
    versions.setdefault("task", saver.get_next_version(None, None))
    return Checkpoint(
        v=4,
        id=str(uuid6(clock_seq=step)),
        ts=datetime.now(UTC).isoformat(),
        channel_values={
            "task": TEXT * 6,
            "draft": f"draft {step}: " + TEXT * 30,
            "critique": f"critique {step}: " + TEXT * 8,
            "score": 0.5 + step / 100,
            "iteration": step,
        },
        channel_versions=dict(versions),
        versions_seen={node: dict(versions) for node in ("draft", "critique", "refine")},
        updated_channels=["draft", "critique", "score", "iteration"],
    )


@dataclass
class OpStats:
    p50_ms: float
    p99_ms: float
    per_s: float


def _stats(latencies: list[float], elapsed: float) -> OpStats:
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return OpStats(statistics.median(latencies) * 1e3, p99 * 1e3, len(latencies) / elapsed)


async def put_get(
    saver: BaseCheckpointSaver, concurrency: int, ops: int
) -> tuple[OpStats, OpStats]:
    """`ops` puts spread over `concurrency` threads (one task each), then as many gets."""
    per_task = max(1, ops // concurrency)
    put_lat: list[float] = []
    get_lat: list[float] = []
    threads = [f"bench-{uuid.uuid4().hex}" for _ in range(concurrency)]

    async def writer(thread_id: str) -> None:
        config: dict[str, Any] = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        versions: dict[str, Any] = {}
        for step in range(per_task):
            checkpoint = make_checkpoint(saver, step, versions)
            new = {k: versions[k] for k in checkpoint["updated_channels"] or []}
            if step == 0:
                new["task"] = versions["task"]
            started = time.perf_counter()
            config = await saver.aput(config, checkpoint, {"source": "loop", "step": step}, new)
            put_lat.append(time.perf_counter() - started)

    async def reader(thread_id: str) -> None:
        config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        for _ in range(per_task):
            started = time.perf_counter()
            assert await saver.aget_tuple(config) is not None
            get_lat.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(writer(t) for t in threads))
    put_elapsed = time.perf_counter() - started
    started = time.perf_counter()
    await asyncio.gather(*(reader(t) for t in threads))
    get_elapsed = time.perf_counter() - started
    return _stats(put_lat, put_elapsed), _stats(get_lat, get_elapsed)


# --- the loop graph -----------------------------------------------------------------------------


class LoopState(TypedDict, total=False):
    task: str
    draft: str
    critique: str
    score: float
    iteration: int
    max_iterations: int


def build_graph() -> StateGraph:
    def draft(state: LoopState) -> LoopState:
        return {"draft": "draft: " + state["task"] * 5, "iteration": 0}

    def critique(state: LoopState) -> LoopState:
        return {"critique": f"critique {state['iteration']}: " + TEXT * 8, "score": 0.5}

    def refine(state: LoopState) -> LoopState:
        step = state["iteration"] + 1
        return {"draft": f"draft {step}: " + TEXT * 30, "iteration": step}

    def again(state: LoopState) -> str:
        return "critique" if state["iteration"] < state["max_iterations"] else END

    builder = StateGraph(LoopState)
    builder.add_node("draft", draft)
    builder.add_node("critique", critique)
    builder.add_node("refine", refine)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "critique")
    builder.add_edge("critique", "refine")
    builder.add_conditional_edges("refine", again, ["critique", END])
    return builder


async def invoke_ms(savers: dict[str, BaseCheckpointSaver | None], runs: int) -> dict[str, float]:
    """Median ms of one 4-iteration invoke per saver; the savers take turns run by run, in a
    shuffled order, so a change in the machine's load (or the wake of the previous turn)
    falls on all of them alike."""
    graphs = {name: build_graph().compile(checkpointer=saver) for name, saver in savers.items()}
    timings: dict[str, list[float]] = {name: [] for name in graphs}
    order = random.Random(0)
    for run in range(runs + 5):  # the first five warm up
        turns = list(graphs.items())
        order.shuffle(turns)
        for name, graph in turns:
            config = {"configurable": {"thread_id": f"graph-{uuid.uuid4().hex}"}}
            started = time.perf_counter()
            await graph.ainvoke({"task": TEXT * 6, "max_iterations": 4}, config)
            if run >= 5:
                timings[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) * 1e3 for name, t in timings.items()}


async def stored_bytes(name: str, url: str, iterations: int) -> tuple[int, int]:
    """(total bytes, checkpoints) of one thread after a run of `iterations` loop iterations."""
    db_url = url.rsplit("/", 1)[0] + "/1"
    admin = aredis.Redis.from_url(db_url)
    await admin.flushdb()
    async with SAVERS[name](db_url) as saver:
        graph = build_graph().compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "size"}}
        await graph.ainvoke({"task": TEXT * 6, "max_iterations": iterations}, config)
        count = len([t async for t in saver.alist(config)])
        if isinstance(saver, InMemorySaver):
            total = _memory_bytes(saver)
        else:
            total = 0
            async for key in admin.scan_iter(count=1000):
                total += await admin.memory_usage(key, samples=0) or 0
    await admin.aclose()
    return total, count


def _memory_bytes(saver: InMemorySaver) -> int:
    total = sum(
        len(c[1]) + len(m[1])
        for ns in saver.storage.values()
        for cps in ns.values()
        for c, m, _ in cps.values()
    )
    total += sum(len(b[1]) for b in saver.blobs.values())
    total += sum(len(w[2][1]) for ws in saver.writes.values() for w in ws.values())
    return total


# --- the refinement graph -----------------------------------------------------------------------

_WORD_LINES = (
    "apple anchor arrow badge basket beacon blanket bottle branch bridge bucket butter button "
    "cabin camera candle canoe carpet castle cellar chalk cherry chimney circle cliff clock cloud "
    "compass copper cotton crayon crown cushion daisy desert dragon drum eagle engine feather "
    "fence flag forest fountain garden garlic ginger glove harbor helmet honey island jacket "
    "kettle ladder lantern lemon letter magnet marble meadow mirror needle novel ocean orchard "
    "paddle parrot pebble pepper piano pillow pocket puzzle rabbit ribbon river saddle sailor",
)
WORDS = [word for line in _WORD_LINES for word in line.split()]
"""More required words than 16 rounds can cover, so no run passes early."""


async def refinement_bytes(url: str) -> dict[int, tuple[int, int, int]]:
    """Iterations -> (bytes, checkpoints, history bytes) of one refinement thread."""
    from core.llm.factory import reset_models
    from core.settings import get_settings
    from testkit.fake_openai import FakeOpenAI, one_word_responder

    fake = FakeOpenAI(responder=one_word_responder).serve()
    presets = Path(tempfile.mkdtemp(prefix="bench-presets-"))
    for n in ITERATIONS:
        rounds = {"max_iterations": n, "plateau_patience": 50, "score_threshold": 1.0}
        (presets / f"rounds_{n}.json").write_text(json.dumps({"description": "bench"} | rounds))
    os.environ["REFINERY_OPENAI_BASE_URL"] = fake.base_url
    os.environ["REFINERY_LLM_CACHE"] = "false"
    os.environ["REFINERY_LLM_LOCAL_FALLBACK"] = "false"
    os.environ["REFINERY_PRESETS_DIR"] = str(presets)
    get_settings.cache_clear()
    reset_models()
    from graph.builder import build_graph

    db_url = url.rsplit("/", 1)[0] + "/2"
    admin = aredis.Redis.from_url(db_url)
    sizes = {}
    async with RedisSaver.from_conn_string(db_url, key_prefix="refine") as saver:
        graph = build_graph(saver)
        for n in ITERATIONS:
            request = {"task": "Write a short story.", "constraints": {"required_words": WORDS}}
            thread_id = f"rounds-{n}-{uuid.uuid4().hex[:8]}"
            config = {"configurable": {"thread_id": thread_id}}
            out = await graph.ainvoke(request | {"config": f"rounds_{n}"}, config)
            assert out["iterations"] == n, out["stop_reason"]
            keys = saver._layout.thread_keys(thread_id)
            total = sum([await admin.memory_usage(k, samples=0) or 0 for k in keys])
            history = len(json.dumps(out["history"]))
            sizes[n] = (total, await admin.zcard(keys[1]), history)
    await admin.aclose()
    fake.stop()
    shutil.rmtree(presets, ignore_errors=True)
    return sizes


# --- report -------------------------------------------------------------------------------------


async def main(ops: int, runs: int) -> None:
    with loopback_redis() as url:
        print(f"redis-server on {url}; {ops} puts then {ops} gets per saver and concurrency\n")
        print(
            f"{'saver':22} {'thr':>4} {'put p50':>9} {'put p99':>9} {'puts/s':>8}"
            f" {'get p50':>9} {'get p99':>9} {'gets/s':>8}   (ms)"
        )
        for name, factory in SAVERS.items():
            async with factory(url) as saver:
                await put_get(saver, 10, 500)  # warm up pools, scripts, caches
                for concurrency in CONCURRENCY:
                    put, get = await put_get(saver, concurrency, ops)
                    print(
                        f"{name:22} {concurrency:>4} {put.p50_ms:>9.3f} {put.p99_ms:>9.3f}"
                        f" {put.per_s:>8.0f} {get.p50_ms:>9.3f} {get.p99_ms:>9.3f}"
                        f" {get.per_s:>8.0f}"
                    )
        print("\nbytes stored by one thread (Redis: MEMORY USAGE of all keys; memory: payloads)")
        for name in SAVERS:
            sizes = {n: await stored_bytes(name, url, n) for n in ITERATIONS}
            cells = "  ".join(
                f"{n:>2} it: {t:>7} B / {c:>2} cp = {t // c:>5} B/cp" for n, (t, c) in sizes.items()
            )
            extra = (sizes[16][0] - sizes[1][0]) / 15
            print(f"{name:22} {cells}  per extra iteration {extra / 1024:.1f} KB")
        print(f"\n3-node loop graph, 4 iterations, median of {runs} ainvoke calls (taking turns)")
        async with contextlib.AsyncExitStack() as stack:
            savers = {name: await stack.enter_async_context(f(url)) for name, f in SAVERS.items()}
            took = await invoke_ms({"no checkpointer": None} | savers, runs)
        baseline = took.pop("no checkpointer")
        print(f"{'no checkpointer':22} {baseline:8.2f} ms")
        for name, ms in took.items():
            print(f"{name:22} {ms:8.2f} ms  {ms / baseline:5.2f}x")
        print("\nthe refinement graph on this saver (fake model; `history` holds every round)")
        sizes = await refinement_bytes(url)
        for n, (total, count, history) in sizes.items():
            print(f"{n:>2} it: {total:>7} B / {count:>2} cp, history {history:>6} B (as JSON)")
        for a, b in ((1, 4), (4, 16)):
            extra = (sizes[b][0] - sizes[a][0]) / (b - a)
            print(f"per extra iteration, {a} -> {b} iterations: {extra / 1024:.1f} KB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=3000, help="puts (and gets) per measurement")
    parser.add_argument("--runs", type=int, default=100, help="graph invocations per saver")
    options = parser.parse_args()
    asyncio.run(main(options.ops, options.runs))
