"""How a run can fail, as run control sees it: domain errors with no HTTP in them (the HTTP
layer, `api.errors.error_of`, turns each into a status and a fix), and the one classification of
any failure into a kind that monitoring, logs and the lease log share."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import httpx
import openai
import redis

from api.runs.scheduler import OverloadedError
from core.llm.endpoints import NoHealthyEndpointError
from core.llm.pooled import ServerNotReadyError


class RunFailure(Exception):
    """A run that could not start or go on, for a reason run control knows."""

    kind: ClassVar[str] = "run_failed"

    def __init__(self, thread_id: str, message: str = "") -> None:
        super().__init__(message or self.kind.replace("_", " "))
        self.thread_id = thread_id


class ThreadBusy(RunFailure):
    """Another run holds the thread's lease (on this or another replica)."""

    kind = "thread_busy"


class ThreadNotFound(RunFailure):
    """No thread of that id belongs to the caller (whether or not it exists)."""

    kind = "thread_not_found"


class ThreadFinished(RunFailure):
    """The thread's run has finished: there is nothing to resume."""

    kind = "thread_finished"


class NotAwaitingReview(RunFailure):
    """A review was sent to a thread that is not paused for one (or not for that one)."""

    kind = "not_awaiting_review"


class RunCancelled(RunFailure):
    """Someone asked the run to stop, or the client that started it went away."""

    kind = "run_cancelled"

    def __init__(self, thread_id: str, by_client: bool = False) -> None:
        super().__init__(thread_id)
        self.by_client = by_client


class LeaseLost(RunFailure):
    """This replica stalled past the lease TTL; another replica continues the run."""

    kind = "lease_lost"


MODEL_ERRORS = (openai.APIError, httpx.HTTPError, NoHealthyEndpointError, ServerNotReadyError)
"""What every tier of a role failing ends in: the last tier's error, or its pool ejected."""


def kind_of(exc: BaseException) -> str:
    """The kind of failure `exc` is, as logs, monitoring and error answers name it."""
    if isinstance(exc, RunFailure):
        return exc.kind
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, OverloadedError):
        return "overloaded"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, redis.RedisError):
        return "storage_unavailable"
    if isinstance(exc, MODEL_ERRORS):
        return "model_unavailable"
    return "run_failed"


NOT_RUNS = frozenset(
    {
        "cancelled",
        "overloaded",
        "thread_busy",
        "run_cancelled",
        "lease_lost",
        "not_awaiting_review",
    }
)
"""Endings that say nothing about the run or the model: the client left (or asked to stop),
it never ran, or another replica took it over."""
