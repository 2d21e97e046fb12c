"""Monitoring on the request path: a middleware that reports every request to the app's
telemetry (labelled by its route template) and logs it as one JSON line carrying the thread and
run it served; and the scheduler's gauges (queue depth by priority, runs in flight)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.runs.scheduler import SchedulerStats
from core.telemetry.logs import request_scope
from core.telemetry.metrics import IN_FLIGHT, QUEUE_DEPTH

log = logging.getLogger("refinery.api.requests")

UNROUTED = "unrouted"
"""The route label of a request no route took (404s, bodies refused before routing)."""


def route_of(scope: Scope) -> str:
    """The template of the route that served the request (`/v1/threads/{thread_id}`, the
    prefix of an `APIRouter` included): a label of bounded cardinality, unlike the raw path."""
    path = getattr(scope.get("route"), "path", None)
    if path:
        return path
    if "endpoint" in scope:  # a mounted app (static files): its mount point
        return f"{scope.get('root_path', '')}/{{path}}"
    return UNROUTED


class RequestTelemetry:
    """ASGI middleware: `telemetry.observe_request(route, method, status, latency_s)` for every
    HTTP request once its response has ended (a stream's when the stream ends), and a log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with request_scope():
            try:
                await self.app(scope, receive, observed)
            finally:
                self._report(scope, status, time.perf_counter() - started)

    @staticmethod
    def _report(scope: Scope, status: int, latency_s: float) -> None:
        """Count the request and log its line (the scope's ids ride along)."""
        route, method = route_of(scope), scope["method"]
        telemetry = getattr(scope["app"].state, "telemetry", None)
        if telemetry is not None:
            telemetry.observe_request(route, method, status, latency_s)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "%s %s %d",
                method,
                route,
                status,
                extra={
                    "route": route,
                    "method": method,
                    "status": status,
                    "latency_ms": round(latency_s * 1000, 2),
                },
            )


def scheduler_gauges(stats: SchedulerStats) -> None:
    """A scheduler listener: the queue depth by priority and the runs in flight, as gauges."""
    for priority, waiting in stats.queued_by_priority.items():
        QUEUE_DEPTH.labels(priority).set(waiting)
    IN_FLIGHT.set(stats.running)
