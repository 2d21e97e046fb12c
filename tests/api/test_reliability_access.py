"""Access across server processes: two `refinery serve` processes share one Redis; a thread and
its feedback stay invisible to another key on both, one key's rate limit holds across both, and
no API key appears in either log or in an error body."""

from __future__ import annotations

import math
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from testkit.api_server import THREAD_PROBES as PROBES
from testkit.fake_openai import FakeOpenAI
from testkit.processes import ApiProcess, key_file, serve_env

KEYS = {"alice": (100_000, 1_000), "bob": (100_000, 1_000), "limited": (30, 4)}


@pytest.fixture
def two_servers(api_fake_llm: FakeOpenAI, redis_url: str) -> Iterator[tuple[list, dict]]:
    workdir = Path(tempfile.mkdtemp(prefix="refinery-access-"))
    keys = key_file(workdir / "keys", KEYS)
    env = serve_env(
        api_fake_llm.base_url,
        redis_url,
        workdir,
        f"a{uuid.uuid4().hex[:6]}",
        REFINERY_API_KEYS_FILE=str(workdir / "keys"),
    )
    servers = [ApiProcess(env, workdir / f"server{i}.log") for i in range(2)]
    starts = [threading.Thread(target=s.start) for s in servers]
    for thread in starts:
        thread.start()
    for thread in starts:
        thread.join()
    yield servers, keys
    for server in servers:
        server.stop()


def _client(server: ApiProcess, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, timeout=60, headers={"Authorization": f"Bearer {key}"}
    )


def test_keys_stay_apart_and_limits_hold_across_processes(two_servers: tuple) -> None:
    servers, keys = two_servers
    assert all(s.alive for s in servers), servers[0].log_text()[-2000:]
    with _client(servers[0], keys["alice"]) as alice:
        thread_id = alice.post("/v1/refinements", json={"task": "Say hi."}).json()["thread_id"]
        rated = alice.post("/v1/feedback", json={"thread_id": thread_id, "rating": 1})
        assert rated.status_code == 201, rated.text
    bodies = []
    for server in servers:
        with _client(server, keys["bob"]) as bob:
            for method, path in PROBES:
                answer = bob.request(method, f"/v1/threads/{thread_id}{path}")
                assert answer.status_code == 404, (server.port, method, path, answer.text)
                bodies.append(answer.text)
            feedback = bob.post("/v1/feedback", json={"thread_id": thread_id, "rating": -1})
            assert feedback.status_code == 404
            assert bob.delete(f"/v1/threads/{thread_id}").status_code in (404, 405)
    with _client(servers[1], keys["alice"]) as alice_elsewhere:
        assert alice_elsewhere.get(f"/v1/threads/{thread_id}/feedback").json()["rating"] == 1

    per_minute, burst = KEYS["limited"]
    clients = [_client(server, keys["limited"]) for server in servers]
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: clients[i % 2].get("/v1/threads/none"), range(16)))
    elapsed = time.monotonic() - started
    for client in clients:
        client.close()
    allowed = sum(a.status_code != 429 for a in answers)
    assert allowed <= burst + math.ceil(elapsed * per_minute / 60), (allowed, elapsed)
    assert {a.status_code for a in answers} == {404, 429}
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)

    logs = "".join(server.log_text() for server in servers)
    for key in keys.values():
        assert key not in logs and all(key not in body for body in bodies)
