"""`GET /v1/scaling`: the scaled endpoint group's desired instances, the decision behind them
and the demand forecast; what an external autoscaler reads (KEDA's metrics-api scaler takes
`desired`), beside the `refinery_scaling_desired_instances` metric on `/metrics`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from core.scaling.scaler import Decision

__all__ = ["router"]

router = APIRouter(tags=["monitoring"])


class ScalingStatus(BaseModel):
    group: str
    """The endpoint group scaled (`local`: the embedded model)."""
    desired: int | None
    """Instances wanted now (None before the first decision)."""
    decision: Decision | None
    decided_by: str | None
    """The replica that made the decision (one leads the group at a time)."""
    policy: dict[str, Any]
    predictive: bool
    forecast: dict[str, dict[str, float | str | None]]
    """Per request type: the forecast's method and its error so far (WAPE, MAE)."""
    local_instances: dict[str, int] | None
    """Instances this replica runs on its machine by state, the starts the memory refused
    and the group's slots (None: publish only)."""


@router.get(
    "/v1/scaling",
    response_model=ScalingStatus,
    summary="Desired model instances of the scaled group, for an external autoscaler",
    responses={404: {"description": "Capacity scaling is off"}},
)
async def scaling(request: Request) -> dict[str, Any]:
    service = getattr(request.app.state.services, "scaling", None)
    if service is None:
        raise HTTPException(404, "capacity scaling is off: set REFINERY_SCALING_ENABLED=true")
    return await service.status()
