"""The run-event publisher's batching: tokens of one message that queued together go out as
one `token` event; every other event, and tokens of different messages, keep their place."""

from __future__ import annotations

from api.runs.event_log import join_tokens
from graph.events import Event


def token(text: str, message: str = "m1", node: str = "draft") -> Event:
    return "token", {"node": node, "message_id": message, "text": text}


def test_a_run_of_tokens_of_one_message_is_one_event() -> None:
    events = [token("A "), token("story"), token("."), ("node", {"node": "draft"})]
    assert join_tokens(events) == [token("A story."), ("node", {"node": "draft"})]


def test_tokens_of_different_messages_or_around_other_events_stay_apart() -> None:
    events = [
        token("Then ", "m1", "refine"),
        token("The ", "m2", "refine"),
        token("the", "m1", "refine"),
        ("score", {"iteration": 1}),
        token(" dog", "m1", "refine"),
        token(" cat", "m1", "refine"),
    ]
    assert join_tokens(events) == [
        token("Then ", "m1", "refine"),
        token("The ", "m2", "refine"),
        token("the", "m1", "refine"),
        ("score", {"iteration": 1}),
        token(" dog cat", "m1", "refine"),
    ]


def test_a_batch_without_tokens_is_unchanged() -> None:
    events: list[Event] = [("run", {"run_id": "r"}), ("node", {"node": "intake"})]
    assert join_tokens(events) == events
