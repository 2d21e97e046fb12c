"""The embedded model server: llama.cpp's `llama-server` (built at set-up from the llama.cpp
source that llama-cpp-python vendors) on a loopback port, with parallel slots, continuous
batching and prompt-prefix reuse, supervised: if it exits or stops answering its health check it
is started again (with backoff, and an error log line when it keeps dying), and callers wait for
it within their own deadline instead of spending retries on a closed port.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import http.client
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
from core.processes import free_port, stop_process
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


@dataclass
class ServerState:
    """What the supervisor knows of the server, for `/readyz` and metrics."""

    ready: bool = False
    reason: str = "starting"
    restarts: int = 0


class LocalModelServer:
    """`llama-server` as a supervised child process on loopback, shared by the whole process."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.model_name, self.model_path = model_file(self.settings)
        self.slots = self.settings.local_parallel or default_slots()
        self.slot_context = self.settings.local_context
        self.port = self.settings.local_port or free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root_url}/v1"
        self.log_path = self.settings.data_dir / "logs" / "local-model.log"
        self.state = ServerState()
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

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
        ]  # fmt: skip

    # --- life cycle ------------------------------------------------------------------------------

    def start(self, timeout_s: float = 180.0) -> None:
        """Start the server and its supervisor; returns once it answers. A server that dies
        while it loads is started again (3 tries, as the supervisor would) before this
        raises."""
        deadline = time.monotonic() + timeout_s
        for attempt in range(1, 4):
            self._spawn()
            if self._wait_healthy(deadline - time.monotonic()):
                break
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
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
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
        """Restart the server whenever it exits or fails its health check 3 times running."""
        failures, backoff = 0, 1.0
        while not self._stopping.is_set():
            process = self._process
            exited = process is None or _exited_within(process, 1.0)
            if self._stopping.is_set():
                return
            if not exited:
                if self._healthy():
                    failures, backoff = 0, 1.0
                    self._set(True, "ready")
                    continue
                failures += 1
                if failures < 3:
                    continue
            reason = f"exited with {process.returncode}" if exited and process else "not answering"
            self._restart(reason, backoff)
            backoff = min(backoff * 2, 30.0)
            failures = 0

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


_server: LocalModelServer | None = None
_lock = threading.Lock()


def local_server() -> LocalModelServer:
    """The process's shared local model server, started on first use and stopped at exit."""
    global _server
    with _lock:
        if _server is None:
            server = LocalModelServer()
            server.start()
            atexit.register(server.stop)
            _server = server
        return _server


def stop_local_server() -> None:
    """Stop the shared server (the next call starts one with the settings of then)."""
    global _server
    with _lock:
        server, _server = _server, None
    if server is not None:
        server.stop()


def running_server() -> LocalModelServer | None:
    """The shared server if this process started one (never starts it)."""
    return _server
