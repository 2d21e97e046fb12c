"""A review waits in the Redis checkpoint, not in a process: two `refinery serve` replicas on
one Redis, a run paused on one is answered on the other; a run paused before every server
stopped is answered by a server started afterwards."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit.fake_openai import FakeOpenAI
from testkit.processes import ApiProcess, key_file, serve_env

REQUEST = {
    "task": "Write a short text.",
    "constraints": {"required_words": ["dog", "snow", "piano", "wine"]},
    "review": {"when": "always"},
}
EDIT = "The dog ran through the snow. Later it heard the piano and smelled the wine."


KEYS: dict[str, str] = {}
"""Each deployment's key (by its Redis prefix)."""


@pytest.fixture
def replicas(api_fake_llm: FakeOpenAI, redis_url: str) -> Iterator[list[ApiProcess]]:
    """Two replicas (their own processes and ports) of one deployment: one Redis prefix."""
    workdir = Path(tempfile.mkdtemp(prefix="refinery-review-"))
    key = key_file(workdir / "keys", {"alice": (100_000, 1_000)})["alice"]
    env = serve_env(
        api_fake_llm.base_url,
        redis_url,
        workdir,
        f"review{uuid.uuid4().hex[:6]}",
        REFINERY_API_KEYS_FILE=str(workdir / "keys"),
        REFINERY_LOG_LEVEL="WARNING",
    )
    servers = [ApiProcess(env, workdir / f"replica{i}.log") for i in range(2)]
    KEYS[env["REFINERY_REDIS_KEY_PREFIX"]] = key
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _client(server: ApiProcess) -> httpx.Client:
    key = KEYS[server.env["REFINERY_REDIS_KEY_PREFIX"]]
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


def test_a_review_paused_on_one_replica_is_answered_on_another(
    replicas: list[ApiProcess],
) -> None:
    first, second = replicas
    with _client(first) as one, _client(second) as other:
        paused = one.post("/v1/refinements", json=REQUEST).json()
        thread_id = paused["thread_id"]
        seen = other.get(f"/v1/threads/{thread_id}").json()
        assert seen["status"] == "awaiting_review"
        assert seen["review"]["review_id"] == paused["review"]["review_id"]
        body = {
            "review": {"action": "edit", "text": EDIT},
            "review_id": seen["review"]["review_id"],
        }
        done = other.post(f"/v1/threads/{thread_id}/resume", json=body)
        assert done.status_code == 200, done.text
        assert done.json()["answer"] == EDIT and done.json()["stop_reason"] == "edited"
        again = one.post(f"/v1/threads/{thread_id}/resume", json=body)
    assert again.status_code == 409, "the first replica sees it answered"


def test_a_review_is_answered_after_every_server_restarted(
    replicas: list[ApiProcess],
) -> None:
    first, second = replicas
    with _client(second) as client:
        paused = client.post("/v1/refinements", json=REQUEST).json()
    thread_id = paused["thread_id"]
    for server in replicas:
        server.stop()
    first.start()  # a new process: nothing of the pause is in memory anywhere
    with _client(first) as client:
        thread = client.get(f"/v1/threads/{thread_id}").json()
        assert thread["status"] == "awaiting_review"
        assert thread["review"] == paused["review"]
        done = client.post(
            f"/v1/threads/{thread_id}/resume", json={"review": {"action": "approve"}}
        )
    assert done.status_code == 200, done.text
    assert done.json()["answer"] == paused["review"]["draft"]
    assert done.json()["reviews"][0]["action"] == "approve"
