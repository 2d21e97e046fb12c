"""Retries of model calls: LangChain's `RunnableRetry` (tenacity, exponential backoff with
jitter, capped) on transient failures only, with every retry logged with its cause and counted.

It is the only retry loop: the OpenAI client is built with `max_retries=0` and graph nodes get
no `RetryPolicy`, so attempts never multiply.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar
from typing import Any

import httpx
import openai
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.retry import RunnableRetry
from tenacity import RetryCallState

from core.llm.stats import llm_stats
from core.settings import Settings

log = logging.getLogger(__name__)

_RETRIED_STATUS = frozenset({408, 409, 425, 429})
_NOTHING = object()


class EmptyResponseError(RuntimeError):
    """The endpoint answered without a single generation (e.g. a stream that was not SSE)."""


def cause_of(exc: BaseException) -> str:
    """A short name for a failure, as logs and counters show it."""
    if isinstance(exc, openai.APITimeoutError | TimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(
        exc, json.JSONDecodeError | openai.APIResponseValidationError | EmptyResponseError
    ):
        return "malformed"
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}"
    return type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, timeouts, broken connections, bad bodies."""
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in _RETRIED_STATUS or exc.status_code >= 500
    return isinstance(
        exc,
        openai.APIConnectionError  # includes APITimeoutError
        | openai.APIResponseValidationError
        | json.JSONDecodeError
        | EmptyResponseError
        | TimeoutError
        | httpx.TransportError,
    )


class RetryBudget:
    """Retries left to one run, shared by every model call it makes (its nodes and sub-tasks
    run in tasks that copy the run's context, so they all hold this one object)."""

    def __init__(self, retries: int) -> None:
        self.left = retries

    def spend(self) -> None:
        """One retry is scheduled."""
        self.left -= 1


_budget: ContextVar[RetryBudget | None] = ContextVar("refinery_retry_budget", default=None)


@contextlib.contextmanager
def run_retry_budget(retries: int) -> Iterator[RetryBudget]:
    """Every model call inside (one run) shares `retries` retries."""
    budget = RetryBudget(retries)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def _within_budget(retryable: Callable[[BaseException], bool]) -> Callable[[BaseException], bool]:
    """`retryable`, and the current run (if any) still has a retry to spend."""

    def allowed(exc: BaseException) -> bool:
        if not retryable(exc):
            return False
        budget = _budget.get()
        if budget is None or budget.left > 0:
            return True
        log.warning("no retry: the run's retry budget is spent (%s)", cause_of(exc))
        llm_stats().count("failures", "retry_budget_spent")
        return False

    return allowed


class CountedRetry(RunnableRetry):
    """`RunnableRetry` that logs and counts each retry it schedules."""

    label: str = "model"
    """What is being retried, for the log line."""

    @property
    def _kwargs_retrying(self) -> dict[str, Any]:
        return {**super()._kwargs_retrying, "before_sleep": self._before_sleep}

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> AsyncIterator[Any]:
        """Retried until the first chunk arrives; a failure after it is the caller's."""
        stream: AsyncIterator[Any] | None = None
        first: Any = _NOTHING
        async for attempt in self._async_retrying(reraise=True):
            with attempt:
                stream = self.bound.astream(input, config, **kwargs)
                first = await anext(stream, _NOTHING)
        if first is _NOTHING or stream is None:
            return
        yield first
        async for chunk in stream:
            yield chunk

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> Iterator[Any]:
        """Retried until the first chunk arrives; a failure after it is the caller's."""
        stream: Iterator[Any] | None = None
        first: Any = _NOTHING
        for attempt in self._sync_retrying(reraise=True):
            with attempt:
                stream = self.bound.stream(input, config, **kwargs)
                first = next(stream, _NOTHING)
        if first is _NOTHING or stream is None:
            return
        yield first
        yield from stream

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        cause = cause_of(exc) if exc else "unknown"
        if (budget := _budget.get()) is not None:
            budget.spend()
        llm_stats().retry(cause, delay)
        log.warning(
            "%s: attempt %d failed (%s: %s); retrying in %.2f s",
            self.label,
            state.attempt_number,
            cause,
            str(exc)[:200],
            delay,
        )


def is_fixable(exc: BaseException) -> bool:
    """Transient, and not a timeout: what a retry fixes on a server whose slow generation is
    still running (the embedded one), as opposed to a connection refused, a 5xx or a broken
    stream."""
    return is_transient(exc) and cause_of(exc) != "timeout"


def with_retries(
    runnable: Runnable, settings: Settings, label: str, *, retry_timeouts: bool = True
) -> Runnable:
    """`runnable` retried on transient failures per the settings (attempts = retries + 1);
    without `retry_timeouts`, a call that timed out fails at once."""
    if settings.llm_max_retries == 0:
        return runnable
    return CountedRetry(
        bound=runnable,
        label=label,
        retry_exception_types=_within_budget(is_transient if retry_timeouts else is_fixable),
        max_attempt_number=settings.llm_max_retries + 1,
        wait_exponential_jitter=True,
        exponential_jitter_params={
            "initial": settings.llm_retry_initial_s,
            "max": settings.llm_retry_max_s,
            "exp_base": settings.llm_retry_exp_base,
            "jitter": settings.llm_retry_jitter_s,
        },
    )
