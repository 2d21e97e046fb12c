"""RedisSaver beyond conformance: sync in async, atomicity, TTL, prefixes, outages, size."""

from __future__ import annotations

import asyncio
import operator
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
import redis
from langgraph.checkpoint.base import Checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.graph import END, START, StateGraph

from core.checkpoint import RedisSaver
from core.redis.server import EmbeddedRedis, RedisUnavailableError, redact_url
from testkit.redis import RedisProcess, free_port


def _checkpoint(values: dict[str, Any], versions: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        v=4,
        id=str(uuid6(clock_seq=-1)),
        ts=datetime.now(UTC).isoformat(),
        channel_values=values,
        channel_versions=versions,
        versions_seen={},
        updated_channels=None,
    )


def _config(thread_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


@pytest.fixture
def saver(redis_url: str) -> Iterator[RedisSaver]:
    with RedisSaver.from_conn_string(redis_url, key_prefix=f"t{uuid.uuid4().hex[:8]}") as s:
        yield s


# --- sync methods inside a running event loop (LangGraph Studio does this) ----------------------


async def test_sync_methods_work_inside_a_running_loop(saver: RedisSaver) -> None:
    asyncio.get_running_loop()  # we are inside one
    thread = uuid.uuid4().hex
    stored = saver.put(_config(thread), _checkpoint({"a": 1}, {"a": "1"}), {"step": 0}, {"a": "1"})
    saver.put_writes(stored, [("a", 2)], "task-1")
    tup = saver.get_tuple(_config(thread))
    assert tup is not None and tup.checkpoint["channel_values"] == {"a": 1}
    assert tup.pending_writes == [("task-1", "a", 2)]
    assert [t.config for t in saver.list(_config(thread))] == [stored]
    assert (await saver.aget_tuple(_config(thread))) == tup


def test_async_methods_work_across_event_loops(saver: RedisSaver) -> None:
    thread = uuid.uuid4().hex
    cp = _checkpoint({"a": 1}, {"a": "1"})
    asyncio.run(saver.aput(_config(thread), cp, {"step": 0}, {"a": "1"}))
    tup = asyncio.run(saver.aget_tuple(_config(thread)))  # a second, fresh loop
    assert tup is not None and tup.checkpoint["id"] == cp["id"]


def test_a_graph_runs_sync_and_async_on_one_saver(saver: RedisSaver) -> None:
    graph = _loop_graph().compile(checkpointer=saver)
    sync_cfg = {"configurable": {"thread_id": uuid.uuid4().hex}}
    assert graph.invoke({"text": "x", "iteration": 0, "limit": 3}, sync_cfg)["iteration"] == 3
    async_cfg = {"configurable": {"thread_id": uuid.uuid4().hex}}
    out = asyncio.run(graph.ainvoke({"text": "x", "iteration": 0, "limit": 3}, async_cfg))
    assert out["iteration"] == 3
    assert len(list(saver.list(sync_cfg))) == len(list(saver.list(async_cfg))) > 3


# --- atomicity ------------------------------------------------------------------------------------


def test_readers_never_see_half_a_put_or_half_a_write_batch(saver: RedisSaver) -> None:
    thread = uuid.uuid4().hex
    stop = threading.Event()
    seen: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            tup = saver.get_tuple(_config(thread))
            if tup is None:
                continue
            values, writes = tup.checkpoint["channel_values"], tup.pending_writes or []
            step = values.get("step")
            if values != {"step": step, "a": f"a{step}", "b": f"b{step}"}:
                seen.append(f"partial checkpoint {values}")
            if len(writes) not in (0, 50):
                seen.append(f"partial writes {len(writes)}")

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for r in readers:
        r.start()
    config = _config(thread)
    for step in range(150):
        versions = {ch: f"{step + 1:010}.000000" for ch in ("step", "a", "b")}
        values = {"step": step, "a": f"a{step}", "b": f"b{step}"}
        config = saver.put(config, _checkpoint(values, versions), {"step": step}, versions)
        saver.put_writes(config, [(f"ch{i}", i) for i in range(50)], f"task-{step}")
    stop.set()
    for r in readers:
        r.join()
    assert seen == []


# --- retention ----------------------------------------------------------------------------------


TTL_S = 3
"""The thread's TTL: Redis expires the keys on its own clock; the test waits for that (the
checks right after the put have these seconds, far more than they take)."""
GUARD_S = 30.0
"""How long the keys may take to expire before the test fails (never reached when it works)."""


def test_ttl_applies_to_every_key_of_a_thread_and_expires_it(redis_url: str) -> None:
    prefix = f"ttl{uuid.uuid4().hex[:6]}"
    with RedisSaver.from_conn_string(redis_url, key_prefix=prefix, ttl_s=TTL_S) as saver:
        thread = uuid.uuid4().hex
        run = uuid.uuid4().hex
        stored = saver.put(
            _config(thread), _checkpoint({"a": 1}, {"a": "1"}), {"run_id": run}, {"a": "1"}
        )
        saver.put_writes(stored, [("a", 2)], "task")
        client = redis.Redis.from_url(redis_url)
        keys = [k.decode() for k in client.keys(f"{prefix}:*")]
        expiring = [k for k in keys if k != f"{prefix}:threads"]
        assert len(expiring) == 6, keys  # cp ix bl wx tr run
        assert all(0 < client.pttl(k) <= TTL_S * 1000 for k in expiring)
        assert [t.thread_id for t in saver.threads()] == [thread]
        deadline = time.monotonic() + GUARD_S
        while client.exists(*expiring):  # Redis expires them: poll, do not guess when
            assert time.monotonic() < deadline, f"not expired: {client.keys(f'{prefix}:*')}"
            time.sleep(0.05)
        assert saver.get_tuple(_config(thread)) is None
        assert saver.threads() == []
        assert client.keys(f"{prefix}:*") == []  # the index dropped the expired thread


# --- prefixes -----------------------------------------------------------------------------------


def test_prefixes_isolate_deployments(redis_url: str) -> None:
    one, two = f"one{uuid.uuid4().hex[:6]}", f"two{uuid.uuid4().hex[:6]}"
    with (
        RedisSaver.from_conn_string(redis_url, key_prefix=one) as a,
        RedisSaver.from_conn_string(redis_url, key_prefix=two) as b,
    ):
        a.put(_config("same"), _checkpoint({"x": "a"}, {"x": "1"}), {}, {"x": "1"})
        assert b.get_tuple(_config("same")) is None
        assert list(b.list(None)) == []
        b.put(_config("same"), _checkpoint({"x": "b"}, {"x": "1"}), {}, {"x": "1"})
        a.delete_thread("same")
        tup = b.get_tuple(_config("same"))
        assert tup is not None and tup.checkpoint["channel_values"] == {"x": "b"}
        client = redis.Redis.from_url(redis_url)
        assert all(k.startswith(two.encode()) for k in client.keys(f"*{two}*"))
        assert client.keys(f"{one}:*") == []


# --- outages ------------------------------------------------------------------------------------


def test_redact_url_hides_credentials() -> None:
    assert redact_url("redis://user:s3cret@db.example:6380/2") == "redis://***@db.example:6380/2"
    assert redact_url("rediss://:s3cret@h/0") == "rediss://***@h/0"
    assert redact_url("unix:///tmp/redis.sock") == "unix:///tmp/redis.sock"


def test_a_down_server_names_the_url_without_credentials() -> None:
    url = f"redis://admin:s3cret@127.0.0.1:{free_port()}/0"
    with RedisSaver.from_conn_string(url) as saver:
        with pytest.raises(RedisUnavailableError) as caught:
            saver.get_tuple(_config("t"))
        message = str(caught.value)
        assert "redis://***@127.0.0.1:" in message and "s3cret" not in message
        with pytest.raises(RedisUnavailableError):
            asyncio.run(saver.aput(_config("t"), _checkpoint({}, {}), {}, {}))


def test_the_saver_recovers_when_the_server_comes_back(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path)
    server.start()
    try:
        with RedisSaver.from_conn_string(server.url) as saver:
            first = saver.put(_config("t"), _checkpoint({"a": 1}, {"a": "1"}), {}, {"a": "1"})
            server.stop()
            with pytest.raises(RedisUnavailableError, match=f"127.0.0.1:{server.port}"):
                saver.put(first, _checkpoint({"a": 2}, {"a": "2"}), {}, {"a": "2"})
            server.start()  # empty again (no persistence), and its scripts are gone
            saver.put(_config("t"), _checkpoint({"a": 3}, {"a": "3"}), {}, {"a": "3"})
            tup = saver.get_tuple(_config("t"))
            assert tup is not None and tup.checkpoint["channel_values"] == {"a": 3}
            assert asyncio.run(saver.aget_tuple(_config("t"))) == tup
    finally:
        server.stop()


def test_async_calls_recover_on_one_event_loop_when_the_server_comes_back(
    tmp_path: Path,
) -> None:
    server = RedisProcess(tmp_path)
    server.start()

    async def scenario(saver: RedisSaver) -> None:
        await saver.aput(_config("t"), _checkpoint({"a": 1}, {"a": "1"}), {}, {"a": "1"})
        server.stop()
        with pytest.raises(RedisUnavailableError, match=f"127.0.0.1:{server.port}"):
            await saver.aget_tuple(_config("t"))
        server.start()  # empty, and without the scripts: the idle connections are stale
        await saver.aput(_config("t"), _checkpoint({"a": 3}, {"a": "3"}), {}, {"a": "3"})
        tup = await saver.aget_tuple(_config("t"))
        assert tup is not None and tup.checkpoint["channel_values"] == {"a": 3}

    try:
        with RedisSaver.from_conn_string(server.url) as saver:
            asyncio.run(scenario(saver))
    finally:
        server.stop()


async def test_cancelled_calls_never_hand_a_reply_to_another_caller(saver: RedisSaver) -> None:
    threads = [uuid.uuid4().hex for _ in range(40)]
    for n, thread in enumerate(threads):
        values = {"n": n, "text": f"{thread} " * 40}
        versions = {"n": "1", "text": "1"}
        await saver.aput(_config(thread), _checkpoint(values, versions), {}, versions)

    async def read(thread: str) -> None:
        tup = await saver.aget_tuple(_config(thread))
        assert tup is not None and tup.config["configurable"]["thread_id"] == thread
        assert tup.checkpoint["channel_values"]["text"].startswith(thread)

    for _ in range(5):  # some calls are cancelled between sending and reading
        calls = [asyncio.wait_for(read(t), timeout=0.0005 * (i % 4)) for i, t in enumerate(threads)]
        await asyncio.gather(*calls, return_exceptions=True)
    await asyncio.gather(*(read(t) for t in threads))  # every reply went to its caller


def test_setup_loads_the_scripts_and_every_path_survives_a_script_flush(
    saver: RedisSaver, redis_url: str
) -> None:
    saver.setup()
    asyncio.run(saver.asetup())
    stored = saver.put(_config("t"), _checkpoint({"a": 1}, {"a": "1"}), {}, {"a": "1"})
    client = redis.Redis.from_url(redis_url)
    client.script_flush()
    assert [t.config for t in saver.list(_config("t"))] == [stored]  # a pipeline of scripts
    client.script_flush()
    assert asyncio.run(_alist_configs(saver, "t")) == [stored]
    client.script_flush()
    saver.put_writes(stored, [("a", 2)], "task")  # one script
    assert saver.get_tuple(_config("t")).pending_writes == [("task", "a", 2)]


async def _alist_configs(saver: RedisSaver, thread_id: str) -> list[Any]:
    return [t.config async for t in saver.alist(_config(thread_id))]


def test_the_embedded_server_is_shared_and_keeps_data_across_restarts() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="rf-", dir="/tmp"))
    owner, second, restarted = (EmbeddedRedis(data_dir) for _ in range(3))
    try:
        url = owner.url
        assert second.url == url  # the second one adopts the running server
        with RedisSaver.from_conn_string(url) as saver:
            saver.put(_config("t"), _checkpoint({"a": 1}, {"a": "1"}), {}, {"a": "1"})
        second.stop()  # the owner still uses it: it keeps running
        assert redis.Redis.from_url(url).ping()
        owner.stop()  # the last user: SHUTDOWN, append-only file fsynced
        with pytest.raises(redis.ConnectionError):
            redis.Redis.from_url(url).ping()
        with RedisSaver.from_conn_string(restarted.url) as saver:
            tup = saver.get_tuple(_config("t"))
            assert tup is not None and tup.checkpoint["channel_values"] == {"a": 1}
    finally:
        for server in (restarted, second, owner):
            server.stop()


# --- size -----------------------------------------------------------------------------------------


class LoopState(TypedDict):
    text: str
    iteration: int
    limit: int


def _loop_graph() -> StateGraph:
    def draft(state: LoopState) -> dict[str, Any]:
        return {"text": "draft " * 200}

    def refine(state: LoopState) -> dict[str, Any]:
        return {"text": f"refined {state['iteration']} " * 200, "iteration": state["iteration"] + 1}

    builder = StateGraph(LoopState)
    builder.add_node("draft", draft)
    builder.add_node("refine", refine)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "refine")
    builder.add_conditional_edges(
        "refine", lambda s: "refine" if s["iteration"] < s["limit"] else END, ["refine", END]
    )
    return builder


def test_values_are_stored_once_and_size_grows_linearly(redis_url: str) -> None:
    prefix = f"size{uuid.uuid4().hex[:6]}"
    client = redis.Redis.from_url(redis_url)
    with RedisSaver.from_conn_string(redis_url, key_prefix=prefix) as saver:
        graph = _loop_graph().compile(checkpointer=saver)
        sizes = {}
        for n in (2, 8, 32):
            config = {"configurable": {"thread_id": f"n{n}"}}
            graph.invoke({"text": "", "iteration": 0, "limit": n}, config)
            keys = saver._layout.thread_keys(f"n{n}")
            sizes[n] = sum(client.memory_usage(k, samples=0) or 0 for k in keys)
            history = list(saver.list(config))
            with_values = {
                (ch, v)
                for t in history
                for ch, v in t.checkpoint["channel_versions"].items()
                if t.checkpoint["channel_values"].get(ch) is not None
            }
            fields = client.hkeys(keys[2])
            by_digest = [f for f in fields if f.startswith(b"\x00\x00")]
            # One blob per channel version that holds a value (None and empty are flags) ...
            assert len(fields) - len(by_digest) == len(with_values)
            # ... and each long text once, though a task's write and the next checkpoint's
            # channel both hold it: the first draft and n refinements.
            assert len(by_digest) == n + 1
            assert history[0].pending_writes == [] and history[0].checkpoint["channel_values"][
                "text"
            ].startswith(f"refined {n - 1} ")
    early = (sizes[8] - sizes[2]) / 6
    late = (sizes[32] - sizes[8]) / 24
    assert late <= early * 1.25, sizes  # linear, not quadratic


class LogState(TypedDict):
    log: Annotated[list[str], operator.add]
    n: int


def test_a_growing_list_holds_each_element_once(saver: RedisSaver, redis_url: str) -> None:
    def step(state: LogState) -> dict[str, Any]:
        return {"log": [f"entry {state['n']} " * 40], "n": state["n"] + 1}

    builder = StateGraph(LogState)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", lambda s: "step" if s["n"] < 12 else END, ["step", END])
    config = {"configurable": {"thread_id": "log"}}
    out = builder.compile(checkpointer=saver).invoke({"log": [], "n": 0}, config)
    assert out["log"] == [f"entry {i} " * 40 for i in range(12)]
    fields = redis.Redis.from_url(redis_url).hkeys(saver._layout.thread_keys("log")[2])
    # Twelve versions of a list that grows to twelve entries, and each entry's task write:
    # each entry stored once.
    assert len([f for f in fields if f.startswith(b"\x00\x00")]) == 12
    history = list(saver.list(config))
    assert [t.checkpoint["channel_values"]["log"] for t in history[:2]] == [
        out["log"],
        out["log"][:11],
    ]
    assert ("log", ["entry 10 " * 40]) in [w[1:] for w in history[2].pending_writes or []]
    saver.prune(["log"])  # keep the latest only: what it still needs survives
    tup = saver.get_tuple(config)
    assert tup is not None and tup.checkpoint["channel_values"]["log"] == out["log"]
