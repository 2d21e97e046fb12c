"""A fake model server that speaks the real OpenAI chat-completions HTTP protocol on loopback.

It stands in for a model endpoint in integration tests and benchmarks: replies come from a
`responder` function, optionally after a fixed latency, and a fault schedule can make given
calls answer 429, 500, a malformed body, or hang. It counts what it served.
Run it alone with `python -m testkit.fake_openai --port 8100 --latency-ms 50`
(`--faults 3:500,4:hang`, `--fault-cycle 500,-,-`, `--responder one-word`); a process run
that way is steered and read through `POST /_fake/config` and `GET /_fake/stats`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Fault = Literal["429", "500", "malformed", "hang", "slow"]
Responder = Callable[[list[dict[str, Any]]], str]

KEEP_ALIVE_S = 75
"""Idle keep-alive of the fake's connections. Uvicorn's default (5 s) equals the OpenAI
client's pool expiry, so a request sent on a connection idle for just under 5 s could meet the
server's close: a real but random connection error that fault-counting tests must not see."""

_WORDS = re.compile(r"uses? all of these words: ([^.\n]+)\.", re.IGNORECASE)


def cooperative_responder(messages: list[dict[str, Any]]) -> str:
    """A deterministic stand-in for a small model that does what it is asked, partly.

    Drafts use only the first half of the required words (like a weak model); sentence
    sub-tasks use every word they are given; critics answer JSON.
    """
    prompt = str(messages[-1].get("content", ""))
    if '"score"' in prompt:
        return '{"score": 7, "feedback": ["Be more specific."]}'
    match = _WORDS.search(prompt)
    if match:
        words = [w.strip() for w in match.group(1).split(",") if w.strip()]
        if "ONE short sentence" in prompt:
            return f"Then the {' and the '.join(words)} appeared together."
        half = words[: max(1, len(words) // 2)]
        return f"A story about the {', the '.join(half)}. It ended well."
    if "<document" in prompt:
        doc = re.search(r'<document id="([^"]+)">\n([^\n]+)', prompt)
        if doc:
            first = re.split(r"(?<=\.)\s", doc.group(2))[0]
            return f"{first.rstrip('.')} [{doc.group(1)}]."
    return "This is an answer."


def one_word_responder(messages: list[dict[str, Any]]) -> str:
    """Like `cooperative_responder`, but a sentence sub-task uses only the first of its words,
    so the refinement loop needs several rounds (a long run to interrupt)."""
    prompt = str(messages[-1].get("content", ""))
    words = _WORDS.search(prompt)
    if "ONE short sentence" in prompt and words:
        return f"Then the {words.group(1).split(',')[0].strip()} appeared."
    return cooperative_responder(messages)


RESPONDERS: dict[str, Responder] = {
    "cooperative": cooperative_responder,
    "one-word": one_word_responder,
}


def _count_tokens(text: str) -> int:
    return max(1, len(text.split()))


@dataclass
class FakeOpenAI:
    """The fake server's behaviour and counters; `serve()` runs it in a background thread."""

    responder: Responder = cooperative_responder
    latency_s: float = 0.0
    token_interval_s: float = 0.0
    """Pause between streamed pieces, as a model that generates at a pace (0: all at once)."""
    faults: dict[int, Fault] = field(default_factory=dict)
    """Call number (1-based) -> the fault that call gets."""
    fault_cycle: list[Fault | None] | None = None
    """A repeating schedule of faults, applied when `faults` has no entry for a call."""
    calls: int = 0
    served: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    call_times: list[float] = field(default_factory=list)
    received: list[tuple[float, str]] = field(default_factory=list)
    """(wall-clock arrival time, last message's text) of every call, in arrival order."""
    caps: list[dict[str, int]] = field(default_factory=list)
    """The output-cap fields (`max_tokens`, `max_completion_tokens`) each call carried."""
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _next_fault(self) -> tuple[int, Fault | None]:
        with self._lock:
            self.calls += 1
            n = self.calls
            self.call_times.append(time.monotonic())
        fault = self.faults.get(n)
        if fault is None and self.fault_cycle:
            fault = self.fault_cycle[(n - 1) % len(self.fault_cycle)]
        if fault:
            self.failed[fault] = self.failed.get(fault, 0) + 1
        return n, fault

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        messages = body.get("messages") or [{}]
        self.received.append((time.time(), str(messages[-1].get("content", ""))))
        self.caps.append({k: body[k] for k in ("max_tokens", "max_completion_tokens") if k in body})
        _, fault = self._next_fault()
        if fault == "429":
            return JSONResponse(
                {"error": {"message": "rate limited", "type": "rate_limit"}},
                status_code=429,
                headers={"retry-after-ms": "10"},
            )
        if fault == "500":
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, 500)
        if fault == "hang":
            await asyncio.sleep(3600)
        if fault == "malformed":
            return Response("{not json", media_type="application/json")
        await asyncio.sleep(self.latency_s * (20 if fault == "slow" else 1))
        text = self.responder(body.get("messages", []))
        self.served += 1
        prompt_tokens = sum(_count_tokens(str(m.get("content", ""))) for m in body["messages"])
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _count_tokens(text),
            "total_tokens": prompt_tokens + _count_tokens(text),
        }
        model = body.get("model", "fake")
        if body.get("stream"):
            return StreamingResponse(
                self._stream(text, model, usage), media_type="text/event-stream"
            )
        return JSONResponse(
            {
                "id": f"chatcmpl-{self.calls}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text},
                    }
                ],
                "usage": usage,
            }
        )

    async def _stream(self, text: str, model: str, usage: dict[str, int]):  # type: ignore[no-untyped-def]
        base = {
            "id": f"chatcmpl-{self.calls}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        pieces = re.findall(r"\S+\s*", text) or [""]
        for i, piece in enumerate(pieces):
            if i and self.token_interval_s:
                await asyncio.sleep(self.token_interval_s)
            delta = {"content": piece} | ({"role": "assistant"} if i == 0 else {})
            chunk = base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            yield f"data: {json.dumps(chunk)}\n\n"
        stop = {"index": 0, "delta": {}, "finish_reason": "stop"}
        yield f"data: {json.dumps(base | {'choices': [stop]})}\n\n"
        yield f"data: {json.dumps(base | {'choices': [], 'usage': usage})}\n\n"
        yield "data: [DONE]\n\n"

    async def models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    async def stats(self, request: Request) -> Response:
        """What it served: counters, and the last `received` prompts (`?last=N`, default 20)."""
        last = int(request.query_params.get("last", "20"))
        received = [text for _, text in self.received[-last:]] if last > 0 else []
        counts = {"calls": self.calls, "served": self.served, "failed": self.failed}
        return JSONResponse(counts | {"latency_ms": self.latency_s * 1000, "received": received})

    async def configure(self, request: Request) -> Response:
        """Change the behaviour of a running server: `latency_ms`, `faults` (call number ->
        fault, numbered from now), `fault_cycle` (`null` entries: no fault), `responder` (a
        name in `RESPONDERS`), `reset` counters."""
        body = await request.json()
        if "responder" in body:
            self.responder = RESPONDERS[body["responder"]]
        if body.get("reset"):
            self.calls, self.served = 0, 0
            self.failed, self.call_times, self.received = {}, [], []
        if "latency_ms" in body:
            self.latency_s = float(body["latency_ms"]) / 1000
        if "faults" in body:
            self.faults = {self.calls + int(n): f for n, f in (body["faults"] or {}).items()}
        if "fault_cycle" in body:
            self.fault_cycle = body["fault_cycle"] or None
        return await self.stats(request)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/models", self.models, methods=["GET"]),
                Route("/_fake/stats", self.stats, methods=["GET"]),
                Route("/_fake/config", self.configure, methods=["POST"]),
            ]
        )

    def serve(self) -> FakeOpenAI:
        """Start on a free loopback port in a background thread; returns self."""
        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            log_level="error",
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        for _ in itertools.count():
            if self._server.started:
                break
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
        if self._thread:
            self._thread.join(timeout=5)


def parse_faults(text: str) -> dict[int, Fault]:
    """`3:500,4:hang` -> {3: "500", 4: "hang"}."""
    pairs = (item.split(":", 1) for item in text.split(",") if item.strip())
    return {int(n): fault.strip() for n, fault in pairs}  # type: ignore[misc]


def parse_cycle(text: str) -> list[Fault | None] | None:
    """`500,-,-` -> ["500", None, None] (`-`: no fault)."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    return [None if item == "-" else item for item in items] or None  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--faults", default="", help="call:fault,... e.g. 3:500,4:hang")
    parser.add_argument("--fault-cycle", default="", help="a repeating schedule, e.g. 500,-,-")
    parser.add_argument("--responder", choices=sorted(RESPONDERS), default="cooperative")
    args = parser.parse_args()
    fake = FakeOpenAI(
        responder=RESPONDERS[args.responder],
        latency_s=args.latency_ms / 1000,
        port=args.port,
        faults=parse_faults(args.faults),
        fault_cycle=parse_cycle(args.fault_cycle),
    )
    uvicorn.run(
        fake.app(),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_S,
    )


if __name__ == "__main__":
    main()
