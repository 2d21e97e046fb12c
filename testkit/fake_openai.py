"""A fake model server that speaks the real OpenAI chat-completions HTTP protocol on loopback.

It stands in for a model endpoint in integration tests and benchmarks: replies come from a
`responder` function (by default `cooperative_responder`, which recognises each prompt the
nodes send by its template in `nodes.prompts.PROMPTS` and answers it as `ANSWERS` documents),
optionally after a fixed latency, at most `parallel` at a time (as a real server's slots), and
a fault schedule can make given calls answer 429, 500, a malformed body, or hang. It counts
what it served and the prompts it did not recognise.
Run it alone with `python -m testkit.fake_openai --port 8100 --latency-ms 50`
(`--faults 3:500,4:hang`, `--fault-cycle 500,-,-`, `--responder one-word`); a process run
that way is steered and read through `POST /_fake/config` and `GET /_fake/stats`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from core.instructions.counts import CONJUNCTIONS
from nodes.prompts import recognise

Fault = Literal["429", "500", "malformed", "hang", "slow"]
Responder = Callable[[list[dict[str, Any]]], str]

KEEP_ALIVE_S = 75
"""Idle keep-alive of the fake's connections. Uvicorn's default (5 s) equals the OpenAI
client's pool expiry, so a request sent on a connection idle for just under 5 s could meet the
server's close: a real but random connection error that fault-counting tests must not see."""


def _words(fields: dict[str, str]) -> list[str]:
    """The words a prompt asks for: its `words` field, or a word draft's plan lines."""
    if "plan" in fields:
        listed = ",".join(line.partition(":")[2] for line in fields["plan"].splitlines())
    else:
        listed = fields["words"]
    return [w.strip() for w in listed.split(",") if w.strip()]


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip())[0].rstrip(".")


def _first_document(context: str) -> tuple[str, str] | None:
    found = re.search(r'<document id="([^"]+)">\n([^\n]+)', context)
    return (found.group(1), found.group(2)) if found else None


def _draft_grounded(fields: dict[str, str]) -> str:
    doc = _first_document(fields["context"])
    return f"{_first_sentence(doc[1])} [{doc[0]}]." if doc else "The documents do not say."


def _reword(sentence: str, change: str) -> str:
    """A sentence reworded the crude way a weak model might: a word tacked on or cut out, the
    end mark swapped, a mark worked in, small words left out."""
    body = sentence.rstrip().rstrip(".!?")
    several = re.findall(r'"([^"]+)"', change) if "the words" in change else []
    if several:
        return f"{body} with the {' and the '.join(several)}."
    word = re.search(r'the word "([^"]+)"', change)
    if word and "does not use" in change:
        return re.sub(rf"\s*\b{re.escape(word[1])}\b", "", sentence, flags=re.IGNORECASE).strip()
    if word and word[1].lower() in CONJUNCTIONS:  # a clause joined on, as a conjunction asks
        return f"{body}, {word[1]} the day went on."
    if word:
        return f"{body} with the {word[1]}."
    for cue, mark in (('"?!"', "?!"), ("question", "?"), ("exclamation", "!"), ("statement", ".")):
        if cue in change:
            return body + mark
    for cue, mark in (("semicolon", ";"), ("colon", ":"), ("comma", ",")):
        if cue in change:
            head, _, tail = body.partition(" ")
            return f"{head}{mark} {tail}."
    if "fewer words" in change:
        return (
            " ".join(w for w in body.split() if w.lower() not in {"the", "a", "of", "that", "it"})
            + "."
        )
    return sentence


STORY_FRAMES = (
    "Then she took the {} along.",
    "By noon her brother had carried the {} up the hill.",
    "They talked about the {} over a late lunch.",
    "At dusk the family packed the {} into the old van.",
    "Later a neighbour waved from behind the {}.",
    "Before bed, grandmother told a tale of the {}.",
)
"""A story's next sentences in turn (the teller refuses a sentence that says one told before
again in other words, as a weak model's "Then she took the X along." each time would)."""


def _story_next(words: list[str], story: str) -> str:
    """The frame after the last one the story so far ends with, filled with `words`."""
    openings = [frame.partition("{")[0] for frame in STORY_FRAMES]
    last = max(range(len(openings)), key=lambda i: story.rfind(openings[i]))
    turn = (last + 1) % len(STORY_FRAMES) if story.rfind(openings[last]) >= 0 else 0
    return STORY_FRAMES[turn].format(" and the ".join(words))


def _rewrite(draft: str, feedback: str) -> str:
    """The draft unchanged, but with each sentence the feedback asks to add (`add the sentence
    "..."`: how the review tests tell a rewrite that followed a reviewer's notes)."""
    added = re.findall(r'add the sentence "([^"]+)"', feedback, flags=re.IGNORECASE)
    return " ".join([draft, *added]) if added else draft


ANSWERS: dict[str, Callable[[dict[str, str]], str]] = {
    "draft_words": lambda f: (
        f"A story about the {', the '.join(_words(f)[: max(1, len(_words(f)) // 2)])}. "
        "It went on all day. It ended well."
    ),
    "answer_from_facts": lambda f: (
        _draft_grounded({"context": f["facts"]})
        if f["facts"].startswith("<document")
        else f["facts"].splitlines()[0].removeprefix("- ")
    ),
    "draft_grounded": _draft_grounded,
    "draft_free": lambda f: "This is an answer.",
    "draft_instructed": lambda f: (
        "This is an answer, written plainly for the reader. It says what was asked, in full."
    ),
    "redraft": lambda f: (
        "This is the whole answer, written again in full for the reader. It says what was "
        "asked and more."
    ),
    "reword": lambda f: _reword(f["sentence"], f["change"]),
    "reword_sentence": lambda f: _reword(f["sentence"], f["change"]),
    "continue": lambda f: "It was a quiet morning in the town. The shops opened one by one.",
    "continue_story": lambda f: (
        "They went on together. "
        + "".join(f"Then came the {w}. " for w in re.findall(r'"([^"]+)"', f["words"]))
        + "It ended well."
    ),
    "story_opening": lambda f: f"One morning a girl found the {' and the '.join(_words(f))}.",
    "story_next": lambda f: _story_next(_words(f), f["story"]),
    "fix_rules": lambda f: f["draft"],
    "cover_words": lambda f: f"Then the {' and the '.join(_words(f))} appeared together.",
    "fix_sentence": lambda f: f"{_first_sentence(f['source'])} [{f['doc_id']}].",
    "expand": lambda f: "It was a quiet morning in the town.",
    "rewrite": lambda f: _rewrite(f["draft"], f["feedback"]),
    "critique": lambda f: '{"score": 7, "feedback": ["Be more specific."]}',
    "read_instructions": lambda f: '{"instructions": []}',
    "split_question": lambda f: json.dumps({"facts": [{"about": "", "look_up": f["question"]}]}),
}
"""How the cooperative stand-in answers each prompt in `nodes.prompts.PROMPTS`, by name: a
weak model that does what it is asked, partly. A word draft uses the first half of its
required words; a sentence sub-task uses every word it is given; a grounded draft and a
sentence fix restate the first sentence of the (first) document with its citation; an answer
written from a question's facts states the first fact only; an
expansion adds one fixed sentence (a continuation two; a story's continuation one for each
word it is asked to use, between two fixed ones); a rewrite, whether from the critic's
feedback or from broken rules, returns the answer unchanged (but for a sentence the feedback
says to add, `add the sentence "..."`, put at its end); a sentence asked to use a word
gets it tacked on; the critic answers a 7 with one feedback item; the instruction reader
finds none; the question splitter gives one look-up, the question itself. A sentence asked to
change (`_reword`) changes the crude way: a word tacked on or cut out, the end mark swapped, a
punctuation mark after its first word, small words dropped."""

UNRECOGNISED = "No template made this prompt."
"""The reply to a prompt no template made (counted by the server in `unrecognised`)."""


def cooperative_responder(messages: list[dict[str, Any]]) -> str:
    """A deterministic stand-in for a small model: `ANSWERS` for the prompt's kind, recognised
    by `nodes.prompts.recognise` from the templates themselves (no wording copied here)."""
    known = recognise(str(messages[-1].get("content", "")))
    return ANSWERS[known[0]](known[1]) if known else UNRECOGNISED


def one_word_responder(messages: list[dict[str, Any]]) -> str:
    """Like `cooperative_responder`, but a sentence sub-task uses only the first of its words,
    so the refinement loop needs several rounds (a long run to interrupt)."""
    known = recognise(str(messages[-1].get("content", "")))
    if known and known[0] == "cover_words":
        return f"Then the {_words(known[1])[0]} appeared."
    if known and known[0] in ("story_opening", "story_next"):
        return _story_next(_words(known[1])[:1], known[1].get("story", ""))
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
    """Pause between streamed pieces, as a model that generates at a pace (0: all at once, the
    whole reply in one write)."""
    paced: Callable[[str, int], None] | None = None
    """Called on a worker thread before each streamed piece after the first, with the prompt's
    name in `PROMPTS` ("" when unrecognised) and the piece's index: a test holds a stream
    there until its client has seen the pieces before it (a lockstep, not a pace in time)."""
    holding: bool = False
    """While true, calls wait before they generate (a test's sync point: nothing can finish
    until it lets go); set it with `hold`. `held` counts the calls waiting."""
    held: int = 0
    parallel: int | None = None
    """Calls generated at once (None: unlimited); the rest queue, as on a real server:
    llama-cpp-python serves `n_parallel` slots, vLLM its batch. Latency is per generation, so a
    fake without a limit scales with concurrency in a way no model server does."""
    max_active: int = 0
    """The most calls that were generating at once."""
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
    unrecognised: list[str] = field(default_factory=list)
    """Prompts that no template in `nodes.prompts.PROMPTS` made (a prompt changed or added
    without the stand-in following); tests that drive the real nodes assert it stays empty."""
    formats: list[dict[str, Any] | None] = field(default_factory=list)
    """The `response_format` each call carried in its body (None: none)."""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    """Each call's whole request body, in arrival order."""
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: asyncio.Semaphore | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _released: asyncio.Event | None = None
    _active: int = 0

    @property
    def caps(self) -> list[dict[str, int]]:
        """The output-cap fields (`max_tokens`, `max_completion_tokens`) each call carried."""
        fields = ("max_tokens", "max_completion_tokens")
        return [{k: body[k] for k in fields if k in body} for body in self.bodies]

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
        prompt = str(messages[-1].get("content", ""))
        self.received.append((time.time(), prompt))
        self.bodies.append(body)
        kind = recognise(prompt)
        if kind is None:
            self.unrecognised.append(prompt)
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
        await self._hold()
        async with self._slot():
            await asyncio.sleep(self.latency_s * (20 if fault == "slow" else 1))
        self.formats.append(body.get("response_format"))
        text = self.responder(body.get("messages", []))
        finish = "stop"
        cap = body.get("max_tokens") or body.get("max_completion_tokens")
        if cap and _count_tokens(text) > cap:  # cut at the cap, as a real server does
            text, finish = " ".join(text.split()[:cap]), "length"
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
                self._stream(text, model, usage, finish, kind[0] if kind else ""),
                media_type="text/event-stream",
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
                        "finish_reason": finish,
                        "message": {"role": "assistant", "content": text},
                    }
                ],
                "usage": usage,
            }
        )

    def hold(self, on: bool = True) -> None:
        """Make calls wait before they generate, or (`on=False`) let every waiting call go;
        safe from any thread."""
        self.holding = on
        loop = self._loop
        if not on and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._let_go)

    def _let_go(self) -> None:
        if self._released is not None:
            self._released.set()
            self._released = None

    async def _hold(self) -> None:
        """Wait while `holding` (on the server's loop; `hold(False)` wakes it there)."""
        self._loop = asyncio.get_running_loop()
        if not self.holding:
            return
        with self._lock:
            self.held += 1
        try:
            while self.holding:
                if self._released is None:
                    self._released = asyncio.Event()
                await self._released.wait()
        finally:
            with self._lock:
                self.held -= 1

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """One generation slot (of `parallel`), held while the call "generates"."""
        if self.parallel and self._slots is None:
            self._slots = asyncio.Semaphore(self.parallel)  # on the server's own loop
        async with self._slots or contextlib.nullcontext():
            self._active += 1
            self.max_active = max(self.max_active, self._active)
            try:
                yield
            finally:
                self._active -= 1

    async def _stream(  # type: ignore[no-untyped-def]
        self, text: str, model: str, usage: dict[str, int], finish: str = "stop", kind: str = ""
    ):
        base = {
            "id": f"chatcmpl-{self.calls}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        pieces = re.findall(r"\S+\s*", text) or [""]
        at_once = not self.token_interval_s and self.paced is None
        lines = []
        for i, piece in enumerate(pieces):
            if i and self.paced is not None:
                await asyncio.to_thread(self.paced, kind, i)
            if i and self.token_interval_s:
                await asyncio.sleep(self.token_interval_s)
            delta = {"content": piece} | ({"role": "assistant"} if i == 0 else {})
            chunk = base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            lines.append(f"data: {json.dumps(chunk)}\n\n")
            if not at_once:
                yield lines.pop()
        stop = {"index": 0, "delta": {}, "finish_reason": finish}
        lines.append(f"data: {json.dumps(base | {'choices': [stop]})}\n\n")
        lines.append(f"data: {json.dumps(base | {'choices': [], 'usage': usage})}\n\n")
        lines.append("data: [DONE]\n\n")
        yield "".join(lines)

    async def models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    async def stats(self, request: Request) -> Response:
        """What it served: counters, and the last `received` prompts (`?last=N`, default 20)."""
        last = int(request.query_params.get("last", "20"))
        received = [text for _, text in self.received[-last:]] if last > 0 else []
        counts = {"calls": self.calls, "served": self.served, "failed": self.failed}
        counts |= {"unrecognised": len(self.unrecognised), "max_active": self.max_active}
        counts |= {"parallel": self.parallel, "held": self.held}
        return JSONResponse(counts | {"latency_ms": self.latency_s * 1000, "received": received})

    async def configure(self, request: Request) -> Response:
        """Change the behaviour of a running server: `latency_ms`, `faults` (call number ->
        fault, numbered from now), `fault_cycle` (`null` entries: no fault), `responder` (a
        name in `RESPONDERS`), `parallel` (generation slots, null: unlimited), `holding` (calls
        wait until it is false again), `reset` counters."""
        body = await request.json()
        if "responder" in body:
            self.responder = RESPONDERS[body["responder"]]
        if body.get("reset"):
            self.calls, self.served = 0, 0
            self.failed, self.call_times, self.received = {}, [], []
            self.unrecognised = []
        if "parallel" in body:
            self.parallel, self._slots = body["parallel"], None
        if "latency_ms" in body:
            self.latency_s = float(body["latency_ms"]) / 1000
        if "holding" in body:
            self._loop = asyncio.get_running_loop()
            self.hold(bool(body["holding"]))
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
    parser.add_argument("--parallel", type=int, default=None, help="generation slots")
    parser.add_argument("--faults", default="", help="call:fault,... e.g. 3:500,4:hang")
    parser.add_argument("--fault-cycle", default="", help="a repeating schedule, e.g. 500,-,-")
    parser.add_argument("--responder", choices=sorted(RESPONDERS), default="cooperative")
    args = parser.parse_args()
    fake = FakeOpenAI(
        responder=RESPONDERS[args.responder],
        latency_s=args.latency_ms / 1000,
        parallel=args.parallel,
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
