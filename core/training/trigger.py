"""The retraining trigger: the drift monitor's "review or retrain" (the mean score dropped by
`drift_quality_drop`) or the schedule (`retrain_every_days` since the last pipeline) starts the
training pipeline; each start is recorded as an event with its report, in Redis beside the
alerts, so every replica and `refinery train events` read the same history."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aredis
from pydantic import BaseModel

from core.settings import Settings, get_settings
from core.telemetry.drift import DriftReport
from core.training.pipeline import PipelineReport, Reason

DAY_S = 86_400.0
ALERT_COOLDOWN_DAYS = 1.0
"""An alert that stays open starts the pipeline at most once a day (its windows change slowly)."""


class TrainingEvent(BaseModel):
    """One start of the pipeline, and what it produced."""

    at: float
    reason: Reason
    quality_drop: float | None = None
    status: str
    """The report's promotion outcome, or `failed: <error>`."""
    summary: str
    report: PipelineReport | None = None


def due(
    drift: DriftReport | None, last: TrainingEvent | None, now: float, settings: Settings
) -> Reason | None:
    """Why the pipeline should start now, if it should."""
    since_days = (now - last.at) / DAY_S if last else None
    rested = since_days is None or since_days >= ALERT_COOLDOWN_DAYS
    if drift is not None and drift.review_or_retrain and rested:
        return "review_or_retrain"
    every = settings.retrain_every_days
    if every is not None and (since_days is None or since_days >= every):
        return "schedule"
    return None


class TrainingEvents:
    """The pipeline's events, newest first, in a capped Redis list."""

    def __init__(self, redis: aredis.Redis, prefix: str, keep: int = 200) -> None:
        self.redis = redis
        self.key = f"{prefix}:training:events"
        self.keep = keep

    async def record(self, event: TrainingEvent) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self.key, event.model_dump_json())
            pipe.ltrim(self.key, 0, self.keep - 1)
            await pipe.execute()

    async def recent(self, count: int = 20) -> list[TrainingEvent]:
        raw = await self.redis.lrange(self.key, 0, count - 1)
        return [TrainingEvent.model_validate_json(item) for item in raw]

    async def last(self) -> TrainingEvent | None:
        events = await self.recent(1)
        return events[0] if events else None


async def check(
    drift: DriftReport | None,
    events: TrainingEvents,
    run: Callable[[Reason], Awaitable[PipelineReport]],
    *,
    settings: Settings | None = None,
    clock: Callable[[], float] = time.time,
) -> TrainingEvent | None:
    """Start the pipeline (`run`) if it is due and record the event; None when not due."""
    settings = settings or get_settings()
    now = clock()
    reason = due(drift, await events.last(), now, settings)
    if reason is None:
        return None
    drop = drift.quality_drop if drift else None
    try:
        report = await run(reason)
    except Exception as exc:  # the event says it failed; the next check may try again
        event = TrainingEvent(
            at=now, reason=reason, quality_drop=drop, status=f"failed: {exc}", summary=str(exc)
        )
        await events.record(event)
        raise
    event = TrainingEvent(
        at=now, reason=reason, quality_drop=drop, status=report.promotion,
        summary=report.summary(), report=report,
    )  # fmt: skip
    await events.record(event)
    return event
