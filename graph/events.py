"""A run's events, one model per payload: the graph's stream chunks (`updates`, `messages`)
turned into small, stable JSON objects that the CLI shows and the API streams."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

Event = tuple[str, dict[str, Any]]
"""An event on its way out: its name and its JSON payload."""

TOKEN_NODES = frozenset({"draft", "refine"})
"""Nodes whose model tokens are streamed: the ones that write the answer."""


class Payload(BaseModel):
    """An event's payload; `name` is the event's name on the wire."""

    model_config = ConfigDict(extra="forbid")
    name: ClassVar[str]

    def event(self) -> Event:
        return self.name, self.model_dump(mode="json", exclude_none=True)


class NodeDone(Payload):
    """A graph node finished; `draft` is the full text after `draft` or `refine`."""

    name: ClassVar[str] = "node"
    node: str
    iteration: int | None = None
    keys: list[str] = Field(description="The state keys the node updated.")
    draft: str | None = None


class TokenChunk(Payload):
    """Tokens the drafter (`draft`) or the refiner (`refine`: several sub-tasks may interleave,
    group by `message_id`) generated: one token, or several generated within
    `api_token_flush_ms` of each other, joined."""

    name: ClassVar[str] = "token"
    node: str
    message_id: str
    text: str


class Planned(Payload):
    """The plan: which validators run, whether the critic does, and every verifiable
    instruction the engine read from the request (`read_from`: the words it read it from, or
    "given") or was given, with the pairs that cannot all hold."""

    name: ClassVar[str] = "plan"
    validators: list[str]
    critic: bool
    retrieve: bool
    instructions: list[dict[str, Any]] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)


class Scored(Payload):
    """A draft was scored: its score, the score's components and the findings behind it."""

    name: ClassVar[str] = "score"
    iteration: int
    score: float
    components: dict[str, float] = Field(default_factory=dict)
    findings: list[dict[str, Any]] = Field(default_factory=list)
    draft: str


class ReviewRequested(Payload):
    """The run paused for a person (LangGraph's `interrupt`, kept in the checkpoint): the
    current best answer, its score and findings, the confidence and every score so far. Answer
    it with POST /v1/threads/{id}/resume and `{"review": {"action": "approve" | "edit" |
    "feedback" | "reject", ...}}`; the stream ends here and the run holds nothing meanwhile."""

    name: ClassVar[str] = "review"
    review_id: str = Field(description="The interrupt's id (send it back to guard a resume).")
    round: int
    why: str
    draft: str
    score: float
    confidence: float | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)
    stop_reason: str | None = None
    iteration: int = 0
    scores: list[float] = Field(default_factory=list)
    requested_at: float
    actions: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, pending: Any) -> ReviewRequested:
        """From a pending `langgraph.types.Interrupt` of `human_review`."""
        return cls.model_validate({**pending.value, "review_id": pending.id})


def node_events(chunk: dict[str, Any]) -> Iterator[Event]:
    """`node` events (and for `plan` a `plan` event, for `score` a `score` event) from one
    `updates` chunk."""
    for node, update in chunk.items():
        if node.startswith("__"):
            continue
        update = update if isinstance(update, dict) else {}
        draft = update.get("draft") if node in TOKEN_NODES else None
        yield NodeDone(
            node=node, iteration=update.get("iteration"), keys=sorted(update), draft=draft
        ).event()
        plan = update.get("plan")
        if node == "plan" and plan:
            yield Planned(
                validators=plan["validators"],
                critic=plan["critic"],
                retrieve=plan["retrieve"],
                instructions=plan.get("instructions") or [],
                conflicts=plan.get("conflicts") or [],
            ).event()
        history = update.get("history") or []
        if node == "score" and history:
            record = history[-1]
            yield Scored(
                iteration=record["iteration"],
                score=record["score"],
                components=record.get("components", {}),
                findings=record.get("findings", []),
                draft=record["draft"],
            ).event()


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
        # Built as the payload would dump, without a model per token (the hot path).
        return TokenChunk.name, {"node": node, "message_id": message_id, "text": text}
