"""The capacity scaling loop of a serving process, wired to this replica's scheduler (its queue
and runs in flight), the telemetry timeline (arrival rate, latency, the demand series) and, with
`scaling_local_instances`, a fleet of embedded model servers joining the local tier's pools."""

from __future__ import annotations

import asyncio

from api.services import Services
from core.scaling.fleet import LocalFleet, llama_server_command, llama_server_memory
from core.scaling.scaler import ScalingPolicy
from core.scaling.service import ScalingService
from core.settings import Settings

__all__ = ["scaling_service"]


def _load(services: Services) -> tuple[int, int]:
    stats = services.scheduler.stats()
    return stats.queued, stats.running


async def local_fleet(settings: Settings) -> LocalFleet:
    """Embedded model servers beyond the one the local tier starts (which stays: `base`)."""
    from core.llm.factory import balancers

    policy = ScalingPolicy.model_validate(settings.scaling_policy)
    return LocalFleet(
        "local",
        llama_server_command(settings),
        lambda: balancers("local"),
        base=1,
        ready_path="/health",
        instance_bytes=await asyncio.to_thread(llama_server_memory, settings),
        reserve_bytes=settings.scaling_memory_reserve_mb * 1024 * 1024,
        start_timeout_s=max(180.0, 3 * policy.startup_s),
        drain_timeout_s=settings.local_call_timeout_s,
        poll_s=0.5,
        log_dir=settings.data_dir / "logs",
    )


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
