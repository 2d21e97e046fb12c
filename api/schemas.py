"""The HTTP API's request and response models: every field bounded, every limit stated, so a
request is validated once at the door and nothing past it needs to check again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from core.instructions import Instruction
from core.outcome import RunOutcome
from core.review import Decision, ReviewPolicy
from core.run_config import DEFAULT_CONFIG, preset_names
from graph.events import ReviewRequested
from graph.runner import graph_input

MAX_TASK_CHARS = 4_000
MAX_DOCUMENTS = 200
"""Documents a request may carry: a question over a whole folder of notes (retrieval keeps the
few it needs; measured in bench/retrieval_scale.py). The body limit caps their total size."""
MAX_DOCUMENT_CHARS = 20_000
MAX_REQUIRED_WORDS = 50
MAX_WORD_CHARS = 40
MAX_COMMENT_CHARS = 2_000
MAX_INSTRUCTIONS = 20

Priority = Literal["high", "normal", "low"]
ThreadId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
UnitId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]
"""A user or session id, the unit of sticky experiment assignment."""
Word = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_WORD_CHARS)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_DOCUMENT_CHARS)


class DocumentIn(_Strict):
    """A source document the answer must be grounded in (cited as `[id]`)."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = Field(
        description="Letters, digits and `_.:-`, 1-64 characters; cited in the answer as `[id]`."
    )
    text: str = Field(min_length=1, max_length=MAX_DOCUMENT_CHARS)


class ConstraintsIn(_Strict):
    """Machine-checkable requirements; an inflected form of a required word counts."""

    required_words: list[Word] = Field(default_factory=list, max_length=MAX_REQUIRED_WORDS)
    max_words: int | None = Field(None, ge=1, le=5_000)
    min_words: int | None = Field(None, ge=1, le=5_000)
    max_sentences: int | None = Field(None, ge=1, le=500)
    instructions: list[Instruction] = Field(
        default_factory=list,
        max_length=MAX_INSTRUCTIONS,
        description='Verifiable instructions, each `{"kind": ..., ...}` '
        "(GET /v1/instructions lists the kinds and their fields); the engine also reads "
        "instructions from the task's own words.",
    )


def _known_config(name: str) -> str:
    known = preset_names()
    if name not in known:
        raise ValueError(f"unknown configuration {name!r}; use one of: {', '.join(known)}")
    return name


class RefinementRequest(_Strict):
    """One task to refine."""

    task: str = Field(
        min_length=1, max_length=MAX_TASK_CHARS, description="What to write or answer."
    )
    constraints: ConstraintsIn | None = None
    documents: list[DocumentIn] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    config: str = Field(
        DEFAULT_CONFIG,
        max_length=64,
        description="A run configuration preset (GET /v1/configs).",
        json_schema_extra=lambda schema: schema.update(enum=preset_names()),
    )
    priority: Priority = "normal"
    user_id: UnitId | None = Field(
        None,
        description="A user or session id (or send the `X-User-Id` / `X-Session-Id` header): "
        "while an A/B experiment runs, requests that name no `config` get the variant of this "
        "id, the same one every time; without an id each request is assigned at random.",
    )
    review: ReviewPolicy | None = Field(
        None,
        description="When the run pauses for a person before its answer is final (over the "
        "preset's policy, which is `never` unless it says otherwise): the stream then ends "
        "with a `review` event, the thread shows `awaiting_review`, and POST "
        "/v1/threads/{id}/resume with a `review` decision continues it.",
    )

    @field_validator("task")
    @classmethod
    def _task_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the task is blank; write what the answer should do")
        return value

    @field_validator("config")
    @classmethod
    def _config_known(cls, value: str) -> str:
        return _known_config(value)

    def graph_input(self) -> dict[str, Any]:
        """The graph's `InputState`."""
        return graph_input(self.model_dump(exclude_none=True))


class BatchRequest(_Strict):
    """Many tasks in one call, run with bounded concurrency; results come back in order."""

    tasks: list[RefinementRequest] = Field(min_length=1, max_length=1_000)
    concurrency: int = Field(4, ge=1, le=256, description="Capped by the server's setting.")
    priority: Priority = Field("low", description="Every task of the batch runs at this.")


class ResumeRequest(_Strict):
    """Continue an interrupted thread from its last checkpoint, or answer its review."""

    priority: Priority = "normal"
    review: Decision | None = Field(
        None,
        description="The reviewer's decision, required when the thread is `awaiting_review` "
        '(and refused otherwise): `{"action": "approve"}`, `{"action": "edit", "text": ...}`, '
        '`{"action": "feedback", "text": ..., "changes": [...]}` or `{"action": "reject", '
        '"reason": ...}`.',
    )
    review_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")] | None = (
        Field(
            None,
            description="The `review_id` the reviewer saw: 409 if the thread has moved on "
            "since (another reviewer answered it first).",
        )
    )


class FindingOut(BaseModel):
    source: str
    severity: str
    message: str
    data: list[str] | None = None


class IterationOut(BaseModel):
    """One scored draft."""

    iteration: int
    draft: str
    score: float
    components: dict[str, float] = Field(default_factory=dict)
    findings: list[FindingOut] = Field(default_factory=list)


class RefinementResult(RunOutcome):
    """A finished run."""

    run_id: str
    thread_id: str
    history: list[IterationOut] = Field(default_factory=list)
    queued_s: float = 0.0
    wall_s: float = 0.0
    config: str | None = None
    """The run configuration it ran (an experiment variant's, when assigned one)."""
    experiment: str | None = None
    variant: str | None = None
    review: ReviewRequested | None = Field(  # type: ignore[assignment]
        None,
        exclude_if=lambda value: value is None,
        description="Present only when the run paused for a person: what to review (`answer` "
        "is null until POST /v1/threads/{id}/resume answers it).",
    )


class BatchItem(BaseModel):
    """One task's outcome: a result, or an error saying why it has none."""

    index: int
    result: RefinementResult | None = None
    error: ErrorBody | None = None


class BatchResult(BaseModel):
    items: list[BatchItem]
    succeeded: int
    failed: int


ThreadStatus = Literal["running", "interrupted", "awaiting_review", "done"]


class ThreadOut(BaseModel):
    """A thread's latest checkpoint, as a person would want to see it."""

    thread_id: str
    status: ThreadStatus
    next: list[str] = Field(description="Nodes that would run on resume (empty when done).")
    created_at: str | None = None
    updated_at: str | None = None
    task: str | None = None
    config: str | None = None
    iteration: int | None = None
    draft: str | None = None
    score: float | None = None
    answer: str | None = None
    confidence: float | None = None
    stop_reason: str | None = None
    review: ReviewRequested | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description="With status `awaiting_review`: what the reviewer is shown.",
    )
    reviews: list[dict[str, Any]] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="The run's reviews so far, each with its action, the draft shown and how "
        "long it waited (an edit with its correction and word diff).",
    )


class CancelOut(BaseModel):
    """What a cancel request did."""

    thread_id: str
    outcome: Literal["cancelling", "cancelled", "not_running"] = Field(
        description="`cancelling`: the replica running it stops at its next lease heartbeat; "
        "`cancelled`: its replica had died and it will not be resumed; `not_running`: nothing "
        "to stop."
    )


class CheckpointOut(BaseModel):
    checkpoint_id: str
    step: int
    source: str
    nodes: list[str] = Field(description="The nodes whose writes made this checkpoint.")
    created_at: str | None = None
    next: list[str]


class ThreadHistory(BaseModel):
    """A thread's scored iterations and its checkpoints, newest checkpoint first."""

    thread_id: str
    iterations: list[IterationOut]
    checkpoints: list[CheckpointOut]


FeedbackKind = Literal["rating", "copied", "regenerated", "abandoned"]


class FeedbackIn(_Strict):
    """An explicit rating of a thread's run, or an implicit signal a client observed (the
    answer was copied, regenerated, or abandoned before or after it finished)."""

    # The schema says what `_rating_given` checks: a rating (the default kind) needs `rating`.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"const": "rating"}}},
            "then": {"required": ["rating"], "properties": {"rating": {"enum": [-1, 1]}}},
        }
    )

    thread_id: ThreadId
    run_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] | None = Field(
        None, description="The `run_id` the client saw; 409 if the thread has run again since."
    )
    kind: FeedbackKind = "rating"
    rating: Literal[-1, 1] | None = Field(None, description="+1 thumbs up, -1 thumbs down.")
    comment: str | None = Field(None, max_length=MAX_COMMENT_CHARS)

    @model_validator(mode="after")
    def _rating_given(self) -> FeedbackIn:
        if self.kind == "rating" and self.rating is None:
            raise ValueError("kind 'rating' needs `rating`: 1 (thumbs up) or -1 (thumbs down)")
        return self


class FeedbackOut(BaseModel):
    """The feedback a thread's run holds now (a later rating replaces an earlier one)."""

    thread_id: str
    run_id: str | None = Field(None, description="The run it applies to.")
    rating: Literal[-1, 1] | None = None
    comment: str | None = None
    signals: dict[str, int] = Field(default_factory=dict)
    """How often each implicit signal was sent."""
    experiment: str | None = None
    variant: str | None = None


class ConfigOut(BaseModel):
    name: str
    description: str
    max_iterations: int
    score_threshold: float


class InstructionKindOut(BaseModel):
    """One kind of verifiable instruction a request's `constraints.instructions` may give."""

    kind: str
    checks: str = Field(description="What the check verifies, in one sentence.")
    fields: dict[str, Any] = Field(description="The kind's JSON schema `properties`.")
    required: list[str]


class ErrorDetail(BaseModel):
    """One problem with a request: where, what, and how to fix it."""

    field: str
    problem: str
    fix: str


class ErrorBody(BaseModel):
    type: str
    message: str
    fix: str
    details: list[ErrorDetail] = Field(default_factory=list)
    thread_id: str | None = None
    retry_after_s: int | None = None


class ErrorResponse(BaseModel):
    """Every error answer has this shape."""

    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


BatchItem.model_rebuild()
