"""A chat-completions request read as a refinement: the last user message is the task, the
system and developer messages its standing instructions, and the other turns its context, as
many of the newest as fit the task's limit (the oldest are left out first, and counted; blank
messages say nothing and are left out); the model names the preset, `service_tier` the
priority, `user` the A/B unit, and the `refinery` extension adds constraints and documents.
The result validates as the native request does."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.chat.schemas import ChatCompletionRequest, ChatMessage
from api.errors import field_error
from api.schemas import MAX_TASK_CHARS, Priority, RefinementRequest

PRIORITIES: dict[str, Priority] = {"priority": "high", "flex": "low"}
"""`service_tier` -> the run's priority (any other tier runs at normal)."""

EARLIER = "Earlier in this conversation:"
NOW = "The request now:"
_SPEAKERS = {"user": "User", "assistant": "Assistant"}


@dataclass(frozen=True)
class Conversation:
    """How the messages became the task."""

    task: str
    context_messages: int = 0
    """Earlier user and assistant messages the task carries."""
    dropped_messages: int = 0
    """The oldest earlier messages left out to fit `MAX_TASK_CHARS`."""


def _turn(message: ChatMessage) -> str:
    return f"{_SPEAKERS[message.role]}: {message.text.strip()}"


def _compose(rules: str, turns: list[str], request: str) -> str:
    """The task: the standing instructions, the earlier turns, the request."""
    body = "\n".join([EARLIER, *turns, "", NOW, request]) if turns else request
    return f"{rules}\n\n{body}" if rules else body


def read_conversation(messages: list[ChatMessage]) -> Conversation:
    """The task the messages ask for (the request validated that a user's says something); a 400
    `context_length_exceeded` when the instructions and the last user message alone are too long
    for a task."""
    said = [m for m in messages if m.said]  # a blank message says nothing
    at = max(i for i, m in enumerate(said) if m.role == "user")
    last, earlier = said[at], said[:at] + said[at + 1 :]
    rules = "\n\n".join(m.text.strip() for m in earlier if m.role in ("system", "developer"))
    turns = [_turn(m) for m in earlier if m.role in _SPEAKERS]
    request = last.text.strip()
    fixed = _compose(rules, [], request)
    if len(fixed) > MAX_TASK_CHARS:
        raise field_error(
            400,
            "context_length_exceeded",
            f"the system and developer messages and the last user message come to {len(fixed)} "
            f"characters; a task holds at most {MAX_TASK_CHARS}",
            "shorten them (earlier turns are left out as needed; these cannot be)",
            "messages",
        )
    kept: list[str] = []
    for turn in reversed(turns):  # newest first: the oldest turns are the first left out
        if len(_compose(rules, [turn, *kept], request)) > MAX_TASK_CHARS:
            break
        kept.insert(0, turn)
    return Conversation(
        task=_compose(rules, kept, request),
        context_messages=len(kept),
        dropped_messages=len(turns) - len(kept),
    )


def refinement_request(
    body: ChatCompletionRequest, preset: str | None, conversation: Conversation
) -> RefinementRequest:
    """The native request of this chat request (`preset` None: the server's default, or the
    experiment's variant); a 400 naming the field if it is not valid as one."""
    fields: dict[str, object] = {
        "task": conversation.task,
        "priority": PRIORITIES.get(body.service_tier or "", "normal"),
        "user_id": body.user,
    }
    if preset is not None:
        fields["config"] = preset
    if body.refinery is not None:
        fields["constraints"] = body.refinery.constraints
        fields["documents"] = body.refinery.documents
    try:
        return RefinementRequest.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:  # bounds the chat request cannot state (the task's limits)
        raise RequestValidationError(
            [e | {"loc": ("body", "messages", *e["loc"])} for e in exc.errors()]
        ) from exc
