"""The capacity scaling loop of a serving process, wired to this replica's scheduler (its queue
and runs in flight), the telemetry timeline (arrival rate, latency, the demand series) and, with
`scaling_local_instances`, a fleet of embedded model servers joining the local tier's pools."""

from __future__ import annotations

import asyncio

from api.services import Services
from core.scaling.fleet import LocalFleet, llama_server_fleet
from core.scaling.service import ScalingService
from core.settings import Settings

__all__ = ["scaling_service"]


def _load(services: Services) -> tuple[int, int]:
    stats = services.scheduler.stats()
    return stats.queued, stats.running


async def local_fleet(settings: Settings) -> LocalFleet:
    """Embedded model servers beyond the one the local tier starts (which stays: `base`),
    joining every role's pool of the local tier."""
    from core.llm.factory import balancers

    return await asyncio.to_thread(llama_server_fleet, settings, lambda: balancers("local"))


async def scaling_service(services: Services) -> ScalingService:
    """The loop for `services` (not started)."""
    settings = services.settings
    fleet = None
    if settings.scaling_local_instances:
        if settings.scaling_group != "local":
            raise ValueError("REFINERY_SCALING_LOCAL_INSTANCES needs REFINERY_SCALING_GROUP=local")
        fleet = await local_fleet(settings)
    telemetry = services.telemetry
    return ScalingService(
        services.redis,
        settings,
        telemetry.replica,
        lambda: _load(services),
        telemetry.timeline,
        fleet,
    )
