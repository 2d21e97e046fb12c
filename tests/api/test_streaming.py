"""Streaming against a real server: event order and content, heartbeats, cancellation when the
client disconnects, and resuming the cancelled thread. Nothing here races the clock: the fake
model sends a token only once the client has seen the one before (lockstep), or holds its call
until the test lets go."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from testkit.api_server import ApiServer, Sse, iter_sse

WORDS = ["cat", "dog", "moon", "river"]
REQUEST = {"task": "Write a story.", "constraints": {"required_words": WORDS}}


GUARD_S = 30.0
"""How long a lockstep or a wait may take before the test fails (never reached when it works)."""


def stream(
    api_server: ApiServer, seen: Callable[[Sse], None] = lambda _: None
) -> tuple[str, list[Sse]]:
    """One streamed run: its thread id and its events (heartbeats left out); `seen` gets each
    event as it arrives."""
    with (
        api_server.client() as client,
        client.stream("POST", "/v1/refinements/stream", json=REQUEST) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = []
        for event in iter_sse(response):
            if event.name != ":":
                seen(event)
                events.append(event)
        return response.headers["x-thread-id"], events


class Lockstep:
    """The fake sends the draft's piece i only once the client has seen i draft token events:
    a server that joined two pieces, or held them back, stalls it (and the test fails)."""

    def __init__(self) -> None:
        self._seen = 0
        self._changed = threading.Condition()
        self._broken = False
        """A wait ran out: the rest go unpaced, so a broken server fails fast, not hangs."""

    def piece(self, kind: str, index: int) -> None:
        if kind.startswith("draft") and not self._broken:
            with self._changed:
                ready = self._changed.wait_for(lambda: self._seen >= index, timeout=GUARD_S)
                self._broken = not ready

    def saw(self, event: Sse) -> None:
        if event.name == "token" and event.data["node"] == "draft":
            with self._changed:
                self._seen += 1
                self._changed.notify_all()


def test_stream_events_in_order_with_tokens_scores_and_result(api_server: ApiServer) -> None:
    fake, lockstep = api_server.fake, Lockstep()
    fake.paced = lockstep.piece  # each draft token is generated after the last one arrived
    try:
        thread_id, events = stream(api_server, lockstep.saw)
    finally:
        fake.paced = None

    names = [e.name for e in events]
    assert names[0] == "run" and names[-1] == "result"
    assert events[0].data["thread_id"] == thread_id
    ids = [tuple(map(int, (e.id or "").split("-"))) for e in events]  # Redis stream ids
    assert ids == sorted(set(ids)), "event ids increase (any replica can resume after one)"
    nodes = [e.data["node"] for e in events if e.name == "node"]
    assert nodes[:3] == ["intake", "plan", "draft"]
    assert nodes[-2:] == ["confidence", "finalize"]

    # The drafter's tokens come before its node update and add up to its draft.
    draft_at = next(
        i for i, e in enumerate(events) if e.name == "node" and e.data["node"] == "draft"
    )
    draft_tokens = [e for e in events[:draft_at] if e.name == "token"]
    assert draft_tokens and all(t.data["node"] == "draft" for t in draft_tokens)
    assert "".join(t.data["text"] for t in draft_tokens).strip() == events[draft_at].data["draft"]
    pieces = len(events[draft_at].data["draft"].split())
    assert len(draft_tokens) == pieces, "tokens stream one by one, not as one block"

    # Each score follows its scoring node, iterations count up, and refine tokens come between.
    scores = [e.data for e in events if e.name == "score"]
    assert [s["iteration"] for s in scores] == list(range(len(scores)))
    assert scores[0]["findings"][0]["source"] == "required_words"
    assert scores[-1]["score"] > scores[0]["score"]
    refine_tokens = [e for e in events if e.name == "token" and e.data["node"] == "refine"]
    assert refine_tokens and len(scores) >= 2

    result = events[-1].data
    assert result["thread_id"] == thread_id
    assert result["answer"] == scores[-1]["draft"]
    assert all(word in result["answer"] for word in WORDS)
    assert result["stop_reason"] == "passed" and 0 < result["confidence"] <= 1
    assert [h["score"] for h in result["history"]] == [s["score"] for s in scores]


def test_tokens_generated_at_once_go_out_together(api_server: ApiServer) -> None:
    """The fake streams a reply's tokens at once (one write): those that come within the
    flush window share one event, and the text is the same."""
    _, events = stream(api_server)
    draft_at = next(
        i for i, e in enumerate(events) if e.name == "node" and e.data["node"] == "draft"
    )
    draft = events[draft_at].data["draft"]
    draft_tokens = [e for e in events[:draft_at] if e.name == "token"]
    assert "".join(t.data["text"] for t in draft_tokens).strip() == draft
    assert len(draft_tokens) < len(draft.split())


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until it holds; fail after `GUARD_S`."""
    deadline = time.monotonic() + GUARD_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def test_disconnect_cancels_the_run_and_resume_finishes_it(api_server: ApiServer) -> None:
    fake = api_server.fake
    fake.hold()  # the drafter's call waits until the client has gone
    try:
        with (
            api_server.client() as client,
            client.stream("POST", "/v1/refinements/stream", json=REQUEST) as response,
        ):
            thread_id = response.headers["x-thread-id"]
            seen = []
            for event in iter_sse(response):
                seen.append(event.name)
                if ":" in seen and "node" in seen:  # a heartbeat while the drafter waits
                    break
            wait_until(lambda: fake.held == 1, "the drafter's call is held")
            calls_at_disconnect = fake.calls
        assert seen[0] == "run"
        # Cancelled: the thread stops running (a run that went on would keep its lease).
        with api_server.client() as client:
            status = lambda: client.get(f"/v1/threads/{thread_id}").json()["status"]  # noqa: E731
            wait_until(lambda: status() == "interrupted", "the run stopped")
    finally:
        fake.hold(False)
    wait_until(lambda: fake.held == 0, "the held call returned")
    assert fake.calls == calls_at_disconnect, "the run went on after the client left"

    with api_server.client() as client:
        thread = client.get(f"/v1/threads/{thread_id}").json()
        assert thread["status"] == "interrupted"
        assert thread["next"], "a cancelled thread has nodes left to run"
        resumed = client.post(f"/v1/threads/{thread_id}/resume", json={})
        assert resumed.status_code == 200, resumed.text
        result = resumed.json()
        assert result["thread_id"] == thread_id
        assert all(word in result["answer"] for word in WORDS)
        done = client.get(f"/v1/threads/{thread_id}").json()
        assert done["status"] == "done" and done["answer"] == result["answer"]
        again = client.post(f"/v1/threads/{thread_id}/resume", json={})
        assert again.status_code == 409 and again.json()["error"]["type"] == "thread_finished"


def test_every_event_matches_its_published_definition(api_server: ApiServer) -> None:
    """Each streamed payload validates, with no extra field, against the one model its event
    name is defined by, and the published OpenAPI event list names exactly those events."""
    from api.streaming import EVENTS

    _, events = stream(api_server)
    seen = {e.name for e in events}
    assert {"run", "node", "token", "score", "result"} <= seen
    for event in events:
        assert event.name in EVENTS, f"unpublished event {event.name!r}"
        EVENTS[event.name].model_validate(event.data)  # payloads forbid extra fields

    with api_server.client() as client:
        spec = client.get("/openapi.json").json()
    for path in ("/v1/refinements/stream", "/v1/threads/{thread_id}/events"):
        [operation] = spec["paths"][path].values()
        content = operation["responses"]["200"]["content"]["text/event-stream"]
        assert content["itemSchema"]["properties"]["event"]["enum"] == list(EVENTS)
    description = spec["paths"]["/v1/refinements/stream"]["post"]["responses"]["200"]
    published = [
        line.split("`")[1]
        for line in description["description"].splitlines()
        if line.startswith("- `")
    ]
    assert published == list(EVENTS)
