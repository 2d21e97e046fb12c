"""A real webhook receiver on loopback: an HTTP server in a thread that keeps every JSON body
POSTed to it, for tests of alert delivery."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class WebhookReceiver:
    """Serves `POST /hook` on a free loopback port; `received` holds the decoded bodies."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                with receiver._lock:
                    receiver.received.append(body)
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[dict[str, Any]]:
        """The bodies received, once there are at least `count` (or the timeout passed)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(self.received) < count:
            time.sleep(0.01)
        with self._lock:
            return list(self.received)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A fresh webhook receiver on loopback for one test."""
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
