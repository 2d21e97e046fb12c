"""The API for tests: `refinery serve` as a child process on a free loopback port, on the
session's real Redis and a fake model server speaking the OpenAI protocol, with three API keys
(alice, bob, and `limited`, whose rate limit is tiny) and a small capacity (2 running, 2 queued)
so overload is easy to reach."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from api.auth import new_key
from core.processes import stop_process
from testkit.fake_openai import FakeOpenAI
from testkit.redis import free_port

SERVE = [sys.executable, "-c", "from api.cli.main import app; app()", "serve"]
MAX_BODY_BYTES = 20_000


THREAD_PROBES = [
    ("GET", ""),
    ("GET", "/history"),
    ("GET", "/feedback"),
    ("GET", "/events"),
    ("POST", "/resume"),
    ("POST", "/resume/stream"),
    ("POST", "/cancel"),
]
"""Every endpoint under /v1/threads/{id}: what a key must not reach of another key's thread."""


@dataclass
class ApiServer:
    """A running server, its keys and the fake model behind it."""

    base_url: str
    keys: dict[str, str]
    fake: FakeOpenAI
    prefix: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def client(self, who: str | None = "alice", timeout: float = 60.0) -> httpx.Client:
        headers = self.auth(who) if who else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def start_server(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    log = log_path.open("ab")
    process = subprocess.Popen(
        [*SERVE, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API server exited:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the API server did not start:\n{log_path.read_text()[-3000:]}")


def server_env(fake: FakeOpenAI, redis_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a test server: fake model, real Redis, no cache, no local fallback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFINERY_", "REDIS_URL"))}
    env.update(
        {
            "REFINERY_OPENAI_BASE_URL": fake.base_url,
            "REDIS_URL": redis_url,
            "REFINERY_REDIS_KEY_PREFIX": f"t{uuid.uuid4().hex[:8]}",
            "REFINERY_DATA_DIR": str(workdir / "data"),
            "REFINERY_LLM_CACHE": "false",
            "REFINERY_LLM_LOCAL_FALLBACK": "false",
            "REFINERY_LLM_MAX_RETRIES": "0",
            "REFINERY_LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


@pytest.fixture(scope="session")
def api_fake_llm() -> Iterator[FakeOpenAI]:
    """A fake OpenAI-protocol model server for the API tests (tests may change its latency)."""
    fake = FakeOpenAI().serve()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def api_server(api_fake_llm: FakeOpenAI, redis_url: str) -> Iterator[ApiServer]:
    """`refinery serve` on a free loopback port with its keys and a capacity of 2 + 2. Each
    test that spends a rate limit has a limited key of its own (the server lives the whole
    session: a budget one test spends is spent for the next)."""
    workdir = Path(tempfile.mkdtemp(prefix="refinery-api-"))
    keys = {name: new_key() for name in ("alice", "bob", "limited", "limited_chat")}
    lines = [
        f"{keys['alice'][1]} alice 100000 1000",
        f"{keys['bob'][1]} bob 100000 1000",
        f"{keys['limited'][1]} limited 1 2",
        f"{keys['limited_chat'][1]} limited_chat 1 2",
    ]
    (workdir / "keys").write_text("\n".join(lines) + "\n")
    env = server_env(
        api_fake_llm,
        redis_url,
        workdir,
        REFINERY_API_KEYS_FILE=str(workdir / "keys"),
        REFINERY_API_MAX_RUNNING="2",
        REFINERY_API_MAX_QUEUE="2",
        REFINERY_API_HEARTBEAT_S="0.2",
        REFINERY_API_MAX_BODY_BYTES=str(MAX_BODY_BYTES),
    )
    yield from serving(env, keys, api_fake_llm, workdir)


def keyed_server(
    fake: FakeOpenAI, redis_url: str, names: tuple[str, ...], prefix: str, **extra: str
) -> Iterator[ApiServer]:
    """`refinery serve` with `extra` settings and a key for each of `names` (100,000 requests a
    day, 1,000 a minute), for a fixture to yield from; its workdir is a new `prefix` folder."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    keys = {name: new_key() for name in names}
    (workdir / "keys").write_text("".join(f"{k[1]} {n} 100000 1000\n" for n, k in keys.items()))
    env = server_env(
        fake, redis_url, workdir, REFINERY_API_KEYS_FILE=str(workdir / "keys"), **extra
    )
    yield from serving(env, keys, fake, workdir)


def serving(
    env: dict[str, str], keys: dict[str, tuple[str, str]], fake: FakeOpenAI, workdir: Path
) -> Iterator[ApiServer]:
    """`refinery serve` with `env` on a free loopback port, as an `ApiServer` of these keys,
    for a fixture to yield from; stopped and its `workdir` removed afterwards."""
    port = free_port()
    log_path = workdir / "server.log"
    process = start_server(env, port, log_path)
    try:
        yield ApiServer(
            base_url=f"http://127.0.0.1:{port}",
            keys={name: key for name, (key, _) in keys.items()},
            fake=fake,
            prefix=env["REFINERY_REDIS_KEY_PREFIX"],
            process=process,
            log_path=log_path,
            env=env,
        )
    finally:
        stop_process(process)
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class Sse:
    """One server-sent event, or a comment (`name == ":"`)."""

    name: str
    data: dict
    id: str | None = None


def iter_sse(response: httpx.Response) -> Iterator[Sse]:
    """The events of a streaming response as they arrive, comments (heartbeats) included."""
    import json

    name, data, event_id = "message", "", None
    for line in response.iter_lines():
        if line.startswith(":"):
            yield Sse(":", {"comment": line[1:].strip()})
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data += line[6:]
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line == "" and data:
            yield Sse(name, json.loads(data), event_id)
            name, data, event_id = "message", "", None
