"""Redis outage against real processes: with its redis-server (append-only, fsync always) killed,
`refinery serve` answers 503 storage_unavailable with Retry-After and stays up (healthz 200,
readyz 503); once Redis is back on its files, requests succeed again without a restart and a
thread finished before the outage reads back unchanged."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit.fake_openai import FakeOpenAI
from testkit.processes import ApiProcess, DurableRedis, key_file, serve_env


@pytest.fixture
def durable_redis() -> Iterator[DurableRedis]:
    workdir = Path(tempfile.mkdtemp(prefix="refinery-outage-"))
    server = DurableRedis(workdir / "redis")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def test_redis_outage_gets_503_and_the_service_recovers_by_itself(
    durable_redis: DurableRedis, api_fake_llm: FakeOpenAI
) -> None:
    workdir = durable_redis.workdir.parent
    keys = key_file(workdir / "keys", {"alice": (100_000, 1_000)})
    prefix = f"o{uuid.uuid4().hex[:6]}"
    extra = {"REFINERY_API_KEYS_FILE": str(workdir / "keys"), "REFINERY_LOG_LEVEL": "WARNING"}
    env = serve_env(api_fake_llm.base_url, durable_redis.url, workdir, prefix, **extra)
    server = ApiProcess(env, workdir / "server.log")
    server.start()
    headers = {"Authorization": f"Bearer {keys['alice']}"}
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            done = client.post("/v1/refinements", json={"task": "Say hello."}).json()
            durable_redis.stop()
            down = [client.post("/v1/refinements", json={"task": "Say hi."}) for _ in range(3)]
            down.append(client.get(f"/v1/threads/{done['thread_id']}"))
            health, ready = client.get("/healthz"), client.get("/readyz")
            durable_redis.start()
            recovered_in = _until_ok(client)
            after = client.get(f"/v1/threads/{done['thread_id']}")
    finally:
        server.stop()
    for answer in down:
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["type"] == "storage_unavailable"
        assert int(answer.headers["retry-after"]) >= 1
    assert health.status_code == 200 and ready.status_code == 503
    assert ready.json()["checks"]["redis"] != "ok"
    print(f"recovered {recovered_in:.2f} s after Redis came back")
    assert after.status_code == 200
    assert after.json()["answer"] == done["answer"] and after.json()["status"] == "done"


def _until_ok(client: httpx.Client, timeout_s: float = 30) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if client.post("/v1/refinements", json={"task": "Say hi."}).status_code == 200:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError("the server did not recover after Redis came back")
