"""The embedded model server: llama.cpp's `llama-server` (built at set-up from the llama.cpp
source that llama-cpp-python vendors) on a loopback port, with parallel slots, continuous
batching and prompt-prefix reuse, supervised: if it exits or stops answering its health check it
is started again (with backoff, and an error log line when it keeps dying), and callers wait for
it within their own deadline instead of spending retries on a closed port.

One server per data directory and model, shared by every process that uses them: the first
takes an exclusive lock (`run/local-model-<model>.lock`) and publishes its port; the others
attach to that port instead of starting a second server (two servers on one machine each take
every core and thrash: measured, two `refinery run` at once ran slower together than one after
the other). An attached process watches the server; when the owner exits (its server goes with
it), the first to take the lock starts the server again on the same port, and the rest attach.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import fcntl
import http.client
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from core.llm.local_model import model_file
from core.llm.promoted import LocalModel
from core.processes import free_port, port_free, stop_process
from core.settings import PROJECT_ROOT, Settings, get_settings
from core.telemetry.metrics import LOCAL_MODEL_READY, LOCAL_MODEL_RESTARTS

log = logging.getLogger(__name__)

BINARY_NAME = "llama-server"


class ServerBinaryError(RuntimeError):
    """`llama-server` was not built (run scripts/setup.sh)."""


def server_binary() -> Path:
    """The `llama-server` set-up built: beside the interpreter (`.venv/bin`), or on PATH."""
    beside = Path(sys.executable).parent / BINARY_NAME
    if beside.is_file():
        return beside
    found = shutil.which(BINARY_NAME) or shutil.which(BINARY_NAME, path=str(PROJECT_ROOT))
    if found:
        return Path(found)
    raise ServerBinaryError(
        f"{BINARY_NAME} is not built: run scripts/setup.sh (it compiles it from the llama.cpp "
        "source in llama-cpp-python's sdist)"
    )


def default_slots() -> int:
    """Parallel slots for this machine: two per core, at least 2 and at most 8 (decode is
    memory-bound, so batched slots share one pass over the weights)."""
    return max(2, min(8, 2 * (os.cpu_count() or 1)))


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to stop it when the parent dies, even by SIGKILL,
    so a crashed run never leaves a model server holding the CPU."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


HANG_S = 60.0
"""How long a running server may go without answering its health check before it is taken for
hung and restarted. A busy server on a loaded machine answers late, not never: with 3 missed
checks (about 9 s) as the rule, the supervisor killed a server generating for four clients while
training and tests held both cores, and every call in flight failed with it."""


@dataclass
class HealthWatch:
    """When a live server counts as hung: no health check answered for `hang_s` (by the
    injected clock's readings), however many checks were missed."""

    hang_s: float = HANG_S
    last_ok: float | None = None

    def record(self, ok: bool, now: float) -> bool:
        """Note one health check at `now`; whether the server is now to be restarted as hung."""
        if ok or self.last_ok is None:
            self.last_ok = now
            return False
        return now - self.last_ok >= self.hang_s


@dataclass
class ServerState:
    """What the supervisor knows of the server, for `/readyz` and metrics."""

    ready: bool = False
    reason: str = "starting"
    restarts: int = 0
    missed: int = 0
    """Health checks missed in a row by a running server (a busy one misses some)."""


class LocalModelServer:
    """`llama-server` as a supervised child process on loopback, shared by the whole process."""

    def __init__(
        self, settings: Settings | None = None, *, shared: bool = True, hang_s: float = HANG_S,
        health_timeout_s: float = 5.0,
    ) -> None:  # fmt: skip
        self.settings = settings or get_settings()
        self.shared = shared  # False: a server of its own (a benchmark of its settings)
        self.model_name, self.model_path = model_file(self.settings)
        self.lora = self.settings.model_lora
        if self.lora is not None:
            if not self.lora.is_file():
                raise FileNotFoundError(f"REFINERY_MODEL_LORA {self.lora} is not a file")
            self.model_name = f"{self.model_name}+{self.lora.stem}"
        self.slots = self.settings.local_parallel or default_slots()
        self.slot_context = self.settings.local_context
        self.port = self.settings.local_port or free_port()
        self.hang_s = hang_s
        self.health_timeout_s = health_timeout_s
        self.log_path = self.settings.data_dir / "logs" / "local-model.log"
        run = self.settings.data_dir / "run"
        self.lock_path = run / f"local-model-{self.model_name}.lock"
        self.info_path = run / f"local-model-{self.model_name}.json"
        self._lock_fd: int | None = None
        self.state = ServerState()
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def owner(self) -> bool:
        """Whether this process runs the server (else it uses one another process runs)."""
        return self._lock_fd is not None or not self.shared

    def command(self) -> list[str]:
        threads = self.settings.local_threads or os.cpu_count() or 2
        return [
            str(server_binary()),
            "--model", str(self.model_path),
            "--alias", self.model_name,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--threads", str(threads),
            "--threads-batch", str(threads),
            "--parallel", str(self.slots),
            "--ctx-size", str(self.slot_context * self.slots),
            "--cont-batching",
            "--cache-reuse", "256",
            "--metrics",
            "--slots",
            "--no-webui",
            *(["--lora", str(self.lora)] if self.lora is not None else []),
        ]  # fmt: skip

    # --- life cycle ------------------------------------------------------------------------------

    def start(self, timeout_s: float = 180.0) -> None:
        """Start the server (or attach to the one another process runs for this data directory
        and model) and its supervisor; returns once it answers. A server that dies while it
        loads is started again (3 tries, as the supervisor would) before this raises."""
        deadline = time.monotonic() + timeout_s
        while not self._claim():
            if self._attach(deadline - time.monotonic()):
                self._watch()
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the local model server another process runs ({self.info_path}) is not "
                    f"ready; see {self.log_path}"
                )
        self._serve(deadline)

    def _serve(self, deadline: float) -> None:
        """Run the server as its owner: start it, publish its port, supervise it."""
        for attempt in range(1, 4):
            self._spawn()
            if self._wait_healthy(deadline - time.monotonic()):
                break
            if self._process is not None and self._process.returncode == -signal.SIGILL:
                self.stop()  # the same binary fails the same way every time: no retry
                raise ServerBinaryError(
                    f"{BINARY_NAME} stopped on an illegal instruction: it was compiled for "
                    "another CPU (REFINERY_LLAMA_NATIVE=1). Run scripts/setup.sh on this machine "
                    "(it rebuilds for this CPU), or without REFINERY_LLAMA_NATIVE for the "
                    "portable build"
                )
            if self._stopping.is_set() or time.monotonic() >= deadline or attempt == 3:
                reason = self.state.reason
                self.stop()
                raise TimeoutError(
                    f"the local model server is not ready ({reason}); see {self.log_path}"
                )
            self._restart_count(f"{self.state.reason} while loading")
            with self._lock:
                process, self._process = self._process, None
            stop_process(process, grace_s=2)
        self._publish()
        self._watch()

    def _watch(self) -> None:
        self._supervisor = threading.Thread(
            target=self._supervise, name="local-model-supervisor", daemon=True
        )
        self._supervisor.start()

    def stop(self) -> None:
        self._stopping.set()
        self._ready.clear()
        with self._lock:
            process, self._process = self._process, None
        stop_process(process, grace_s=10)
        self._release()

    # --- sharing one server between processes ----------------------------------------------------

    def _claim(self) -> bool:
        """Take the data directory's lock for this model (True), or see that another process
        holds it (False). The lock lasts as long as this process keeps the file open."""
        if self.owner:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        shared = self._published()
        if shared and not self.settings.local_port and port_free(shared["port"]):
            self.port = shared["port"]  # take over on the port the others already use
        return True

    def _release(self) -> None:
        """Let the lock go; the published port stays, so the next owner serves on it and the
        processes attached to this one keep the address their clients have (a new owner on a
        port of its own left them calling a closed one)."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)

    def _publish(self) -> None:
        if not self.shared:
            return
        info = {"port": self.port, "model": self.model_name, "pid": os.getpid()}
        tmp = self.info_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(self.info_path)

    def _published(self, *, running: bool = False) -> dict[str, Any] | None:
        """The port (and owner's pid) the data directory's server was published with; with
        `running`, only while that owner runs (the port outlives its owner for the next one to
        serve on, and another program may listen there meanwhile)."""
        try:
            info = json.loads(self.info_path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(info, dict) or not isinstance(info.get("port"), int):
            return None
        return info if not running or _running(info.get("pid")) else None

    def _attach(self, timeout_s: float) -> bool:
        """Wait for the owner's server to answer and use its port (False if it does not
        within `timeout_s`, or the owner went away: the caller tries the lock again)."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        while time.monotonic() < deadline and not self._stopping.is_set():
            shared = self._published(running=True)
            if shared:
                self.port = shared["port"]
                if self._healthy():
                    self._set(True, "ready (shared)")
                    log.info("local model %s shared at %s", self.model_name, self.base_url)
                    return True
            if self._lock_free():
                return False
            self._stopping.wait(0.2)
        return False

    def _lock_free(self) -> bool:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
        return True

    def _spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file, self._lock:
            self._process = subprocess.Popen(
                self.command(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self._set(False, "starting")

    def _set(self, ready: bool, reason: str) -> None:
        self.state.ready, self.state.reason = ready, reason
        LOCAL_MODEL_READY.set(1 if ready else 0)
        (self._ready.set if ready else self._ready.clear)()

    def _healthy(self) -> bool:
        """`GET /health` answers 200 (plain http.client: polled every second, kept out of
        httpx's request log)."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=self.health_timeout_s
        )
        try:
            connection.request("GET", "/health")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def _wait_healthy(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self._stopping.is_set():
            process = self._process
            if process is None or process.poll() is not None:
                code = process.returncode if process else None
                self._set(False, f"exited with {code}")
                return False
            if self._healthy():
                self._set(True, "ready")
                log.info("local model %s serving at %s", self.model_name, self.base_url)
                return True
            self._stopping.wait(0.2)
        return False

    def _supervise(self) -> None:
        """Restart the server whenever it exits or answers no health check for `hang_s`; an
        attached process watches the shared one and takes over when its owner is gone."""
        backoff = 1.0
        while not self.owner and not self._stopping.is_set():
            if self._healthy():
                self._set(True, "ready (shared)")
                self._stopping.wait(0.5)
                continue
            # callers wait for readiness from the first miss on, not spend retries on a
            # closed port; the owner's exit frees the lock at once, so take over at once
            self._set(False, "shared server not answering")
            if self._claim():
                self._restart_count("its owner is gone: serving it here")
                self._spawn()
                if self._wait_healthy(180.0):
                    self._publish()
            else:
                self._attach(1.0)
                self._stopping.wait(0.2)
        watch = HealthWatch(self.hang_s)
        while not self._stopping.is_set():
            process = self._process
            exited = process is None or _exited_within(process, 1.0)
            if self._stopping.is_set():
                return
            if not exited:
                healthy = self._healthy()
                self.state.missed = 0 if healthy else self.state.missed + 1
                if healthy:
                    backoff = 1.0
                    self._set(True, "ready")
                if not watch.record(healthy, time.monotonic()):
                    continue
            reason = f"exited with {process.returncode}" if exited and process else "not answering"
            self._restart(reason, backoff)
            backoff = min(backoff * 2, 30.0)
            watch = HealthWatch(self.hang_s)

    def _restart_count(self, reason: str) -> None:
        """Count and log one restart (an error line once it keeps dying)."""
        self.state.restarts += 1
        LOCAL_MODEL_RESTARTS.inc()
        self._set(False, f"restarting: {reason}")
        level = logging.ERROR if self.state.restarts >= 3 else logging.WARNING
        log.log(level, "local model server %s; restart %d", reason, self.state.restarts,
                extra={"restarts": self.state.restarts, "log": str(self.log_path)})  # fmt: skip

    def _restart(self, reason: str, backoff: float) -> None:
        self._restart_count(reason)
        with self._lock:
            process, self._process = self._process, None
        stop_process(process, grace_s=2)
        if self._stopping.wait(backoff if self.state.restarts > 1 else 0):
            return
        self._spawn()
        self._wait_healthy(180.0)

    # --- what callers ask ------------------------------------------------------------------------

    def wait_ready(self, timeout_s: float) -> bool:
        """Block until the server answers (True) or `timeout_s` passes (False)."""
        return self._ready.wait(timeout_s)

    async def until_ready(self, timeout_s: float) -> bool:
        """`wait_ready` for coroutines (the event loop keeps running meanwhile)."""
        if self._ready.is_set():
            return True
        return await asyncio.to_thread(self._ready.wait, timeout_s)

    async def recheck(self) -> bool:
        """Check the server now, because a caller could not reach it: True if it answers;
        else it is not ready from here on (callers wait for it) until the supervisor sees it
        answer again, having restarted it or taken over from an owner that left."""
        if await asyncio.to_thread(self._healthy):
            return True
        self._set(False, "a caller could not reach it")
        return False

    async def slot_state(self) -> list[dict[str, Any]]:
        """The server's slots (`GET /slots`): id, whether it is processing, its task."""
        async with httpx.AsyncClient(timeout=2) as client:
            reply = await client.get(f"{self.root_url}/slots")
            reply.raise_for_status()
            return list(reply.json())

    def kill(self) -> None:
        """SIGKILL the server process (for fault tests); the supervisor brings it back."""
        process = self._process
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)


def _exited_within(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait up to `seconds` for `process` to exit (an exit is seen at once, not at a poll)."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


_servers: dict[str | None, LocalModelServer] = {}
_lock = threading.Lock()


def _running(pid: Any) -> bool:
    """Whether a process of this pid runs (one that cannot be signalled by us runs too)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def local_server(model: LocalModel | None = None) -> LocalModelServer:
    """The process's shared server of `model` (None: the embedded default), started on first use
    and stopped at exit."""
    key = model.name if model is not None else None
    with _lock:
        if key not in _servers:
            settings = get_settings()
            server = LocalModelServer(model.settings(settings) if model else settings)
            server.start()
            atexit.register(server.stop)
            _servers[key] = server
        return _servers[key]


def stop_local_server() -> None:
    """Stop the shared servers (the next call starts one with the settings of then)."""
    with _lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()


def running_server(model: LocalModel | None = None) -> LocalModelServer | None:
    """The shared server of `model` (None: the default) if this process started it (never
    starts it)."""
    return _servers.get(model.name if model is not None else None)
