"""Scale-out on loopback for tests and benchmarks: Debian's nginx as the load balancer in front
of several `refinery serve` replicas (its config written to a temp dir, `proxy_buffering off`
so server-sent events pass as they come, the upstream that answered in `X-Upstream`), and the
fake model server as processes of its own."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.processes import stop_process
from testkit.api_server import SERVE
from testkit.redis import free_port

NGINX = Path("/usr/sbin/nginx")

_CONFIG = """
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    upstream refinery {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://refinery;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            # Server-sent events: pass each write on at once, and let a stream idle.
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 300s;
            # A replica that refuses the connection is skipped; a request it has begun is not
            # sent again (nginx never retries a POST it has sent: no run starts twice).
            proxy_next_upstream error timeout;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def wait_http(url: str, process: subprocess.Popen[bytes], timeout_s: float, log: Path) -> None:
    """Until `url` answers below 500; fails when the process exits or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited {process.returncode}\n{_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout_s} s\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


@dataclass
class Nginx:
    """nginx in the foreground on a free loopback port, balancing `upstreams` (host:port)."""

    prefix: Path
    upstreams: list[str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        servers = "\n".join(
            f"        server {u} max_fails=1 fail_timeout=30s;" for u in self.upstreams
        )
        return _CONFIG.format(prefix=self.prefix, port=self.port, servers=servers)

    def start(self) -> Nginx:
        if not NGINX.exists():
            raise RuntimeError(f"{NGINX} is missing: apt-get install nginx")
        self.port = self.port or free_port()
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(self.config())
        args = [str(NGINX), "-c", str(conf), "-p", str(self.prefix), "-g", "daemon off;"]
        log = self.prefix / "error.log"
        with (self.prefix / "nginx.out").open("ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        wait_http(f"{self.base_url}/healthz", self.process, 30, log)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def start_fake_models(
    workdir: Path, latencies_ms: list[float], parallel: int | None = None
) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """One fake OpenAI-protocol model server process per latency: (base URL, process); each
    generates at most `parallel` calls at once (None: unlimited)."""
    started = []
    for index, latency in enumerate(latencies_ms):
        port = free_port()
        args = [
            sys.executable,
            "-m",
            "testkit.fake_openai",
            "--port",
            str(port),
            "--latency-ms",
            str(latency),
            *(["--parallel", str(parallel)] if parallel else []),
        ]
        log = workdir / f"fake{index}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        started.append((f"http://127.0.0.1:{port}/v1", process, log))
    try:
        for url, process, log in started:
            wait_http(f"{url}/models", process, 60, log)
    except BaseException:
        for _, process, _ in started:
            stop_process(process)
        raise
    return [(url, process) for url, process, _ in started]


def replica_env(
    redis_url: str, endpoints: list[dict[str, object]], workdir: Path, **extra: str
) -> dict[str, str]:
    """The environment every replica shares: one Redis and key prefix, the weighted model
    endpoints, no response cache (every run calls the models), no local model, open rates."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFINERY_", "REDIS_URL"))}
    env.update(
        {
            "REDIS_URL": redis_url,
            "REFINERY_REDIS_KEY_PREFIX": f"s{uuid.uuid4().hex[:8]}",
            "REFINERY_LLM_ENDPOINTS": json.dumps(endpoints),
            "REFINERY_DATA_DIR": str(workdir / "data"),
            "REFINERY_LLM_CACHE": "false",
            "REFINERY_LLM_LOCAL_FALLBACK": "false",
            "REFINERY_LLM_MAX_RETRIES": "0",
            "REFINERY_LOG_LEVEL": "WARNING",
            "REFINERY_LOG_FORMAT": "text",
            "REFINERY_API_RATE_PER_MINUTE": "1000000",
            "REFINERY_API_RATE_BURST": "100000",
            **extra,
        }
    )
    return env


def start_replicas(
    env: dict[str, str], count: int, workdir: Path
) -> list[tuple[int, subprocess.Popen[bytes]]]:
    """`count` `refinery serve` processes on one environment (one Redis), started together:
    (port, process) each."""
    started = []
    for index in range(count):
        port = free_port()
        log = workdir / f"replica{index}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [*SERVE, "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        started.append((port, process, log))
    try:
        for port, process, log in started:
            wait_http(f"http://127.0.0.1:{port}/healthz", process, 300, log)
    except BaseException:
        for _, process, _ in started:
            stop_process(process)
        raise
    return [(port, process) for port, process, _ in started]


@contextlib.contextmanager
def cluster(
    env: dict[str, str], replicas: int, workdir: Path
) -> Iterator[tuple[Nginx, list[tuple[int, subprocess.Popen[bytes]]]]]:
    """`replicas` replicas behind nginx; everything stopped on exit."""
    procs = start_replicas(env, replicas, workdir)
    balancer = Nginx(
        workdir / f"nginx{os.getpid()}-{replicas}", [f"127.0.0.1:{p}" for p, _ in procs]
    )
    try:
        balancer.start()
        yield balancer, procs
    finally:
        balancer.stop()
        for _, process in procs:
            stop_process(process)
