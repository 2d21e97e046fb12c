"""The run's events, as the API documents them: LangGraph's stream chunks (`updates`,
`messages`, `values`) turned into small, stable JSON payloads.

Event names and payloads (the `data:` of each server-sent event is one JSON object):

- `run`: `{run_id, thread_id, priority, queued_s}` once the run starts (after any queueing).
- `queued`: `{position_hint, priority}` when the run has to wait for a slot first.
- `node`: `{node, iteration, keys, draft?}` when a graph node finishes; `draft` is the full
  text after `draft` or `refine`.
- `token`: `{node, message_id, text}` for the tokens the drafter (`draft`) or the refiner
  (`refine`, several sub-tasks may interleave: group by `message_id`) generates, as they come:
  one token, or several generated within `api_token_flush_ms` of each other, joined.
- `score`: `{iteration, score, components, findings, draft}` for each scored draft.
- `result`: the finished run (`RefinementResult`), last.
- `error`: `{type, message, fix, thread_id, retry_after_s?}`, last; the thread stays resumable.
- Heartbeats are SSE comments (`: heartbeat`) sent while nothing else is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from api.schemas import RefinementResult
from core.outcome import RunOutcome

SSE_CONTENT = {
    "text/event-stream": {
        "itemSchema": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "event": {"type": "string", "description": "The event name (listed above)."},
                "data": {"type": "string", "contentMediaType": "application/json"},
                "id": {"type": "string", "description": "Send as Last-Event-ID to replay."},
                "retry": {"type": "integer", "minimum": 0},
            },
        }
    }
}
"""The OpenAPI `content` of a response carrying these events: each one's shape (OpenAPI 3.2
`itemSchema`, which schema-driven clients and fuzzers read per event)."""

TOKEN_NODES = frozenset({"draft", "refine"})
"""Nodes whose model tokens are streamed: the ones that write the answer."""
WRITER_NODES = TOKEN_NODES

Event = tuple[str, dict[str, Any]]


def node_events(chunk: dict[str, Any]) -> Iterator[Event]:
    """`node` (and for `score`, `score`) events from one `updates` chunk."""
    for node, update in chunk.items():
        if node.startswith("__"):
            continue
        update = update if isinstance(update, dict) else {}
        payload: dict[str, Any] = {
            "node": node,
            "iteration": update.get("iteration"),
            "keys": sorted(update),
        }
        if node in WRITER_NODES and "draft" in update:
            payload["draft"] = update["draft"]
        yield "node", payload
        history = update.get("history") or []
        if node == "score" and history:
            record = history[-1]
            yield (
                "score",
                {
                    "iteration": record["iteration"],
                    "score": record["score"],
                    "components": record.get("components", {}),
                    "findings": record.get("findings", []),
                    "draft": record["draft"],
                },
            )


class TokenFilter:
    """Turns `messages` chunks into `token` events, once each.

    A chat model that wraps another (fallbacks, pools) streams every token twice under one
    message id, once per layer; only the first layer seen for a message id is kept.
    """

    def __init__(self) -> None:
        self._source: dict[str, str] = {}

    def __call__(self, chunk: tuple[Any, dict[str, Any]]) -> Event | None:
        message, metadata = chunk
        node = metadata.get("langgraph_node")
        text = message.content if isinstance(message.content, str) else ""
        if node not in TOKEN_NODES or not text:
            return None
        message_id = message.id or ""
        source = str(metadata.get("ls_provider", ""))
        if self._source.setdefault(message_id, source) != source:
            return None
        return "token", {"node": node, "message_id": message_id, "text": text}


def result_of(
    state: dict[str, Any], run_id: str, thread_id: str, queued_s: float, wall_s: float
) -> RefinementResult:
    """The `RefinementResult` of a finished run's final state."""
    return RefinementResult.model_validate(
        RunOutcome.fields_of(state)
        | {
            "run_id": run_id,
            "thread_id": thread_id,
            "history": state.get("history") or [],
            "queued_s": round(queued_s, 4),
            "wall_s": round(wall_s, 4),
        }
    )
