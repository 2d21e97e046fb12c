"""The processes every scenario runs against, all on loopback: an append-only redis-server with
a password, two fake model servers (primary and fallback tier), and two `refinery serve`
processes sharing that Redis (`api`, and `peer` for the cross-process checks)."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from testkit.processes import (
    ApiProcess,
    DurableRedis,
    FakeModelProcess,
    key_file,
    serve_env,
)

CAPACITY = 10
"""Runs at once on each server (the adaptive limit pinned there; a tenth kept for high
priority), and as many queued."""
LLM_TIMEOUT_S = 3.0
COOLDOWN_MAX_S = 4.0
"""Longest ejection of a failing model endpoint from its pool."""
KEYS = {"alice": (1_000_000, 100_000), "bob": (1_000_000, 100_000), "limited": (30, 5)}
"""name -> (requests a minute, burst)."""


@dataclass
class Stack:
    workdir: Path
    redis: DurableRedis
    model: FakeModelProcess
    backup: FakeModelProcess
    api: ApiProcess
    peer: ApiProcess
    keys: dict[str, str]
    prefix: str
    secrets: list[str]
    """Strings that must never show in a log or an answer: API keys, the Redis password, the
    model endpoint's key."""

    def client(
        self, who: str | None = "alice", server: ApiProcess | None = None, timeout: float = 120.0
    ) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        return httpx.AsyncClient(
            base_url=(server or self.api).base_url, headers=headers, timeout=timeout, limits=limits
        )


def _env(
    stack_dir: Path,
    redis_url: str,
    model: FakeModelProcess,
    backup: FakeModelProcess,
    prefix: str,
    model_key: str,
) -> dict[str, str]:
    endpoints = [
        {"base_url": model.base_url, "tier": 0, "model": "fake"},
        {"base_url": backup.base_url, "tier": 1, "model": "fake"},
    ]
    capacity = str(CAPACITY)
    return serve_env(
        model.base_url,
        redis_url,
        stack_dir,
        prefix,
        REFINERY_API_KEYS_FILE=str(stack_dir / "keys"),
        REFINERY_LLM_ENDPOINTS=json.dumps(endpoints),
        REFINERY_OPENAI_API_KEY=model_key,
        REFINERY_LLM_TIMEOUT_S=str(LLM_TIMEOUT_S),
        REFINERY_LLM_MAX_RETRIES="2",
        REFINERY_LLM_RETRY_INITIAL_S="0.05",
        REFINERY_LLM_RETRY_MAX_S="0.2",
        REFINERY_LLM_EJECT_AFTER="3",
        REFINERY_LLM_COOLDOWN_S="2",
        REFINERY_LLM_COOLDOWN_MAX_S=str(COOLDOWN_MAX_S),
        REFINERY_API_MAX_RUNNING=capacity,
        REFINERY_ADMISSION_MIN=capacity,
        REFINERY_ADMISSION_MAX=capacity,
        REFINERY_ADMISSION_INITIAL=capacity,
        REFINERY_API_MAX_QUEUE=capacity,
        REFINERY_API_HEARTBEAT_S="0.5",
        REFINERY_API_REQUEST_TIMEOUT_S="180",
        # Interrupted runs are resumed by the client (POST /resume), not by a peer's reaper.
        REFINERY_API_REAPER_INTERVAL_S="0",
    )


def _warm_up(stack: Stack) -> None:
    """One grounded request on each server, not counted: a server loads its retrieval models
    on first use, which on a busy machine takes longer than a request should."""
    body = {"task": "When?", "documents": [{"id": "d", "text": "It opened in 1902."}]}
    headers = {"Authorization": f"Bearer {stack.keys['alice']}"}
    threads = [
        threading.Thread(
            target=httpx.post,
            args=(f"{server.base_url}/v1/refinements",),
            kwargs={"json": body, "headers": headers, "timeout": 300},
        )
        for server in (stack.api, stack.peer)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@contextlib.contextmanager
def running_stack(workdir: Path) -> Iterator[Stack]:
    """Start everything (the two API servers in parallel: each takes a while to import) and
    stop it all at the end, whatever happened."""
    password = secrets.token_hex(12)
    redis = DurableRedis(workdir / "redis", password=password)
    model, backup = FakeModelProcess(workdir / "model"), FakeModelProcess(workdir / "backup")
    prefix = f"rel{uuid.uuid4().hex[:6]}"
    keys = key_file(workdir / "keys", KEYS)
    model_key = "sk-" + secrets.token_hex(16)
    started: list[ApiProcess] = []
    try:
        for process in (redis, model, backup):
            process.start()
            started.append(process)  # type: ignore[arg-type]
        env = _env(workdir, redis.url, model, backup, prefix, model_key)
        api, peer = ApiProcess(env, workdir / "api.log"), ApiProcess(env, workdir / "peer.log")
        started += [api, peer]
        threads = [threading.Thread(target=server.start) for server in (api, peer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for server in (api, peer):
            if not server.alive:
                raise RuntimeError(f"refinery serve did not start: {server.log_text()[-2000:]}")
        stack = Stack(
            workdir,
            redis,
            model,
            backup,
            api,
            peer,
            keys,
            prefix,
            secrets=[*keys.values(), password, model_key],
        )
        _warm_up(stack)
        yield stack
    finally:
        for process in reversed(started):
            with contextlib.suppress(Exception):
                process.stop()
