"""Errors in OpenAI's shape (`{"error": {"message", "type", "param", "code"}}`) for the
OpenAI-compatible paths: the same failures the native endpoints answer (the same statuses, but
400 for an invalid body, as OpenAI answers), written so that OpenAI's clients raise the error
class their users expect and show the message, which also says how to fix it."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from api.chat.schemas import OpenAIError, OpenAIErrorBody
from api.schemas import ErrorBody

PATHS = ("/v1/chat/completions", "/v1/models")
"""The paths (and those under them) whose errors are written in OpenAI's shape."""

_CODES = {"unauthorized": "invalid_api_key", "rate_limited": "rate_limit_exceeded"}
"""Refinery's error types that OpenAI has its own code for."""


def speaks_openai(path: str) -> bool:
    """Whether a request to `path` gets its errors in OpenAI's shape."""
    return any(path == p or path.startswith(p + "/") for p in PATHS)


def _type_of(status: int | None) -> str:
    if status is None or status >= 500:
        return "server_error"
    return {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}.get(
        status, "invalid_request_error"
    )


def _param(field: str) -> str | None:
    """`body.messages.0.role` -> `messages[0].role` (OpenAI's spelling of a field)."""
    parts = field.split(".")
    if parts and parts[0] == "body":
        parts = parts[1:]
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def openai_error(body: ErrorBody, status: int | None = None) -> OpenAIError:
    """The OpenAI error of a native error body (`status` None: a run that failed mid-stream)."""
    if body.details:
        first = body.details[0]
        problem = first.problem.removeprefix("Value error, ")
        message = problem if first.fix in problem else f"{problem}; fix: {first.fix}"
        param = _param(first.field)
        if len(body.details) > 1:
            message += f" (and {len(body.details) - 1} more problem(s))"
    else:
        message, param = f"{body.message}; fix: {body.fix}", None
    code = _CODES.get(body.type, body.type)
    return OpenAIError(
        error=OpenAIErrorBody(message=message, type=_type_of(status), param=param, code=code)
    )


def openai_response(
    status: int, body: ErrorBody, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON answer of an error on an OpenAI-compatible path."""
    status = 400 if status == 422 else status
    payload = openai_error(body, status).model_dump(mode="json")
    return JSONResponse(payload, status_code=status, headers=headers)


_DESCRIPTIONS = {
    400: "The body is not valid, or asks for what refinery does not do; `param` names the field.",
    401: "No or unknown API key.",
    404: "No such model (`GET /v1/models` lists them).",
    413: "The body is larger than the server's limit.",
    429: "This key's rate limit is spent; see `Retry-After`.",
    503: "The server is at capacity or Redis is down; see `Retry-After`.",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": OpenAIError, "description": text} for code, text in _DESCRIPTIONS.items()
}
"""The error answers of the OpenAI-compatible endpoints, for the OpenAPI document."""
