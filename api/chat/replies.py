"""A finished run written back in OpenAI's terms: the completion, and the stream a client reads
(`ChunkStream`, the renderer of the run's events): SSE comments while the loop runs (clients
ignore them; they show progress to a person reading the raw stream and keep the connection
alive), then the final answer as `chat.completion.chunk` events, the usage chunk when asked
for, and `data: [DONE]`; a run that fails ends with OpenAI's in-stream `{"error": ...}`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from api.chat.errors import openai_error
from api.chat.presets import model_name
from api.chat.requests import Conversation
from api.chat.schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    ChunkDelta,
    CompletionUsage,
    FinishReason,
    RefineryResult,
)
from api.runs.event_log import Published
from api.schemas import ErrorBody, RefinementResult
from core.run_config import DEFAULT_CONFIG, load_config

CHUNK_CHARS = 80
"""About how much of the answer one chunk carries (whole words)."""
DONE = b"data: [DONE]\n\n"
_PIECES = re.compile(r"\S+\s*|\s+")
_PROGRESS = {
    "queued": ("priority", "queued"),
    "run": ("thread_id",),
    "node": ("node",),
    "score": ("iteration", "score"),
}
"""The events shown as progress comments, with the fields each shows."""


def capped(answer: str, cap: int | None) -> tuple[str, FinishReason]:
    """The answer within `cap` tokens (about 4 characters a token, the engine's estimate), cut
    at a word as a model stops at its cap (`length`); whole otherwise (`stop`)."""
    if cap is None or len(answer) <= 4 * cap:
        return answer, "stop"
    cut = answer[: 4 * cap]
    return (cut.rsplit(None, 1)[0] if " " in cut.strip() else cut), "length"


def refinery_result(result: RefinementResult, conversation: Conversation) -> RefineryResult:
    """The run's outcome as the `refinery` extension field carries it."""
    fields = result.model_dump(include=set(RefineryResult.model_fields))
    return RefineryResult.model_validate(
        fields
        | {
            "context_messages": conversation.context_messages,
            "dropped_messages": conversation.dropped_messages,
        }
    )


@dataclass(frozen=True)
class Reply:
    """What every completion of one request shares."""

    thread_id: str
    created: int
    conversation: Conversation
    cap: int | None = None
    """`max_completion_tokens` or `max_tokens`."""

    @property
    def id(self) -> str:
        return f"chatcmpl-{self.thread_id}"

    def header(self, result: RefinementResult) -> dict[str, object]:
        config = result.config or DEFAULT_CONFIG
        return {
            "id": self.id,
            "created": self.created,
            "model": model_name(config),
            "system_fingerprint": load_config(config).fingerprint(),
        }

    def completion(self, result: RefinementResult) -> ChatCompletion:
        answer, finish = capped(result.answer or "", self.cap)
        return ChatCompletion.model_validate(
            self.header(result)
            | {
                "choices": [Choice(message=AssistantMessage(content=answer), finish_reason=finish)],
                "usage": CompletionUsage.of(result.usage),
                "refinery": refinery_result(result, self.conversation),
            }
        )

    def chunks(self, result: RefinementResult, include_usage: bool) -> list[ChatCompletionChunk]:
        """The answer as a stream's chunks: the role, the text in pieces of whole words, the
        finish (with the `refinery` field), and the usage when asked for."""
        answer, finish = capped(result.answer or "", self.cap)
        header = self.header(result)
        deltas = [ChunkDelta(role="assistant", content="")]
        deltas += [ChunkDelta(content=piece) for piece in _pieces(answer)]
        out = [
            ChatCompletionChunk.model_validate(header | {"choices": [ChunkChoice(delta=d)]})
            for d in deltas
        ]
        end = ChunkChoice(delta=ChunkDelta(), finish_reason=finish)
        extra = refinery_result(result, self.conversation)
        out.append(
            ChatCompletionChunk.model_validate(header | {"choices": [end], "refinery": extra})
        )
        if include_usage:
            usage = CompletionUsage.of(result.usage)
            out.append(ChatCompletionChunk.model_validate(header | {"choices": [], "usage": usage}))
        return out


def _pieces(text: str) -> list[str]:
    """`text` in pieces of about `CHUNK_CHARS`, split between words; they join back to it."""
    pieces, current = [], ""
    for match in _PIECES.finditer(text):
        current += match.group()
        if len(current) >= CHUNK_CHARS:
            pieces.append(current)
            current = ""
    return [*pieces, current] if current else pieces


def _data(chunk: ChatCompletionChunk, include_usage: bool) -> bytes:
    exclude = {"refinery"} if chunk.refinery is None else set()
    if not include_usage:
        exclude.add("usage")
    return b"data: " + chunk.model_dump_json(exclude=exclude).encode() + b"\n\n"


def _comment(name: str, data: str) -> bytes:
    shown = {key: json.loads(data).get(key) for key in _PROGRESS[name]}
    return f": refinery {name} {json.dumps(shown)}\n\n".encode()


@dataclass
class ChunkStream:
    """Renders a streamed run's events (`api.streaming.sse_response`'s `render`) as OpenAI's
    stream: progress as comments, then the result as chunks, or the error; then `[DONE]`."""

    reply: Reply
    include_usage: bool = False

    def __call__(self, events: list[Published]) -> bytes:
        out = []
        for name, data, _ in events:
            if name in _PROGRESS:
                out.append(_comment(name, data))
            elif name == "result":
                result = RefinementResult.model_validate_json(data)
                chunks = self.reply.chunks(result, self.include_usage)
                out += [_data(chunk, self.include_usage) for chunk in chunks]
                out.append(DONE)
            elif name == "error":
                error = openai_error(ErrorBody.model_validate_json(data))
                out += [b"data: " + error.model_dump_json().encode() + b"\n\n", DONE]
        return b"".join(out)
