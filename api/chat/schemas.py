"""The OpenAI chat-completions wire format as refinery speaks it: the request (every field
bounded; what the refinement loop cannot honour refused by name), the completion and its
stream chunks, the model list, the error shape, and `RefineryResult`, the extension field that
carries the run's own outcome beside OpenAI's fields (clients ignore fields they do not know)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.schemas import MAX_DOCUMENT_CHARS, MAX_DOCUMENTS, ConstraintsIn, DocumentIn, UnitId
from core.run_config import preset_names
from core.usage import TokenUsage

MAX_MESSAGES = 200
MAX_MESSAGE_CHARS = MAX_DOCUMENT_CHARS
MAX_CONTENT_PARTS = 50
CHAT_ROLES = ("system", "developer", "user", "assistant")

Short = Annotated[str, Field(max_length=256)]
Text = Annotated[str, Field(min_length=1)]


def published(*accepted: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """A field's published JSON schema: exactly the values it accepts (`null` among them),
    where its type is wider so that its validator can say why the rest is refused."""

    def replace(schema: dict[str, Any]) -> None:
        description = schema.get("description")
        schema.clear()
        schema["anyOf"] = [*accepted, {"type": "null"}]
        if description:
            schema["description"] = description

    return replace


NOTHING_LISTED = {"type": "array", "maxItems": 0}
NOTHING_GIVEN = {"type": "object", "maxProperties": 0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_MESSAGE_CHARS)


class ContentPart(BaseModel):
    """One part of a message's content; only `text` parts are read."""

    model_config = ConfigDict(extra="forbid", str_max_length=MAX_MESSAGE_CHARS)

    type: Literal["text"]
    text: Text


def _refuse(what: str) -> ValueError:
    return ValueError(f"{what} not supported: refinery answers with refined text only")


class ChatMessage(_Strict):
    """One message of the conversation: the last user message is the task."""

    role: str = Field(json_schema_extra={"enum": list(CHAT_ROLES)})
    content: (
        str | Annotated[list[ContentPart], Field(min_length=1, max_length=MAX_CONTENT_PARTS)]
    ) = Field(description="A string, or `text` parts (joined with newlines).")
    name: str | None = Field(None, max_length=64)
    refusal: str | None = None
    tool_calls: list[dict[str, Any]] | None = Field(
        None, max_length=128, json_schema_extra=published(NOTHING_LISTED)
    )
    function_call: dict[str, Any] | None = Field(None, json_schema_extra=published(NOTHING_GIVEN))
    tool_call_id: str | None = Field(
        None, max_length=128, json_schema_extra=published({"type": "string", "maxLength": 0})
    )

    @field_validator("role")
    @classmethod
    def _role_known(cls, value: str) -> str:
        if value in ("tool", "function"):
            raise _refuse(f"{value!r} messages are")
        if value not in CHAT_ROLES:
            raise ValueError(f"unknown role {value!r}; use one of: {', '.join(CHAT_ROLES)}")
        return value

    @field_validator("content", mode="before")
    @classmethod
    def _text_parts(cls, value: Any) -> Any:
        for part in value if isinstance(value, list) else []:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind != "text":
                raise ValueError(
                    f"content parts of type {kind!r} are not supported: refinery reads text "
                    "only; send the text as a string or as `text` parts"
                )
        return value

    @field_validator("tool_calls", "function_call", "tool_call_id")
    @classmethod
    def _no_calls(cls, value: Any) -> Any:
        if value:
            raise _refuse("tool and function calls are")
        return value

    @property
    def text(self) -> str:
        """The message's text (its `text` parts joined with newlines)."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(part.text for part in self.content)

    @property
    def said(self) -> bool:
        """Whether the message says anything: a blank one is left out of the task."""
        return bool(self.text.strip())


class StreamOptions(_Strict):
    include_usage: bool | None = Field(
        None, description="Send a last chunk with the whole run's `usage` (and empty choices)."
    )
    include_obfuscation: bool | None = Field(None, description="Accepted; nothing is padded.")


class ResponseFormat(_Strict):
    """Only `{"type": "text"}`: the answer is refined text."""

    type: str = Field(max_length=64, json_schema_extra={"enum": ["text"]})

    @field_validator("type")
    @classmethod
    def _text_only(cls, value: str) -> str:
        if value != "text":
            raise _refuse(f"response_format {value!r} is")
        return value


class RefineryOptions(_Strict):
    """Refinery's own request fields (send them with the OpenAI SDK's `extra_body`)."""

    constraints: ConstraintsIn | None = Field(
        None, description="Machine-checkable requirements, as `POST /v1/refinements` takes them."
    )
    documents: list[DocumentIn] = Field(default_factory=list, max_length=MAX_DOCUMENTS)


ServiceTier = Literal["auto", "default", "flex", "scale", "priority"]

REFUSED = {
    "tools": "tools are",
    "functions": "functions are",
    "audio": "audio output is",
    "prediction": "predicted outputs are",
    "web_search_options": "web search is",
    "logit_bias": "logit_bias is",
}
"""Fields that ask for what the loop cannot do, refused by name when given."""


A_USER_MESSAGE = {"type": "object", "required": ["role"], "properties": {"role": {"const": "user"}}}
"""What `messages` must contain (the schema of `_has_a_task`): the task."""


def model_names(schema: dict[str, Any]) -> None:
    """Publish the model names (`refinery`, `refinery-<preset>`) as the schema's enum."""
    schema["enum"] = ["refinery", *(f"refinery-{name}" for name in preset_names())]


class ChatCompletionRequest(_Strict):
    """`POST /v1/chat/completions`: OpenAI's request. The last user message is the task,
    the other messages its context; `model` names a preset (`GET /v1/models`)."""

    model: str = Field(
        max_length=128,
        description="`refinery`, or `refinery-<preset>`.",
        json_schema_extra=model_names,
    )
    messages: list[ChatMessage] = Field(
        min_length=1,
        max_length=MAX_MESSAGES,
        json_schema_extra={"contains": A_USER_MESSAGE},
    )
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(
        None, ge=1, le=1_000_000, description="Caps the answer: longer is cut (`length`)."
    )
    max_completion_tokens: int | None = Field(None, ge=1, le=1_000_000)
    temperature: float | None = Field(
        None, ge=0, le=2, description="Accepted; each role's temperature is the preset's."
    )
    top_p: float | None = Field(None, ge=0, le=1, description="Accepted; not applied.")
    presence_penalty: float | None = Field(None, ge=-2, le=2, description="Not applied.")
    frequency_penalty: float | None = Field(None, ge=-2, le=2, description="Not applied.")
    seed: int | None = Field(None, description="Accepted; the preset fixes each role's seed.")
    n: int | None = Field(
        None, ge=1, le=128, description="Only 1.", json_schema_extra=published({"const": 1})
    )
    stop: Short | Annotated[list[Short], Field(max_length=4)] | None = Field(
        None,
        description="Not supported (empty only).",
        json_schema_extra=published({"type": "string", "maxLength": 0}, NOTHING_LISTED),
    )
    logit_bias: dict[Short, float] | None = Field(
        None, max_length=300, json_schema_extra=published(NOTHING_GIVEN)
    )
    logprobs: bool | None = Field(None, json_schema_extra=published({"const": False}))
    top_logprobs: int | None = Field(None, ge=0, le=20, json_schema_extra=published({"const": 0}))
    user: UnitId | None = Field(
        None, description="Your end user's id: the sticky A/B variant of `model: refinery`."
    )
    safety_identifier: Short | None = None
    prompt_cache_key: Short | None = None
    service_tier: ServiceTier | None = Field(
        None, description="`priority` runs at high priority, `flex` at low, others at normal."
    )
    metadata: dict[Short, Short] | None = Field(None, max_length=16)
    store: bool | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high"] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    response_format: ResponseFormat | None = None
    modalities: list[Literal["text", "audio"]] | None = Field(
        None,
        max_length=2,
        json_schema_extra=published({"type": "array", "items": {"const": "text"}, "maxItems": 2}),
    )
    tools: list[dict[str, Any]] | None = Field(
        None, max_length=128, json_schema_extra=published(NOTHING_LISTED)
    )
    functions: list[dict[str, Any]] | None = Field(
        None, max_length=128, json_schema_extra=published(NOTHING_LISTED)
    )
    tool_choice: str | dict[str, Any] | None = Field(
        None, json_schema_extra=published({"enum": ["none", "auto"]})
    )
    function_call: str | dict[str, Any] | None = Field(
        None, json_schema_extra=published({"enum": ["none", "auto"]})
    )
    parallel_tool_calls: bool | None = None
    audio: dict[str, Any] | None = Field(None, json_schema_extra=published(NOTHING_GIVEN))
    prediction: dict[str, Any] | None = Field(None, json_schema_extra=published(NOTHING_GIVEN))
    web_search_options: dict[str, Any] | None = Field(
        None, json_schema_extra=published(NOTHING_GIVEN)
    )
    refinery: RefineryOptions | None = Field(
        None, description="Refinery's own fields: `constraints` and `documents`."
    )

    @field_validator(*REFUSED)
    @classmethod
    def _refused(cls, value: Any, info: ValidationInfo) -> Any:
        if value:
            raise _refuse(REFUSED[str(info.field_name)])
        return value

    @field_validator("tool_choice", "function_call")
    @classmethod
    def _no_tool_choice(cls, value: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        if value not in (None, "none", "auto"):
            raise _refuse("forcing a tool is")
        return value

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int | None) -> int | None:
        if value not in (None, 1):
            raise ValueError("n > 1 is not supported: a run refines one answer; send n=1")
        return value

    @field_validator("stop")
    @classmethod
    def _no_stop(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value:
            raise ValueError(
                "stop sequences are not supported: the answer is refined as a whole; "
                "say where it should end in the message instead"
            )
        return value

    @field_validator("logprobs", "top_logprobs")
    @classmethod
    def _no_logprobs(cls, value: bool | int | None) -> bool | int | None:
        if value:
            raise _refuse("log probabilities are")
        return value

    @field_validator("modalities")
    @classmethod
    def _text_modality(cls, value: list[str] | None) -> list[str] | None:
        if value and "audio" in value:
            raise _refuse("audio output is")
        return value

    @field_validator("messages")
    @classmethod
    def _has_a_task(cls, value: list[ChatMessage]) -> list[ChatMessage]:
        if not any(m.role == "user" and m.said for m in value):
            raise ValueError(
                "no user message with text: the last one is the task; write what the answer "
                "should do"
            )
        return value

    @property
    def answer_cap(self) -> int | None:
        """The most tokens the answer may have (`max_completion_tokens`, else `max_tokens`)."""
        return self.max_completion_tokens or self.max_tokens


class CompletionUsage(BaseModel):
    """The tokens the whole refinement loop spent (every model call of the run)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, usage: TokenUsage) -> CompletionUsage:
        total = usage.input_tokens + usage.output_tokens
        return cls(
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
            total_tokens=total,
        )


class RefineryResult(BaseModel):
    """The run behind a completion: the `refinery` field of a completion and of the stream's
    last choice chunk."""

    thread_id: str = Field(description="`GET /v1/threads/{id}` shows it; the MCP `thread` too.")
    run_id: str
    config: str | None = Field(None, description="The preset it ran (an A/B variant's).")
    experiment: str | None = None
    variant: str | None = None
    score: float | None = None
    confidence: float | None = Field(None, description="P(the answer is right), 0-1.")
    iterations: int | None = None
    stop_reason: str | None = None
    first_draft: str | None = None
    instructions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The checks the run made: given ones and those read from the messages.",
    )
    failing: list[str] = Field(default_factory=list, description="Instructions still failed.")
    usage: TokenUsage = Field(description="Tokens and model calls, by node and by model.")
    queued_s: float = 0.0
    wall_s: float = 0.0
    context_messages: int = Field(0, description="Earlier messages the task carried.")
    dropped_messages: int = Field(
        0, description="The oldest earlier messages left out to fit the task's limit."
    )


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


FinishReason = Literal["stop", "length"]


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    logprobs: None = None
    finish_reason: FinishReason


class ChatCompletion(BaseModel):
    """OpenAI's `chat.completion`, with the run in `refinery`."""

    id: str = Field(description="`chatcmpl-` and the thread id.")
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = Field(description="`refinery-<preset>`: the preset the run used.")
    system_fingerprint: str = Field(description="The preset's fingerprint.")
    choices: list[Choice]
    usage: CompletionUsage
    refinery: RefineryResult


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    logprobs: None = None
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(BaseModel):
    """OpenAI's `chat.completion.chunk` (one `data:` event of a stream)."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    system_fingerprint: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None
    refinery: RefineryResult | None = None


class ModelOut(BaseModel):
    """A model name the chat endpoint answers to."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "refinery"
    description: str = ""


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class OpenAIErrorBody(BaseModel):
    message: str = Field(description="What is wrong, and how to fix it.")
    type: str = Field(description="`invalid_request_error`, `authentication_error`, ...")
    param: str | None = Field(None, description="The request field at fault, if one is.")
    code: str | None = Field(None, description="Refinery's error type (or OpenAI's name).")


class OpenAIError(BaseModel):
    """Every error of the OpenAI-compatible endpoints has this shape."""

    error: OpenAIErrorBody
