"""The HTTP API's app factory: `create_app(settings)` wires the services (graph, Redis, keys,
limiter, scheduler, stores) into a FastAPI app with JSON errors, a body size limit, the /v1
routers and the web page. `uvicorn --factory api.app:app_from_env` serves it from the env.

Hooks for other faces (monitoring): include a router in `include_routers`; read
`app.state.services.scheduler.stats()` (queue depth, in-flight runs) or register
`scheduler.on_change(fn)` and `services.run_listeners.append(fn)` (one `RunRecord` per run)
from a function added to `app.state.service_hooks`, which runs once the services exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI

from api import routes_feedback, routes_health, routes_page, routes_refinements, routes_threads
from api.body_limit import BodyLimit
from api.errors import install_error_handlers
from api.routes_monitoring import router as monitoring_router
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
    app.include_router(routes_page.router)
    app.include_router(monitoring_router)  # /metrics, /v1/alerts, /v1/experiments, /dashboard
    app.mount("/static", routes_page.static_files(), name="static")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API app. The graph, its checkpointer and model factory read the process settings
    (`get_settings()`); `settings` governs the API itself (keys, limits, capacity)."""
    settings = settings or get_settings()
    hooks: list[Callable[[Services], None]] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings)
        app.state.services = services
        for hook in hooks:
            hook(services)
        log.info(
            "API ready: %d key(s), %d running at most, queue %d",
            len(services.keys),
            settings.api_max_running,
            settings.api_max_queue,
        )
        try:
            yield
        finally:
            for task in list(services.background):
                task.cancel()
            await asyncio.gather(*services.background, return_exceptions=True)
            await services.redis.aclose()

    app = FastAPI(
        title="refinery",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    app.state.max_body_bytes = settings.api_max_body_bytes
    app.state.service_hooks = hooks
    install_error_handlers(app)
    include_routers(app)
    return app


def app_from_env() -> FastAPI:
    """The app on the process settings (for `uvicorn --factory`)."""
    return create_app(get_settings())
