"""One embedded model server per data directory and model, shared by the processes that use
them: the first runs it, the others attach, and one of them takes over when the owner goes.

The server here is a stand-in process that answers `/health` on its port (the real
`llama-server` is exercised by the `model` tests); locks and ports are the real ones."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from core.llm.endpoints import HealthBoard
from core.llm.local_server import HealthWatch, LocalModelServer
from core.llm.pooled import PooledChatModel, Target
from core.llm.retries import with_retries
from core.settings import Settings

HEALTH = """
import http.server, json, sys
REPLY = {"id": "c", "object": "chat.completion", "created": 0, "model": "tiny",
         "choices": [{"index": 0, "finish_reason": "stop",
                      "message": {"role": "assistant", "content": "Red, green and blue."}}],
         "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"{}")
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(REPLY).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


class StandIn(LocalModelServer):
    """The supervisor, locks and sharing of `LocalModelServer` around a process that answers
    its health check and every chat completion with one fixed reply."""

    def command(self) -> list[str]:
        return [sys.executable, "-c", HEALTH, str(self.port)]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., StandIn]]:
    started: list[StandIn] = []

    def make(
        data: Path | None = None, model: str = "tiny", shared: bool = True,
        start_s: float = 30.0, **watch: float,
    ) -> StandIn:  # fmt: skip
        data = data or tmp_path / "data"
        weights = tmp_path / f"{model}.gguf"
        weights.write_bytes(b"GGUF")
        server = StandIn(Settings(data_dir=data, model_path=weights), shared=shared, **watch)
        server.start(timeout_s=start_s)
        started.append(server)
        return server

    yield make
    for server in reversed(started):
        server.stop()


def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_second_process_on_the_same_data_directory_uses_the_first_one_s_server(
    servers: Callable[..., StandIn],
) -> None:
    first, second = servers(), servers()
    assert first.owner and first._process is not None
    assert not second.owner and second._process is None  # no second server started
    assert second.base_url == first.base_url and second.wait_ready(0)


def test_when_the_owner_stops_an_attached_process_serves_on_the_same_port(
    servers: Callable[..., StandIn],
) -> None:
    first, second = servers(), servers()
    port = first.port
    first.stop()
    assert until(lambda: second.owner and second.state.ready)
    assert second.port == port and second._process is not None
    assert second.state.restarts == 1
    third = servers()  # a newcomer attaches to the new owner
    assert not third.owner and third.port == port


async def test_a_call_of_an_attached_process_completes_when_the_owner_leaves(
    servers: Callable[..., StandIn],
) -> None:
    """The process that runs the shared server exits mid-run: the attached process's next call
    finds the port closed, waits while its supervisor takes the server over on the same port,
    and completes, with no retry allowed at all."""
    owner, attached = servers(), servers()
    model = with_retries(
        PooledChatModel(
            model_name="tiny", tier="local", static_targets=[Target(base_url=attached.base_url)],
            board=HealthBoard(10_000, 0.1, 0.1), ready=attached.until_ready,
            recheck=attached.recheck, timeout_s=30,
        ),
        Settings(llm_max_retries=0), "local", retry_timeouts=False,
    )  # fmt: skip
    assert (await model.ainvoke([HumanMessage("Name three colours.")])).content
    # The owner's server dies as its process leaves; the call goes out at once, before the
    # attached process's supervisor (which checks twice a second) has seen anything.
    served = owner._process
    assert served is not None
    owner._stopping.set()
    served.kill()
    served.wait()
    call = asyncio.create_task(model.ainvoke([HumanMessage("Name three colours.")]))
    await asyncio.to_thread(owner.stop)  # and its lock goes with the process
    reply = await call
    assert reply.content == "Red, green and blue."
    assert attached.owner and attached.state.restarts == 1


def test_a_newcomer_that_takes_over_serves_on_the_port_the_others_know(
    servers: Callable[..., StandIn],
) -> None:
    """The data directory's server keeps its port from one owner to the next: a process that
    starts as the owner leaves may take the lock before an attached one's supervisor does, and
    it served on a port of its own, while the attached process's model client still had the
    old one and failed every call (measured: four eval tasks ended in connection errors when
    one `refinery eval run` started as the last one exited)."""
    first = servers()
    port = first.port
    first.stop()
    newcomer = servers()
    assert newcomer.owner and newcomer.port == port


def test_a_port_taken_since_is_not_served_on_again(
    servers: Callable[..., StandIn], tmp_path: Path
) -> None:
    first = servers()
    port = first.port
    first.stop()
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the old TIME_WAITs
        taken.bind(("127.0.0.1", port))
        taken.listen()
        newcomer = servers()
        assert newcomer.owner and newcomer.port != port and newcomer.wait_ready(0)


def test_a_port_published_by_an_owner_long_gone_is_not_attached_to(
    servers: Callable[..., StandIn], tmp_path: Path
) -> None:
    """The port outlives its owner, and another server may answer there since (here: another
    data directory's): while a new owner holds the lock and loads, a newcomer waits for it
    rather than use the server on the old owner's port."""
    other = servers(tmp_path / "other")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    run = tmp_path / "data" / "run"
    run.mkdir(parents=True)
    (run / "local-model-tiny.json").write_text(
        json.dumps({"port": other.port, "model": "tiny", "pid": int(gone.stdout)})
    )
    loading = os.open(run / "local-model-tiny.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(loading, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new owner, not serving yet
    try:
        with pytest.raises(TimeoutError, match="not ready"):
            servers(start_s=1.0)  # it never attaches to `other`
    finally:
        os.close(loading)


def test_other_data_directories_and_models_get_servers_of_their_own(
    servers: Callable[..., StandIn], tmp_path: Path
) -> None:
    first = servers()
    elsewhere = servers(tmp_path / "other")
    other_model = servers(model="small")
    assert first.owner and elsewhere.owner and other_model.owner
    assert len({first.port, elsewhere.port, other_model.port}) == 3


def test_a_server_asked_for_on_its_own_is_never_shared(servers: Callable[..., StandIn]) -> None:
    first = servers()
    own = servers(shared=False)  # a benchmark of one setting runs the server it measures
    assert own.owner and own._process is not None and own.port != first.port
    assert servers().port == first.port  # a newcomer attaches to the shared one


def test_a_health_watch_restarts_only_after_hang_s_without_an_answer() -> None:
    watch = HealthWatch(hang_s=60.0)
    assert watch.record(True, now=0.0) is False
    assert [watch.record(False, now=t) for t in (10.0, 30.0, 59.9)] == [False, False, False]
    assert watch.record(False, now=60.0) is True
    assert watch.record(True, now=61.0) is False  # an answer starts the window again
    assert watch.record(False, now=120.0) is False
    assert watch.record(False, now=121.0) is True


def test_a_busy_server_that_answers_late_is_not_restarted(
    servers: Callable[..., StandIn],
) -> None:
    """A stopped process (SIGSTOP: alive, answering nothing, like a server whose cores are
    taken) misses checks for less than `hang_s` and is left alone; it was killed after three
    misses before."""
    server = servers(shared=False, hang_s=60.0, health_timeout_s=0.2)
    process = server._process
    assert process is not None
    os.kill(process.pid, signal.SIGSTOP)
    try:
        assert until(lambda: server.state.missed >= 4)
        assert server.state.restarts == 0 and server._process is process
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert until(lambda: server.state.missed == 0)
    assert server.state.restarts == 0 and server._process is process


def test_a_server_answering_nothing_for_hang_s_is_restarted(
    servers: Callable[..., StandIn],
) -> None:
    server = servers(shared=False, hang_s=1.0, health_timeout_s=0.2)
    process = server._process
    assert process is not None
    os.kill(process.pid, signal.SIGSTOP)
    assert until(lambda: server.state.restarts == 1 and server.wait_ready(0))
    assert server._process is not process and process.poll() is not None
