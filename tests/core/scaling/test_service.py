"""The scaling loop on Redis and the telemetry timeline: two replicas make one decision from
their summed load; a daily demand series in the timeline makes the decision predictive, and
the forecast and its error are exported, and capacity is planned for the forecast plus the
quantile of its errors; with two hours of history it stays reactive."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator

import numpy as np
import pytest
import redis.asyncio as aredis

from core.scaling.coordinator import ReplicaLoad
from core.scaling.service import ScalingService
from core.settings import Settings
from core.telemetry.metrics import exposition
from core.telemetry.timeline import Timeline

DAY = 86_400
POLICY = {"max_instances": 8, "slots_per_instance": 4, "service_time_s": 10.0, "startup_s": 600}


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aredis.Redis]:
    redis = aredis.from_url(redis_url)
    yield redis
    await redis.aclose()


def settings_for(redis_url: str, **values: object) -> Settings:
    base = {
        "redis_url": redis_url,
        "redis_key_prefix": f"sv-{uuid.uuid4().hex[:8]}",
        "scaling_policy": POLICY,
        "timeline_bucket_s": 300,
        "timeline_retention_s": 4 * DAY,
    }
    return Settings(**(base | values))


def rate(t: float) -> float:
    """Requests/s of `open` runs: 0.2 at midnight, 2.2 at noon (1.9 at 09:00)."""
    return 1.2 - math.cos(2 * math.pi * (t % DAY) / DAY)


async def fill(timeline: Timeline, start: float, end: float) -> None:
    at = start
    while at < end:
        await timeline.add({"runs": rate(at) * 300, "runs:open": rate(at) * 300}, at)
        at += 300


def service(client: aredis.Redis, settings: Settings, replica: str, load: tuple[int, int],
            now: float) -> ScalingService:  # fmt: skip
    timeline = Timeline(client, f"{settings.redis_key_prefix}:telemetry", settings)
    return ScalingService(client, settings, replica, lambda: load, timeline, clock=lambda: now)


async def test_two_replicas_make_one_decision_from_their_summed_load(
    client: aredis.Redis, redis_url: str
) -> None:
    settings = settings_for(redis_url, scaling_predictive=False)
    a = service(client, settings, "a", (2, 5), now=1000.0)
    b = service(client, settings, "b", (0, 3), now=1000.0)
    await b.coordinator.report(ReplicaLoad(at=1000.0, queue_depth=0, in_flight=3))
    stored = await a.tick()
    assert stored is not None and stored.replica == "a"
    assert stored.decision.needs["load"] == 4  # 10 waiting or running / (4 slots * 75 %)
    assert stored.decision.desired == 4
    followed = await b.tick()
    assert followed == stored  # b follows the leader's decision, it makes none of its own
    assert 'refinery_scaling_desired_instances{group="local"} 4.0' in exposition()[0].decode()


async def test_a_policy_sized_for_the_wait_is_read_from_the_settings(
    client: aredis.Redis, redis_url: str
) -> None:
    policy = POLICY | {"queue_wait_s": 5.0}
    settings = settings_for(redis_url, scaling_predictive=False, scaling_policy=policy)
    stored = await service(client, settings, "a", (2, 8), now=1000.0).tick()
    assert stored is not None
    # 10 waiting or running: 4 instances at 75 %, 5 so that 0.1 % wait over 5 s for a slot
    assert stored.decision.needs["load"] == 5


async def test_three_days_of_demand_make_the_decision_plan_for_the_coming_peak(
    client: aredis.Redis, redis_url: str
) -> None:
    settings = settings_for(redis_url)
    now = 10 * DAY + 9 * 3600  # 09:00, quiet now, the noon peak ahead
    await fill(Timeline(client, f"{settings.redis_key_prefix}:telemetry", settings),
               now - 3 * DAY, now)  # fmt: skip
    scaling = service(client, settings, "a", (0, 1), now)
    stored = await scaling.tick()
    assert stored is not None
    forecast = scaling.forecaster.forecasts["open"]
    assert forecast.method == "holt_winters"
    # the highest rate from 09:00 to 09:10:15 (now, plus the 600 s start-up, plus a round)
    planned = scaling.forecaster.planned_rate(now, 615)
    assert planned == pytest.approx(rate(now + 615), rel=0.05)
    assert stored.decision.needs["forecast"] == math.ceil(planned * 10 / 3)
    assert stored.decision.reason == "up: forecast"
    metrics = exposition()[0].decode()
    assert 'refinery_demand_forecast_rps{request_type="open"}' in metrics


async def test_the_decision_plans_for_the_forecast_plus_the_quantile_of_its_errors(
    client: aredis.Redis, redis_url: str
) -> None:
    settings = settings_for(redis_url)
    now = 10 * DAY + 9 * 3600
    timeline = Timeline(client, f"{settings.redis_key_prefix}:telemetry", settings)
    noise = np.random.default_rng(5).normal(0.0, 0.2, 3 * 288)
    for i, at in enumerate(range(now - 3 * DAY, now, 300)):
        runs = float(max(0.0, rate(at) + noise[i]) * 300)
        await timeline.add({"runs": runs, "runs:open": runs}, at)
    scaling = service(client, settings, "a", (0, 1), now)
    stored = await scaling.tick()
    assert stored is not None
    forecaster = scaling.forecaster
    margin = forecaster.upper_margin("open")
    # no forecast scored yet: the 95th percentile of the fit's errors, about 1.645 sd of noise
    assert 0.2 < margin < 0.5
    planned = forecaster.planned_rate(now, 615)
    assert planned == pytest.approx(forecaster.forecasts["open"].peak(now, now + 615) + margin)
    assert stored.decision.needs["forecast"] == math.ceil(planned * 10 / 3)
    assert forecaster.status()["open"]["margin"] == margin
    assert 'refinery_demand_forecast_error{measure="margin",request_type="open"}' in (
        exposition()[0].decode()
    )


async def test_the_error_of_past_forecasts_is_measured_and_exported(
    client: aredis.Redis, redis_url: str
) -> None:
    settings = settings_for(redis_url, scaling_forecast_refit_s=3600)
    now = 10 * DAY
    timeline = Timeline(client, f"{settings.redis_key_prefix}:telemetry", settings)
    await fill(timeline, now - 3 * DAY, now + 3600)
    scaling = service(client, settings, "a", (0, 0), now)
    await scaling.forecaster.refresh(now)
    await scaling.forecaster.refresh(now + 3600)  # the hour since has arrived
    error = scaling.forecaster.errors["open"]
    assert error.buckets == 12
    assert error.wape is not None and error.wape < 0.05
    assert 'refinery_demand_forecast_error{measure="wape",request_type="open"}' in (
        exposition()[0].decode()
    )


async def test_with_two_hours_of_history_the_decision_stays_reactive(
    client: aredis.Redis, redis_url: str
) -> None:
    settings = settings_for(redis_url)
    now = 10 * DAY + 9 * 3600
    timeline = Timeline(client, f"{settings.redis_key_prefix}:telemetry", settings)
    await fill(timeline, now - 7200, now)
    scaling = service(client, settings, "a", (0, 1), now)
    stored = await scaling.tick()
    assert scaling.forecaster.forecasts["open"].method == "recent_rate"
    assert stored is not None and "forecast" not in stored.decision.needs
    assert stored.decision.desired == 1


async def test_a_new_leader_goes_on_from_the_last_one_s_memory(
    client: aredis.Redis, redis_url: str
) -> None:
    policy = POLICY | {"scale_down_cooldown_s": 300.0, "scale_down_window_s": 0.0}
    settings = settings_for(redis_url, scaling_predictive=False, scaling_policy=policy)
    a = service(client, settings, "a", (0, 12), now=1000.0)
    assert (await a.tick()).decision.desired == 4
    await a.coordinator.resign()  # a leaves; its load report ages out
    b = service(client, settings, "b", (0, 1), now=1100.0)
    stored = await b.tick()
    assert stored.replica == "b"
    assert (stored.decision.current, stored.decision.desired) == (4, 4)
    assert stored.decision.reason == "down wanted, cooling down"  # a's scale-up at 1000


async def test_the_arrival_rate_is_read_over_the_buckets_that_have_passed(
    client: aredis.Redis, redis_url: str
) -> None:
    settings = settings_for(redis_url, scaling_predictive=False, timeline_bucket_s=60)
    now = 600_030.0  # 30 s into a minute bucket
    timeline = Timeline(client, f"{settings.redis_key_prefix}:telemetry", settings)
    await timeline.add({"runs": 30, "lat_sum": 300, "lat_n": 30, "lat_le_6": 30}, now - 60)
    await timeline.add({"runs": 15, "lat_sum": 150, "lat_n": 15, "lat_le_6": 15}, now - 10)
    signals = await service(client, settings, "a", (0, 0), now).signals(now)
    assert signals.arrival_rate == pytest.approx(45 / 90)  # 90 s of buckets, not 120
    assert signals.service_time_s == pytest.approx(10.0)
    assert signals.latency_s == pytest.approx(3.9)  # p95, linear inside the 2-4 s bin
