"""The OpenAI-compatible face: POST /v1/chat/completions refines the conversation's last user
message on the native run path (the same auth, rate limit, scheduler, priorities, thread
ownership, leases, event log and monitoring as POST /v1/refinements) and answers as OpenAI does,
streamed or not; GET /v1/models lists the presets as models. Errors come in OpenAI's shape."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from api.chat.errors import ERROR_RESPONSES
from api.chat.presets import model_list, preset_of
from api.chat.replies import ChunkStream, Reply
from api.chat.requests import read_conversation, refinement_request
from api.chat.schemas import (
    ChatCompletion,
    ChatCompletionRequest,
    ModelList,
    ModelOut,
    model_names,
)
from api.deps import Caller, ServicesDep, UnitIdHeader, operator
from api.errors import answering
from api.runs.execute import execute
from api.runs.start import start_run
from api.streaming import sse_response

router = APIRouter(prefix="/v1", tags=["openai"], responses=ERROR_RESPONSES)

STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "With `stream: false`, the completion (JSON). With `stream: true`, "
        "server-sent events: `data:` lines each holding one `chat.completion.chunk` (the role, "
        "the answer in pieces, the finish with the `refinery` field, the usage when "
        "`stream_options.include_usage`), then `data: [DONE]`; a run that fails sends "
        '`data: {"error": ...}` instead. While the loop runs, comments (`: refinery score '
        "{...}`, `: heartbeat`) show its progress; clients ignore them.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("/models", response_model=ModelList, dependencies=[Depends(operator)])
async def list_models() -> ModelList:
    """The model names `model` may take: `refinery` and `refinery-<preset>` per preset."""
    return model_list()


@router.get("/models/{model}", response_model=ModelOut, dependencies=[Depends(operator)])
async def get_model(
    model: Annotated[str, Path(max_length=128, json_schema_extra=model_names)],
) -> ModelOut:
    """One model name (404 `model_not_found` for an unknown one)."""
    preset_of(model)
    return next(m for m in model_list().data if m.id == model)


@router.post("/chat/completions", response_model=ChatCompletion, responses=STREAM_RESPONSE)
async def create_chat_completion(
    body: ChatCompletionRequest, key: Caller, services: ServicesDep, unit: UnitIdHeader
) -> Response | ChatCompletion:
    """Refine the last user message (earlier messages are its context) with the preset that
    `model` names; the answer, the whole loop's token `usage`, and the run itself (score,
    confidence, iterations, thread id, the checks it made) in the `refinery` field."""
    preset = preset_of(body.model)
    conversation = read_conversation(body.messages)
    request = refinement_request(body, preset, conversation)
    spec, ticket = await start_run(services, key, request, unit, reviewable=False)
    reply = Reply(spec.thread_id, int(time.time()), conversation, body.answer_cap)
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return sse_response(
            services,
            spec.thread_id,
            lambda emit: execute(services, ticket, spec, emit=emit, tokens=False),
            render=ChunkStream(reply, include_usage),
        )
    with answering(spec.thread_id):
        result = await execute(services, ticket, spec)
    return reply.completion(result)
