"""Process crash against real processes: `refinery serve` is SIGKILLed while two runs stream;
a new process on the same port and Redis finds both threads interrupted, resumes each through
POST /v1/threads/{id}/resume to the end, and every checkpoint saved before the kill is still
in the thread's history."""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.checkpoint import RedisSaver
from testkit.api_server import iter_sse
from testkit.fake_openai import FakeOpenAI, one_word_responder
from testkit.processes import ApiProcess, key_file, serve_env

REQUEST = {
    "task": "Write a story about a journey.",
    "constraints": {
        "required_words": ["lantern", "river", "fox", "bridge", "winter", "bell", "garden", "clock"]
    },
}


@pytest.fixture
def slow_fake() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(responder=one_word_responder, latency_s=0.3).serve()
    yield fake
    fake.stop()


def _checkpoints(saver: RedisSaver, thread_id: str) -> set[str]:
    config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    return {t.config["configurable"]["checkpoint_id"] for t in saver.list(config)}


def _stream(base_url: str, key: str, scored: dict[str, int]) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.stream(
            "POST", f"{base_url}/v1/refinements/stream", json=REQUEST, headers=headers, timeout=60
        ) as response:
            thread_id = response.headers["x-thread-id"]
            scored[thread_id] = 0
            for event in iter_sse(response):
                if event.name == "score":
                    scored[thread_id] += 1
    except httpx.HTTPError:
        pass  # the kill cut it


def test_killed_server_threads_resume_after_restart(slow_fake: FakeOpenAI, redis_url: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="refinery-crash-"))
    keys = key_file(workdir / "keys", {"alice": (100_000, 1_000)})
    prefix = f"crash{uuid.uuid4().hex[:6]}"
    env = serve_env(
        slow_fake.base_url,
        redis_url,
        workdir,
        prefix,
        REFINERY_API_KEYS_FILE=str(workdir / "keys"),
        REFINERY_LOG_LEVEL="WARNING",
        REFINERY_API_REAPER_INTERVAL_S="0",
        REFINERY_API_LEASE_TTL_S="1",
    )
    server = ApiProcess(env, workdir / "server.log")
    server.start()
    scored: dict[str, int] = {}
    try:
        streams = [
            threading.Thread(target=_stream, args=(server.base_url, keys["alice"], scored))
            for _ in range(2)
        ]
        for thread in streams:
            thread.start()
        deadline = time.monotonic() + 300  # a guard: a starved machine took over 90 s
        while time.monotonic() < deadline and not (len(scored) == 2 and all(scored.values())):
            time.sleep(0.02)
        server.kill()
        for thread in streams:
            thread.join(timeout=30)
        assert len(scored) == 2 and all(scored.values()), "both runs were mid-loop"
        with RedisSaver.from_conn_string(redis_url, key_prefix=prefix) as saver:
            at_kill = {t: _checkpoints(saver, t) for t in scored}
            server.start()
            _until_interrupted(server.base_url, keys["alice"], list(scored))
            _resume_both(server.base_url, keys["alice"], scored)
            for thread_id, before in at_kill.items():
                after = _checkpoints(saver, thread_id)
                assert before and before < after, "every checkpoint of the kill is kept"
    finally:
        server.stop()


def _until_interrupted(base_url: str, key: str, thread_ids: list[str]) -> None:
    """Until the dead process's run leases have lapsed (on Redis's clock: a 1 s TTL) and every
    thread shows as interrupted; fails after 30 s."""
    headers = {"Authorization": f"Bearer {key}"}
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=base_url, timeout=60, headers=headers) as client:
        for thread_id in thread_ids:
            while (status := client.get(f"/v1/threads/{thread_id}").json()["status"]) == "running":
                assert time.monotonic() < deadline, f"{thread_id} still {status} after 30 s"
                time.sleep(0.05)


def _resume_both(base_url: str, key: str, scored: dict[str, int]) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, timeout=60, headers=headers) as client:
        for thread_id in scored:
            assert client.get(f"/v1/threads/{thread_id}").json()["status"] == "interrupted"
            resumed = client.post(f"/v1/threads/{thread_id}/resume")
            assert resumed.status_code == 200, resumed.text
            assert resumed.json()["answer"] and resumed.json()["stop_reason"]
            assert len(resumed.json()["history"]) > scored[thread_id]
