"""JSON error answers: every failure says what is wrong and how to fix it, in one shape
(`{"error": {type, message, fix, details}}`; on the OpenAI-compatible paths in OpenAI's,
`api.chat.errors`), and no exception escapes as a bare 500."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.chat.errors import openai_response, speaks_openai
from api.runs.failures import RunFailure, kind_of
from api.runs.scheduler import OverloadedError
from api.schemas import ErrorBody, ErrorDetail, ErrorResponse

log = logging.getLogger("refinery.api")


class ApiError(Exception):
    """An error with its HTTP status, a message, and the fix the caller can apply."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        fix: str,
        *,
        thread_id: str | None = None,
        retry_after_s: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorBody(
            type=type_, message=message, fix=fix, thread_id=thread_id, retry_after_s=retry_after_s
        )
        self.headers = dict(headers or {})
        if retry_after_s is not None:
            self.headers["Retry-After"] = str(retry_after_s)


def field_error(status: int, type_: str, message: str, fix: str, field: str) -> ApiError:
    """An error about one field of the request (`details` names it: OpenAI's `param`)."""
    error = ApiError(status, type_, message, fix)
    error.body.details = [ErrorDetail(field=field, problem=message, fix=fix)]
    return error


def error_of(exc: BaseException, thread_id: str | None = None) -> ApiError:
    """The API error for a run (or a request for one) that failed with `exc`; every error of
    a run that started says how to resume its thread."""
    if isinstance(exc, ApiError):
        return exc
    thread_id = getattr(exc, "thread_id", None) or thread_id
    kind = kind_of(exc)
    resume = f"resume it with POST /v1/threads/{thread_id}/resume"
    retry_after = getattr(exc, "retry_after_s", None)
    status, message, fix = {
        "overloaded": (
            503,
            f"the server is at capacity: {exc}",
            "retry after the Retry-After seconds, or send it with a higher priority",
        ),
        "timeout": (
            504,
            "the run passed the server's per-request deadline",
            f"{resume}; it continues from its last checkpoint",
        ),
        "storage_unavailable": (
            503,
            f"Redis failed during the run: {exc}",
            f"retry shortly, then {resume}",
        ),
        "model_unavailable": (
            502,
            f"the model endpoint failed: {type(exc).__name__}: {exc}",
            f"retry shortly, then {resume}",
        ),
        "thread_busy": (
            409,
            "this thread is running now (on this or another replica)",
            f"wait for it to finish: GET /v1/threads/{thread_id} shows its status, "
            f"GET /v1/threads/{thread_id}/events follows it",
        ),
        "thread_not_found": (
            404,
            f"no thread {thread_id!r} belongs to this API key",
            "use a thread id returned to this key by POST /v1/refinements",
        ),
        "thread_finished": (
            409,
            "this thread has finished; nothing to resume",
            "read it with GET /v1/threads/{id}, or start a new refinement",
        ),
        "not_awaiting_review": (
            409,
            f"this thread is not awaiting a review: {exc}",
            f"GET /v1/threads/{thread_id} shows its status (and, while it is "
            "`awaiting_review`, the `review_id` to answer)",
        ),
        "run_cancelled": (
            409,
            "the run was cancelled: the client that started it went away"
            if getattr(exc, "by_client", False)
            else "the run was cancelled on request",
            f"POST /v1/threads/{thread_id}/resume continues it from its checkpoint",
        ),
        "lease_lost": (
            409,
            "this replica lost the thread's lease (it stalled past the lease TTL); another "
            "replica continues the run",
            f"follow it with GET /v1/threads/{thread_id}/events",
        ),
    }.get(
        kind,
        (
            500,
            f"the run failed: {type(exc).__name__}: {exc}",
            f"{resume}; report it if it fails again",
        ),
    )
    if kind == "storage_unavailable":
        retry_after = 5
    if kind == "thread_not_found":
        thread_id = None  # a thread that is not the caller's is not named back
    return ApiError(status, kind, message, fix, thread_id=thread_id, retry_after_s=retry_after)


@contextlib.contextmanager
def answering(thread_id: str) -> Iterator[None]:
    """Whatever a run raises inside the block leaves it as the `ApiError` that answers it."""
    try:
        yield
    except ApiError:
        raise
    except Exception as exc:
        raise error_of(exc, thread_id) from exc


def respond(
    status: int, body: ErrorBody, headers: dict[str, str] | None = None, path: str = ""
) -> JSONResponse:
    """The error answer to a request for `path` (in OpenAI's shape on its paths)."""
    if speaks_openai(path):
        return openai_response(status, body, headers)
    payload = ErrorResponse(error=body).model_dump(mode="json", exclude_none=True)
    return JSONResponse(payload, status_code=status, headers=headers)


def _path(request: Request) -> str:
    return request.scope.get("path", "")


_FIXES: dict[str, str] = {
    "missing": "add this field",
    "extra_forbidden": "remove this field; the schema at /docs lists the allowed ones",
    "json_invalid": "send a valid JSON body with `Content-Type: application/json`",
    "model_attributes_type": "send a JSON object here",
    "dict_type": "send a JSON object here",
    "list_type": "send a JSON array here",
    "string_type": "send a string here",
    "int_type": "send an integer here",
    "int_parsing": "send an integer here",
    "string_pattern_mismatch": "use only letters, digits and `_.:-`, 1-64 characters",
    "union_tag_not_found": "give each instruction a `kind`; GET /v1/instructions lists them",
}


def _fix_for(error: dict[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "string_too_long":
        return f"shorten it to at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return f"give at least {ctx.get('min_length')} character(s)"
    if kind == "too_long":
        return f"send at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"send at least {ctx.get('min_length')} item(s)"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {k: v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt")}
        return f"use a number within the bound {bound}"
    if kind in ("literal_error", "enum"):
        return f"use one of: {ctx.get('expected')}"
    if kind == "union_tag_invalid":
        return f"use a known `kind` (GET /v1/instructions lists them): {ctx.get('expected_tags')}"
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    return _FIXES.get(kind, "see the request schema at /docs")


def _detail(error: dict[str, Any]) -> ErrorDetail:
    loc = ".".join(str(part) for part in error.get("loc", ()))
    return ErrorDetail(field=loc or "body", problem=str(error.get("msg", "")), fix=_fix_for(error))


def details_of(errors: Sequence[Any]) -> list[ErrorDetail]:
    """Pydantic's validation errors as problems that say where, what and how to fix (50 at
    most: a body can hold thousands of wrong items)."""
    return [_detail(e) for e in errors[:50]]


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = details_of(exc.errors())
    first = details[0] if details else ErrorDetail(field="body", problem="invalid", fix="")
    body = ErrorBody(
        type="invalid_request",
        message=f"{len(details)} problem(s) with the request; first: {first.field}: "
        f"{first.problem}",
        fix=first.fix or "see the request schema at /docs",
        details=details,
    )
    return respond(422, body, path=_path(request))


_HTTP_FIXES: dict[int, tuple[str, str]] = {
    # FastAPI's answer to a body it cannot parse at all (not UTF-8, nested past the parser).
    400: (
        "invalid_body",
        "send UTF-8 JSON of ordinary depth with `Content-Type: application/json`",
    ),
    404: ("not_found", "check the path; GET /docs lists every endpoint"),
    405: ("method_not_allowed", "check the method; GET /docs lists every endpoint"),
    413: ("body_too_large", "send a smaller body (fewer or shorter documents)"),
}


def body_too_large(limit: int, path: str = "") -> JSONResponse:
    type_, fix = _HTTP_FIXES[413]
    message = f"the request body is larger than the limit of {limit} bytes"
    body = ErrorBody(type=type_, message=message, fix=fix)
    return respond(413, body, {"Connection": "close"}, path)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 413:
        return body_too_large(request.app.state.max_body_bytes, _path(request))
    type_, fix = _HTTP_FIXES.get(exc.status_code, ("http_error", "see /docs"))
    body = ErrorBody(type=type_, message=str(exc.detail), fix=fix)
    return respond(exc.status_code, body, exc.headers, _path(request))


async def _api(request: Request, exc: ApiError) -> JSONResponse:
    return respond(exc.status, exc.body, exc.headers, _path(request))


async def _run_failure(request: Request, exc: RunFailure | OverloadedError) -> JSONResponse:
    error = error_of(exc)
    return respond(error.status, error.body, error.headers, _path(request))


async def _redis_down(request: Request, exc: redis.RedisError) -> JSONResponse:
    log.warning("redis error on %s: %s", request.url.path, exc)
    body = ErrorBody(
        type="storage_unavailable",
        message="the server's Redis is unreachable or failing",
        fix="retry shortly; if it persists, the operator should check GET /readyz",
        retry_after_s=5,
    )
    return respond(503, body, {"Retry-After": "5"}, _path(request))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s", request.url.path)
    body = ErrorBody(
        type="internal_error",
        message=f"the server failed unexpectedly ({type(exc).__name__})",
        fix="retry; if it persists, report it with the time of the request",
    )
    return respond(500, body, path=_path(request))


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON handlers on `app`."""
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, _api)  # type: ignore[arg-type]
    app.add_exception_handler(RunFailure, _run_failure)  # type: ignore[arg-type]
    app.add_exception_handler(OverloadedError, _run_failure)  # type: ignore[arg-type]
    app.add_exception_handler(redis.RedisError, _redis_down)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


_ERROR_REF = "#/components/schemas/ErrorResponse"
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    # `content` names JSON explicitly: FastAPI would file the model under a streaming route's
    # own media type (text/event-stream), yet errors are always answered as JSON.
    code: {
        "model": ErrorResponse,
        "description": text,
        "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}},
    }
    for code, text in {
        400: "The body cannot be parsed (not UTF-8, or JSON nested too deep).",
        401: "No or unknown API key.",
        404: "No such thread for this API key.",
        413: "The body is larger than the server's limit.",
        422: "The body is not valid; `details` says where and how to fix it.",
        429: "This key's rate limit is spent; see `Retry-After`.",
        503: "The server is at capacity or Redis is down; see `Retry-After`.",
    }.items()
}
"""The error answers every /v1 endpoint can give, for the OpenAPI document."""
