"""The HTTP API's app factory: `create_app(settings)` wires the services (graph, Redis, keys,
limiter, adaptive scheduler, thread store, monitoring) into a FastAPI app with JSON errors, a
body size limit, request telemetry, the /v1 routers, the monitoring routes and the web pages.
`uvicorn --factory api.app:app_from_env` serves it from the env.

Monitoring is part of the request path: the middleware reports every request, `api.runs.execute`
every run (and its experiment variant), the scheduler's listener the queue and in-flight
gauges; the monitor loop started here probes readiness and evaluates the alert rules.
`serving(settings)` is that life cycle of the services alone, for the MCP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI

from api.body_limit import BodyLimit
from api.deps import operator
from api.errors import install_error_handlers
from api.observability import RequestTelemetry, scheduler_gauges
from api.routes import chat as routes_chat
from api.routes import feedback as routes_feedback
from api.routes import health as routes_health
from api.routes import page as routes_page
from api.routes import refinements as routes_refinements
from api.routes import scaling as routes_scaling
from api.routes import threads as routes_threads
from api.routes.monitoring import page_router as dashboard_router
from api.routes.monitoring import router as monitoring_router
from api.runs.reaper import reap_forever
from api.services import Services, build_services
from core.settings import Settings, get_settings

log = logging.getLogger("refinery.api")

DESCRIPTION = """Iterative refinement over HTTP: a drafter writes, validators and a critic score,
a refiner improves, until the answer passes. Authenticate with `Authorization: Bearer <key>`
(unless the server runs without keys, on loopback). Every error is JSON:
`{"error": {"type", "message", "fix", "details"}}`."""


def include_routers(app: FastAPI) -> None:
    """Every router the app serves; a new face adds its router here."""
    app.include_router(routes_health.router)
    app.include_router(routes_refinements.router)
    app.include_router(routes_threads.router)
    app.include_router(routes_feedback.router)
    app.include_router(routes_chat.router)  # OpenAI-compatible: /v1/chat/completions, /v1/models
    app.include_router(routes_page.router)
    # /metrics, /v1/alerts, /v1/experiments/{name}, /v1/monitoring/summary: any known key.
    app.include_router(monitoring_router, dependencies=[Depends(operator)])
    app.include_router(routes_scaling.router, dependencies=[Depends(operator)])  # /v1/scaling
    app.include_router(dashboard_router)
    app.mount("/static", routes_page.static_files(), name="static")


def _start_monitoring(services: Services) -> None:
    scheduler = services.scheduler
    scheduler.on_change(scheduler_gauges)
    scheduler_gauges(scheduler.stats())

    async def probe() -> bool:
        return await routes_health.is_ready(services)

    services.telemetry.start(probe=probe)


def _start_scale_out(services: Services) -> None:
    """The reaper (resumes runs whose replica died), and a hand-over on SIGTERM/SIGINT: the
    runs this replica stops while it shuts down stay listed, so another replica resumes them."""
    if services.settings.api_reaper_interval_s > 0:
        task = asyncio.create_task(reap_forever(services), name="reaper")
        services.background.add(task)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)  # the server's own handler (uvicorn's)
        if not callable(previous):
            continue

        def hand_over(number: int, frame: object, previous: Any = previous) -> None:
            services.leases.draining = True
            previous(number, frame)

        signal.signal(sig, hand_over)


async def _start_scaling(services: Services) -> None:
    """The capacity scaling loop (`core/scaling`), when `scaling_enabled`."""
    settings = services.settings
    if not settings.scaling_enabled:
        return
    from api.scaling import scaling_service

    services.scaling = await scaling_service(services)
    services.scaling.start()


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Services]:
    """The services of a serving process (the API's, the MCP server's) from start to stop:
    built, monitored, reaping and handing over runs as a replica, then closed."""
    services = await build_services(settings)
    _start_monitoring(services)
    _start_scale_out(services)
    await _start_scaling(services)
    try:
        yield services
    finally:
        services.leases.draining = True
        if services.scaling is not None:
            await services.scaling.aclose()
        for task in list(services.background):
            task.cancel()
        await asyncio.gather(*services.background, return_exceptions=True)
        services.leases.keeper.close()
        await services.telemetry.aclose()
        await services.events.aclose()
        await services.redis.aclose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API app. The graph, its checkpointer and model factory read the process settings
    (`get_settings()`); `settings` governs the API itself (keys, limits, capacity, monitoring)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with serving(settings) as services:
            app.state.services = services
            app.state.telemetry = services.telemetry
            log.info(
                "API ready: %d key(s), %d running at most (adaptive), queue %d, experiment %s",
                len(services.keys),
                services.scheduler.max_running,
                settings.api_max_queue,
                services.experiments[0].name if services.experiments else "none",
            )
            yield

    app = FastAPI(
        title="refinery",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    app.add_middleware(RequestTelemetry)  # outermost: it sees every answer, 413s included
    app.state.max_body_bytes = settings.api_max_body_bytes
    install_error_handlers(app)
    include_routers(app)
    return app


def app_from_env() -> FastAPI:
    """The app on the process settings (for `uvicorn --factory`), logging as they say."""
    from core.telemetry.logs import configure_logging
    from core.telemetry.tracing import configure_tracing

    settings = get_settings()
    configure_logging(settings)
    configure_tracing(settings)
    return create_app(settings)
