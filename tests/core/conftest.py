"""Fixtures of the monitoring tests: a `Telemetry` on the session's Redis under a fresh prefix."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aredis

from core.settings import Settings
from core.telemetry import Telemetry

MakeTelemetry = Callable[..., Telemetry]


@pytest.fixture
async def make_telemetry(redis_url: str) -> AsyncIterator[MakeTelemetry]:
    """`make_telemetry(replica="a", **settings)`: replicas made by one test share a prefix."""
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    made: list[Telemetry] = []

    def make(replica: str = "a", **values: Any) -> Telemetry:
        settings = Settings(redis_url=redis_url, redis_key_prefix=prefix, **values)
        telemetry = Telemetry(aredis.from_url(redis_url), settings, replica=replica)
        made.append(telemetry)
        return telemetry

    yield make
    for telemetry in made:
        await telemetry.aclose()
        await telemetry.redis.aclose()
