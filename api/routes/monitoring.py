"""Monitoring endpoints: Prometheus metrics, open alerts, experiment results and the summary
the dashboard draws (`router`, which the app puts behind its API keys), and the dashboard page
itself (`page_router`, open: the page asks for a key and sends it with its requests)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from core.feedback.experiments import ExperimentResults, UnknownExperimentError
from core.telemetry import Alert, Telemetry, get_telemetry
from core.telemetry.metrics import exposition

__all__ = ["page_router", "router"]

DASHBOARD = Path(__file__).resolve().parent.parent / "static" / "dashboard.html"

router = APIRouter(tags=["monitoring"])
page_router = APIRouter(tags=["monitoring"])


def telemetry_of(request: Request) -> Telemetry:
    """The app's monitoring service (`app.state.telemetry`), else the process's own."""
    return getattr(request.app.state, "telemetry", None) or get_telemetry()


class AlertList(BaseModel):
    alerts: list[Alert]


@router.get(
    "/metrics",
    summary="Prometheus metrics (every worker process aggregated)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics() -> Response:
    body, content_type = await run_in_threadpool(exposition)
    return Response(body, media_type=content_type)


@router.get("/v1/alerts", response_model=AlertList, summary="Open alerts, newest first")
async def alerts(request: Request) -> AlertList:
    return AlertList(alerts=await telemetry_of(request).alerts.open_alerts())


@router.get(
    "/v1/experiments/{name}",
    response_model=ExperimentResults,
    summary="An experiment's per-variant results and significance tests",
    responses={404: {"description": "No experiment of that name"}},
)
async def experiment(
    request: Request,
    name: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.-]{1,64}$")],
) -> dict[str, Any]:
    try:
        return await telemetry_of(request).experiment_results(name)
    except UnknownExperimentError:
        raise HTTPException(404, f"no experiment named {name!r}") from None


@router.get("/v1/monitoring/summary", summary="What the dashboard draws")
async def summary(
    request: Request,
    span_s: Annotated[int, Query(ge=60, le=7 * 24 * 3600, description="Seconds of history")] = 3600,
) -> dict[str, Any]:
    return await telemetry_of(request).summary(span_s)


@page_router.get("/dashboard", include_in_schema=False)
async def dashboard() -> FileResponse:
    return FileResponse(DASHBOARD, media_type="text/html")
