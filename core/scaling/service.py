"""The scaling loop of one replica: it reports this replica's load; where this replica leads the
group, it decides from the load of every replica, the telemetry timeline (arrival rate,
latency) and the demand forecast, and stores the decision; everywhere, it publishes the desired
count (`refinery_scaling_desired_instances`) and, where this process runs a fleet of local
instances, carries it out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aredis
from redis.exceptions import RedisError

from core.scaling.coordinator import ReplicaLoad, ScalingCoordinator, StoredDecision
from core.scaling.demand import DemandForecaster
from core.scaling.fleet import LocalFleet
from core.scaling.forecast import ForecastConfig
from core.scaling.metrics import DESIRED
from core.scaling.scaler import LoadSignals, Scaler, ScalingPolicy
from core.settings import Settings
from core.telemetry.timeline import LATENCY_EDGES, Timeline, quantile

__all__ = ["LoadProbe", "ScalingService"]

log = logging.getLogger("refinery.scaling")

LoadProbe = Callable[[], tuple[int, int]]
"""This replica's (queue depth, runs in flight) now."""

RECENT_S = 120.0
"""The window the arrival rate and latency are read over (runs counted as they finish: under
a backlog this rate trails the arrivals, and the queue depth carries the difference)."""


class ScalingService:
    """One replica's part in scaling one endpoint group."""

    def __init__(
        self,
        redis: aredis.Redis,
        settings: Settings,
        replica: str,
        load: LoadProbe,
        timeline: Timeline,
        fleet: LocalFleet | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.group = settings.scaling_group
        self.policy = ScalingPolicy.model_validate(settings.scaling_policy)
        self.load = load
        self.timeline = timeline
        self.fleet = fleet
        self.clock = clock
        interval = settings.scaling_interval_s
        self.coordinator = ScalingCoordinator(
            redis,
            settings.redis_key_prefix,
            self.group,
            replica,
            lease_s=3 * interval,
            stale_s=4 * interval,
        )
        self.scaler = Scaler(self.policy)
        self.forecaster: DemandForecaster | None = None
        if settings.scaling_predictive:
            self.forecaster = DemandForecaster(
                timeline,
                ForecastConfig(bucket_s=float(settings.scaling_forecast_bucket_s)),
                refit_s=settings.scaling_forecast_refit_s,
                history_s=float(settings.timeline_retention_s),
                horizon_s=self.policy.startup_s + interval,
            )
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> StoredDecision | None:
        """One round: report, decide if leading, publish and apply the group's decision."""
        now = self.clock()
        queue, running = self.load()
        await self.coordinator.report(ReplicaLoad(at=now, queue_depth=queue, in_flight=running))
        if await self.coordinator.lead():
            stored = await self.coordinator.stored()
            if stored is not None and stored.replica != self.coordinator.replica:
                self.scaler.restore(stored.state)  # another replica led until now
            decision = self.scaler.decide(await self.signals(now))
            await self.coordinator.publish(decision, self.scaler.state())
            if decision.desired != decision.current:
                log.info(
                    "%s: %d -> %d instances (%s)",
                    self.group,
                    decision.current,
                    decision.desired,
                    decision.reason,
                    extra={"needs": decision.needs},
                )
        stored = await self.coordinator.stored()
        if stored is not None:
            DESIRED.labels(self.group).set(stored.decision.desired)
            if self.fleet is not None:
                await self.fleet.apply(stored.decision.desired)
        return stored

    async def signals(self, now: float) -> LoadSignals:
        """What the leader decides on: every replica's load, the recent timeline, the forecast."""
        load = await self.coordinator.total_load(now)
        rows = await self.timeline.series(RECENT_S, now)
        recent: dict[str, float] = {}
        for _, row in rows:
            for name, value in row.items():
                recent[name] = recent.get(name, 0.0) + value
        # the buckets cover from the first one's start to now (the last is filling)
        span = max(now - rows[0][0], 1.0) if rows else RECENT_S
        counts = [recent.get(f"lat_le_{i}", 0.0) for i in range(len(LATENCY_EDGES))]
        finished = recent.get("lat_n", 0.0)
        forecast = None
        if self.forecaster is not None:
            await self.forecaster.refresh(now)
            lead = self.policy.startup_s + self.settings.scaling_interval_s
            forecast = self.forecaster.planned_rate(now, lead)
        return LoadSignals(
            at=now,
            queue_depth=load.queue_depth,
            in_flight=load.in_flight,
            starting=self.fleet.starting() if self.fleet is not None else 0,
            arrival_rate=recent.get("runs", 0.0) / span,
            latency_s=quantile(counts, 0.95),
            service_time_s=recent.get("lat_sum", 0.0) / finished if finished else None,
            forecast_rate=forecast,
        )

    async def status(self) -> dict[str, Any]:
        """The group's decision, its leader and the forecast, for `GET /v1/scaling`."""
        stored = await self.coordinator.stored()
        return {
            "group": self.group,
            "desired": stored.decision.desired if stored else None,
            "decision": stored.decision.model_dump() if stored else None,
            "decided_by": stored.replica if stored else None,
            "policy": self.policy.model_dump(),
            "predictive": self.forecaster is not None,
            "forecast": self.forecaster.status() if self.forecaster else {},
            "local_instances": (
                {
                    "starting": self.fleet.count("starting"),
                    "serving": self.fleet.count("serving"),
                    "draining": self.fleet.count("draining"),
                    "stopping": self.fleet.count("stopping"),
                    "refused_for_memory": self.fleet.refused_for_memory,
                    "slots": self.fleet.current_slots(),
                }
                if self.fleet is not None
                else None
            ),
        }

    # --- the loop ------------------------------------------------------------------------------

    def start(self) -> None:
        """Run `tick` every `scaling_interval_s` in the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="scaling")

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except RedisError as exc:
                log.warning("scaling skipped: Redis unavailable", extra={"error": str(exc)})
            except Exception:  # the loop must outlive any one bad round
                log.exception("scaling round failed")
            await asyncio.sleep(self.settings.scaling_interval_s)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=5)
        with contextlib.suppress(RedisError):
            await self.coordinator.resign()
        if self.fleet is not None:
            await self.fleet.aclose()
