"""The engine's own cost per request: the refinement graph (nodes, validators, routing) with its
checkpoints on a real Redis, with a zero-latency in-process model, against a bare LangGraph loop
of the same node executions on InMemorySaver, measured in the same run. The bare loop on the
same RedisSaver separates what checkpointing to Redis costs from what the engine's nodes cost,
and the engine's skeleton (its graph, state and routers, each node replaying the update it
made in a probe run) separates what the graph's shape costs LangGraph from the nodes' work.

    .venv/bin/python -m bench.overhead [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

import core.llm.factory
from core.checkpoint import RedisSaver
from core.redis.server import async_client
from core.settings import get_settings
from graph.builder import build_graph
from testkit.fake_openai import cooperative_responder
from testkit.redis import RedisProcess

WORDS = ["dog", "snow", "piano", "wine", "rink", "mother", "counter", "tool", "circle", "vest"]
REQUEST = {"task": "Write a short text.", "constraints": {"required_words": WORDS}}


class InstantModel(BaseChatModel):
    """A zero-latency chat model: the fake server's deterministic replies, in process."""

    @property
    def _llm_type(self) -> str:
        return "instant"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        text = cooperative_responder([{"content": m.content} for m in messages])
        usage = {"input_tokens": 50, "output_tokens": 10, "total_tokens": 60}
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(text, usage_metadata=usage))]
        )

    async def _agenerate(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> ChatResult:
        """Answered on the event loop: a zero-latency model has no thread hop to pay for."""
        return self._generate(messages)


class BareState(TypedDict):
    step: int
    text: str


def bare_loop(node_count: int, checkpointer: Any) -> Any:
    """A chain of `node_count` async no-op nodes that each touch the state once."""
    builder = StateGraph(BareState)

    async def node(state: BareState) -> dict[str, Any]:
        return {"step": state["step"] + 1}

    names = [f"n{i}" for i in range(node_count)]
    for name in names:
        builder.add_node(name, node)
    builder.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        builder.add_edge(a, b)
    builder.add_edge(names[-1], END)
    return builder.compile(checkpointer=checkpointer)


def skeleton(engine: CompiledStateGraph, probe: list[dict[str, Any]], checkpointer: Any) -> Any:
    """`engine`'s graph (state schema, edges, routers) with each node replaced by one that
    returns, in turn, the updates it returned in `probe` (one request's `updates` stream): what
    LangGraph spends on this graph's shape and payloads, without the nodes' own work."""
    updates: dict[str, list[Any]] = {}
    for chunk in probe:
        for node, update in chunk.items():
            updates.setdefault(node, []).append(update)

    def replay(name: str) -> Callable[[Any], Awaitable[Any]]:
        turns = itertools.cycle(updates.get(name) or [{}])

        async def node(state: Any) -> Any:
            return next(turns)

        return node

    builder = copy.copy(engine.builder)
    builder.nodes = {
        name: dataclasses.replace(spec, runnable=replay(name), cache_policy=None)
        for name, spec in engine.builder.nodes.items()
    }
    builder.compiled = False
    return builder.compile(checkpointer=checkpointer)


async def timed(run: Callable[[int], Awaitable[Any]], n: int, offset: int = 0) -> list[float]:
    times = []
    for i in range(n):
        start = time.perf_counter()
        await run(offset + i)
        times.append(time.perf_counter() - start)
    return times


def ms(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100)
    return f"p50 {statistics.median(values) * 1e3:7.2f} ms  p99 {q[98] * 1e3:7.2f} ms"


async def wrapper_ms(model: InstantModel, calls: int = 500) -> tuple[float, float]:
    """(ms a call through LangChain's `ainvoke`, ms of the reply alone): what the chat-model
    wrapper (callbacks, run managers, message conversion) costs each call."""
    messages = [HumanMessage("Write ONE short sentence that uses the words: dog, snow.")]
    started = time.perf_counter()
    for _ in range(calls):
        await model.ainvoke(messages)
    wrapped = (time.perf_counter() - started) / calls
    started = time.perf_counter()
    for _ in range(calls):
        model._generate(messages)
    return 1000 * wrapped, 1000 * (time.perf_counter() - started) / calls


async def main(requests: int) -> None:
    model = InstantModel()  # one instance, as `core.llm.factory.chat_model` shares one per role
    core.llm.factory.chat_model = lambda role: model  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisProcess(Path(tmp))
        redis.start()
        try:
            client = async_client(redis.url, get_settings())
            saver = RedisSaver(client, key_prefix="bench-overhead")
            engine = build_graph(saver)
            engine_mem = build_graph(InMemorySaver())
            probe_config = {"configurable": {"thread_id": "probe"}}
            stream = engine_mem.astream(REQUEST, probe_config, stream_mode="updates")
            probe = [update async for update in stream]
            model_calls = (await engine_mem.aget_state(probe_config)).values["usage"]["calls"]
            executions = sum(len(u) for u in probe)
            bare = bare_loop(executions, InMemorySaver())
            bare_redis = bare_loop(executions, saver)
            shape = skeleton(engine_mem, probe, InMemorySaver())

            async def run_engine(i: int) -> None:
                await engine.ainvoke(REQUEST, {"configurable": {"thread_id": f"e{i}"}})

            async def run_engine_mem(i: int) -> None:
                await engine_mem.ainvoke(REQUEST, {"configurable": {"thread_id": f"m{i}"}})

            async def run_bare(i: int) -> None:
                await bare.ainvoke(
                    {"step": 0, "text": ""}, {"configurable": {"thread_id": f"b{i}"}}
                )

            async def run_skeleton(i: int) -> None:
                await shape.ainvoke(REQUEST, {"configurable": {"thread_id": f"s{i}"}})

            async def run_bare_redis(i: int) -> None:
                await bare_redis.ainvoke(
                    {"step": 0, "text": ""}, {"configurable": {"thread_id": f"r{i}"}}
                )

            runs = {
                "engine": run_engine,
                "engine_mem": run_engine_mem,
                "bare": run_bare,
                "bare_redis": run_bare_redis,
                "skeleton": run_skeleton,
            }
            for run in runs.values():  # warm up
                await timed(run, 10, 10**6)
            results: dict[str, list[float]] = {key: [] for key in runs}
            order = list(runs.items())
            for i in range(requests):  # request by request in turn, so load drift hits all alike;
                # the order reverses each request, so no variant always runs first (or last)
                for key, run in order if i % 2 == 0 else order[::-1]:
                    results[key] += await timed(run, 1, 1000 + i)
            wrapped_ms, reply_ms = await wrapper_ms(model)
            await saver.aclose()
        finally:
            redis.stop()

    base = statistics.median(results["bare"])
    print(
        f"conditions: node executions per request: {executions}; requests per variant: "
        f"{requests}, interleaved request by request, variant order reversed every request; "
        f"zero-latency in-process model; {os.cpu_count()} cores"
    )
    print(f"{'bare loop, InMemorySaver':32} {ms(results['bare'])}  1.00x")
    variants = (
        ("bare_redis", "bare loop, RedisSaver"),
        ("skeleton", "engine skeleton, InMemorySaver"),
        ("engine_mem", "engine, InMemorySaver"),
        ("engine", "engine, RedisSaver"),
    )
    for key, label in variants:
        ratio = statistics.median(results[key]) / base
        print(f"{label:32} {ms(results[key])}  {ratio:.2f}x")
    print(
        f"model calls per request: {model_calls}; LangChain's chat-model wrapper "
        f"{wrapped_ms - reply_ms:.3f} ms a call ({model_calls * (wrapped_ms - reply_ms):.2f} ms "
        f"a request) over the reply itself ({reply_ms:.3f} ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    asyncio.run(main(parser.parse_args().requests))
