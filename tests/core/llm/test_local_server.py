"""The embedded model tier: time waiting for a slot is not part of a call's timeout, a slow
generation is never retried, a killed `llama-server` (or one whose owning process left) comes
back while its callers wait without spending retries, a client that goes away frees its slot
at once, and `refinery run --input` says when tasks failed."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from langchain_core.messages import HumanMessage

from core.llm.endpoints import HealthBoard
from core.llm.local_server import LocalModelServer, ServerBinaryError
from core.llm.pooled import PooledChatModel, Target
from core.llm.retries import run_retry_budget, with_retries
from core.llm.stats import llm_stats
from core.processes import free_port
from core.settings import Settings
from testkit.fake_openai import FakeOpenAI


def tier(url: str, **fields: object) -> PooledChatModel:
    """A pool of one endpoint, shaped like the embedded tier (never ejected: these tests count
    attempts, not health)."""
    return PooledChatModel(
        model_name="m",
        tier="local",
        static_targets=[Target(base_url=url)],
        board=HealthBoard(10_000, 0.1, 0.1),
        **fields,  # type: ignore[arg-type]
    )


FAST_RETRIES = Settings(llm_max_retries=2, llm_retry_initial_s=0.05, llm_retry_max_s=0.2)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(latency_s=0.5).serve()
    yield server
    server.stop()


async def test_a_queued_call_outlives_the_call_timeout_without_a_retry(fake: FakeOpenAI) -> None:
    """Six calls on one slot: the last waits 2.5 s for it, longer than the 2 s call timeout,
    and still succeeds first time, because the timeout starts when the slot is the call's."""
    model = with_retries(tier(fake.base_url, slots=1, timeout_s=2.0), FAST_RETRIES, "local",
                         retry_timeouts=False)  # fmt: skip
    llm_stats().reset()
    started = time.monotonic()
    replies = await asyncio.gather(*(model.ainvoke([HumanMessage(f"q{i}")]) for i in range(6)))
    assert len(replies) == 6 and all(r.content for r in replies)
    assert time.monotonic() - started > 2.0, "the last call waited past the call timeout"
    assert llm_stats().snapshot().retries_total == 0
    assert fake.calls == 6


async def test_a_slow_generation_on_the_embedded_tier_is_not_retried(fake: FakeOpenAI) -> None:
    """A call slower than its timeout fails once on the embedded tier (its generation is still
    running: a retry would only queue behind it), where a remote tier retries it."""
    embedded = with_retries(tier(fake.base_url, timeout_s=0.2), FAST_RETRIES, "local",
                            retry_timeouts=False)  # fmt: skip
    with pytest.raises(TimeoutError):
        await embedded.ainvoke([HumanMessage("slow")])
    assert fake.calls == 1

    remote = with_retries(tier(fake.base_url, timeout_s=0.2), FAST_RETRIES, "tier0")
    with pytest.raises(TimeoutError):
        await remote.ainvoke([HumanMessage("slow")])
    assert fake.calls == 1 + 3  # one call and its two retries


async def test_a_call_waits_for_its_server_to_come_back_without_a_retry() -> None:
    """The supervised server is gone when a call is sent (it died, or the process that ran it
    left): the call's recheck finds it not answering, the call waits until the supervisor has
    it back on the same port, and goes again; it completes with no retry allowed at all."""
    fake = FakeOpenAI().serve()
    fake.stop()
    back, restarts = asyncio.Event(), []

    async def restart() -> None:  # the supervisor's part
        await asyncio.to_thread(fake.serve)
        back.set()

    async def recheck() -> bool:
        back.clear()
        restarts.append(asyncio.create_task(restart()))
        return False

    async def ready(timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(back.wait(), timeout_s)
        return back.is_set()

    back.set()  # the caller has not yet seen it go
    waited = llm_stats().snapshot().restart_waits.get("local", 0)
    model = with_retries(
        tier(f"http://127.0.0.1:{fake.port}/v1", ready=ready, recheck=recheck, timeout_s=30),
        Settings(llm_max_retries=0), "local", retry_timeouts=False,
    )  # fmt: skip
    try:
        reply = await model.ainvoke([HumanMessage("Name three colours.")])
    finally:
        fake.stop()
    assert reply.content and len(restarts) == 1 and fake.calls == 1
    assert llm_stats().snapshot().restart_waits["local"] == waited + 1


async def test_a_server_that_stays_gone_fails_the_call_within_its_time() -> None:
    """A server that does not come back within the call's time: the call fails with the
    connection error (the fallback chain moves on), it does not wait for ever."""
    seen: list[float] = []

    async def recheck() -> bool:
        return False

    async def ready(timeout_s: float) -> bool:
        seen.append(timeout_s)
        return len(seen) == 1  # ready as far as the caller knows, then never back

    model = tier(f"http://127.0.0.1:{free_port()}/v1", ready=ready, recheck=recheck,
                 timeout_s=0.2)  # fmt: skip
    with pytest.raises(openai.APIConnectionError):
        await model.ainvoke([HumanMessage("Name three colours.")])
    assert seen == [0.2, 0.2]


async def test_a_run_spends_at_most_its_retry_budget() -> None:
    """Three calls of one run against an endpoint that always answers 500, three retries a call
    allowed: the run's budget of four retries is all they get together."""
    failing = FakeOpenAI(fault_cycle=["500"]).serve()
    try:
        retries = Settings(llm_max_retries=3, llm_retry_initial_s=0.01, llm_retry_max_s=0.02)
        model = with_retries(tier(failing.base_url), retries, "tier0")
        with run_retry_budget(4) as budget:
            for _ in range(3):
                with pytest.raises(openai.InternalServerError):
                    await model.ainvoke([HumanMessage("q")])
        assert failing.calls == 3 + 4 and budget.left == 0
    finally:
        failing.stop()


def test_run_input_exits_non_zero_when_a_task_failed(tmp_path: Path, redis_url: str) -> None:
    """`refinery run --input` with every model call refused: it says how many failed and exits
    1, so a script can tell."""
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps({"id": f"t{i}", "task": "Say hi."}) + "\n" for i in (1, 2)))
    env = os.environ | {
        "REFINERY_OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "REFINERY_LLM_MAX_RETRIES": "0",
        "REFINERY_LLM_CACHE": "false",
        "REDIS_URL": redis_url,
        "REFINERY_DATA_DIR": str(tmp_path / "data"),
    }
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "run", "--input", str(tasks), "--output", str(out),
         "--config", "single_pass"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    assert "2 tasks, 2 failed" in done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["t1", "t2"] and all(r["error"] for r in rows)


# --- on the real llama-server and model -----------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalModelServer]:
    data = tmp_path_factory.mktemp("local-model")
    (data / "models").symlink_to(Settings().data_dir.resolve() / "models")
    served = LocalModelServer(Settings(data_dir=data, local_parallel=2))
    served.start()
    yield served
    served.stop()


async def _busy_slots(server: LocalModelServer) -> int:
    return sum(1 for slot in await server.slot_state() if slot.get("is_processing"))


@pytest.mark.model
async def test_a_client_that_goes_away_frees_its_slot_within_a_second(
    server: LocalModelServer,
) -> None:
    """The server notices a closed connection when it sends its next token: the slot frees
    within a second (plus that token's time when a loaded machine makes tokens slow)."""
    body = {
        "model": server.model_name,
        "messages": [{"role": "user", "content": "Write a long story about a lighthouse."}],
        "max_tokens": 400,
        "stream": True,
    }
    arrivals: list[float] = []
    async with (
        httpx.AsyncClient(timeout=60) as client,
        client.stream("POST", f"{server.base_url}/chat/completions", json=body) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                arrivals.append(time.monotonic())
            if len(arrivals) >= 4:
                break
        assert await _busy_slots(server) == 1
    gone = time.monotonic()  # the connection is closed here
    token_s = max(b - a for a, b in itertools.pairwise(arrivals[1:]))
    while await _busy_slots(server):
        freed_s = time.monotonic() - gone
        assert freed_s < 1.0 + 2 * token_s, f"the slot still generates after {freed_s:.2f} s"
        await asyncio.sleep(0.05)


@pytest.mark.model
async def test_a_killed_server_comes_back_and_the_call_completes(server: LocalModelServer) -> None:
    """SIGKILL the server while a call generates: the call's connection breaks, it waits for
    the supervisor's restart and goes again, and it completes with no retry allowed at all."""
    restarts = server.state.restarts
    model = with_retries(
        tier(server.base_url, ready=server.until_ready, recheck=server.recheck, timeout_s=300,
             max_tokens=48, slots=2),
        Settings(llm_max_retries=0), "local", retry_timeouts=False,
    )  # fmt: skip
    call = asyncio.create_task(model.ainvoke([HumanMessage("Name three colours.")]))
    while not await _busy_slots(server):  # noqa: ASYNC110 - polling the server, no event to await
        await asyncio.sleep(0.05)
    server.kill()
    reply = await asyncio.wait_for(call, timeout=240)
    assert reply.content
    assert server.state.restarts == restarts + 1 and server.state.ready


@pytest.mark.model
def test_refinery_run_input_survives_a_model_server_kill(tmp_path: Path, redis_url: str) -> None:
    """`refinery run --input` of two tasks on the embedded model; its llama-server is killed
    while the first generates: it comes back, both tasks finish, the command exits 0."""
    tasks = tmp_path / "tasks.jsonl"
    lines = [{"id": "a", "task": "Name two rivers."}, {"id": "b", "task": "Name two trees."}]
    tasks.write_text("".join(json.dumps(t) + "\n" for t in lines))
    data = tmp_path / "data"
    (data / "models").parent.mkdir(parents=True)
    (data / "models").symlink_to(Settings().data_dir.resolve() / "models")
    env = os.environ | {"REDIS_URL": redis_url, "REFINERY_DATA_DIR": str(data),
                        "REFINERY_LLM_CACHE": "false", "REFINERY_LOCAL_PARALLEL": "2"}  # fmt: skip
    env.pop("REFINERY_OPENAI_BASE_URL", None)
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli.main", "run", "--input", str(tasks), "--output", str(out),
         "--config", "single_pass", "--concurrency", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = data / "logs" / "local-model.log"
    deadline = time.monotonic() + 240
    killed = False
    while not killed and time.monotonic() < deadline and process.poll() is None:
        children = subprocess.run(["pgrep", "-P", str(process.pid), "llama-server"],
                                  capture_output=True, text=True).stdout.split()  # fmt: skip
        if children and log.exists() and "launch_slot_" in log.read_text(errors="replace"):
            os.kill(int(children[0]), signal.SIGKILL)
            killed = True
        time.sleep(0.2)
    _, stderr = process.communicate(timeout=600)
    assert killed, "the model server was never seen generating"
    rows_text = out.read_text() if out.exists() else ""
    assert process.returncode == 0, stderr[-3000:] + rows_text[-2000:]
    assert "2 tasks, 0 failed" in stderr
    assert "local model server exited" in stderr or "restart 1" in stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["a", "b"]
    assert all(r["error"] is None and r["answer"] for r in rows)


@pytest.mark.model
def test_a_run_attached_to_another_process_s_server_survives_that_process_leaving(
    tmp_path: Path, redis_url: str
) -> None:
    """`refinery model serve` runs the data directory's server; `refinery run --input` of two
    tasks attaches to it, with no retry allowed. The serving process is stopped while the
    first task generates: the run's own supervisor takes the server over on the same port, its
    calls wait for it, and both tasks finish (the command exits 0)."""
    tasks = tmp_path / "tasks.jsonl"
    lines = [{"id": "a", "task": "Name two rivers."}, {"id": "b", "task": "Name two trees."}]
    tasks.write_text("".join(json.dumps(t) + "\n" for t in lines))
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(Settings().data_dir.resolve() / "models")
    env = os.environ | {"REDIS_URL": redis_url, "REFINERY_DATA_DIR": str(data),
                        "REFINERY_LLM_CACHE": "false", "REFINERY_LOCAL_PARALLEL": "2",
                        "REFINERY_LLM_MAX_RETRIES": "0"}  # fmt: skip
    env.pop("REFINERY_OPENAI_BASE_URL", None)
    serve = [sys.executable, "-m", "api.cli.main", "model", "serve"]
    owner = subprocess.Popen(
        serve, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    run: subprocess.Popen[str] | None = None
    try:
        assert owner.stdout is not None
        assert "serving" in owner.stdout.readline()  # it answers from here on
        out = tmp_path / "out.jsonl"
        run = subprocess.Popen(
            [sys.executable, "-m", "api.cli.main", "run", "--input", str(tasks), "--output",
             str(out), "--config", "single_pass", "--concurrency", "2"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        log = data / "logs" / "local-model.log"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and run.poll() is None:
            if "launch_slot_" in log.read_text(errors="replace"):
                break
            time.sleep(0.2)
        owner.send_signal(signal.SIGTERM)  # the owner leaves, and stops its llama-server
        owner.wait(timeout=60)
        _, stderr = run.communicate(timeout=600)
    finally:
        for process in (owner, run):
            if process is not None and process.poll() is None:
                process.kill()
    assert run.returncode == 0, stderr[-3000:]
    assert "2 tasks, 0 failed" in stderr
    assert "its owner is gone: serving it here" in stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["error"] is None and r["answer"] for r in rows)


def test_a_server_built_for_another_cpu_says_so_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A binary that dies on an illegal instruction (`-march=native` built elsewhere) fails the
    start with the fix, not three tries and a timeout."""
    binary = tmp_path / "llama-server"
    binary.write_text("#!/bin/sh\nkill -ILL $$\n")
    binary.chmod(0o755)
    monkeypatch.setattr("core.llm.local_server.server_binary", lambda: binary)
    (tmp_path / "models").symlink_to(Settings().data_dir.resolve() / "models")
    served = LocalModelServer(Settings(data_dir=tmp_path), shared=False)
    with pytest.raises(ServerBinaryError, match=r"compiled for another CPU.*setup\.sh"):
        served.start()
    assert served.state.restarts == 0  # one try, not three
