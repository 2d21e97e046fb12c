"""Real processes for crash, outage and load runs (bench/reliability.py and the reliability
tests): an append-only redis-server that stops and starts again on its port and files, the fake
model server as its own process (steered over HTTP), and `refinery serve` processes that can be
SIGKILLed, restarted and measured (RSS)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from api.auth import new_key
from core.processes import stop_process
from testkit.api_server import SERVE
from testkit.redis import REDIS_SERVER, free_port


def wait_until(check: Any, timeout_s: float, what: str, process: Any = None) -> None:
    """Poll `check()` until true; fail after `timeout_s` or when `process` exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        with contextlib.suppress(OSError, httpx.HTTPError, redis.RedisError):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not ready after {timeout_s} s")


class DurableRedis:
    """`redis-server` with `appendonly yes` (fsync every write) on a fixed port and folder, so
    a stop followed by a start is an outage that loses nothing that was acknowledged. With a
    `password`, clients must AUTH (and the URL carries it: logs must not)."""

    def __init__(self, workdir: Path, port: int | None = None, password: str = "") -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [
            str(REDIS_SERVER),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.workdir),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ]
        if self.password:
            args += ["--requirepass", self.password]
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self.ping, 15, "redis-server", self.process)

    def stop(self) -> None:
        """SIGKILL: the harshest outage; `appendfsync always` keeps every acknowledged write."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def ping(self) -> bool:
        with redis.Redis.from_url(self.url, socket_timeout=0.5) as client:
            return bool(client.ping())

    def dbsize(self) -> int:
        with redis.Redis.from_url(self.url) as client:
            return int(client.dbsize())


class FakeModelProcess:
    """`python -m testkit.fake_openai` as its own process; `configure()` changes its
    latency and fault schedule, `stats()` reads its counters and the prompts it received."""

    def __init__(self, workdir: Path, latency_ms: float = 0.0, port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.latency_ms = latency_ms
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        args = [
            sys.executable,
            "-m",
            "testkit.fake_openai",
            "--port",
            str(self.port),
            "--latency-ms",
            str(self.latency_ms),
        ]
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / "fake_openai.log").open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        wait_until(
            lambda: httpx.get(f"{self.base_url}/models").status_code == 200,
            60,
            "fake model server",
            self.process,
        )

    def configure(self, **changes: Any) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/_fake/config"
        return httpx.post(url, json=changes, timeout=10).json()

    def stats(self, last: int = 20) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/_fake/stats"
        return httpx.get(url, params={"last": last}, timeout=10).json()

    def stop(self) -> None:
        stop_process(self.process, grace_s=10)
        self.process = None


def key_file(path: Path, names: dict[str, tuple[int, int]]) -> dict[str, str]:
    """Write a keys file for `names` (name -> (per minute, burst)); returns name -> key."""
    keys, lines = {}, []
    for name, (per_minute, burst) in names.items():
        key, value = new_key()
        keys[name] = key
        lines.append(f"{value} {name} {per_minute} {burst}")
    path.write_text("\n".join(lines) + "\n")
    return keys


def serve_env(model_url: str, redis_url: str, workdir: Path, prefix: str, **extra: str) -> dict:
    """A `refinery serve` environment: the fake model, the given Redis, no cache, no local
    model fallback, JSON logs at INFO (the access scenario reads them for secrets)."""
    foreign = ("REFINERY_", "REDIS_URL", "OPENAI_", "LANGSMITH_", "LANGCHAIN_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(foreign)}
    env.update(
        {
            "REFINERY_OPENAI_BASE_URL": model_url,
            "REDIS_URL": redis_url,
            "REFINERY_REDIS_KEY_PREFIX": prefix,
            "REFINERY_DATA_DIR": str(workdir / "data"),
            "REFINERY_LLM_CACHE": "false",
            "REFINERY_LLM_LOCAL_FALLBACK": "false",
            "REFINERY_LOG_LEVEL": "INFO",
            "REFINERY_ALERT_EVAL_INTERVAL_S": "1",
            **extra,
        }
    )
    return env


@dataclass
class ApiProcess:
    """One `refinery serve` process on a fixed loopback port; `kill()` is SIGKILL and
    `start()` brings a new process up on the same port, settings and Redis."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 300) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*SERVE, "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        url = f"{self.base_url}/healthz"
        wait_until(
            lambda: httpx.get(url, timeout=1).status_code == 200,
            timeout_s,
            f"refinery serve on port {self.port}",
            self.process,
        )

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown handler runs."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_mb(self) -> float:
        """Resident memory of the server process now, in MiB."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")
