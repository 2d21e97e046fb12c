"""One decision across replicas through Redis: one leader per group, its lease, the load of
every live replica summed, and the scaler's memory handed to the next leader."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aredis

from core.scaling.coordinator import ReplicaLoad, ScalingCoordinator
from core.scaling.scaler import Decision


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aredis.Redis]:
    redis = aredis.from_url(redis_url)
    yield redis
    await redis.aclose()


def pair(client: aredis.Redis, **kw: float) -> tuple[ScalingCoordinator, ScalingCoordinator]:
    prefix = f"co-{uuid.uuid4().hex[:8]}"
    return (
        ScalingCoordinator(client, prefix, "local", "a", **kw),
        ScalingCoordinator(client, prefix, "local", "b", **kw),
    )


async def test_one_replica_leads_and_renews_while_the_other_follows(client: aredis.Redis) -> None:
    a, b = pair(client)
    assert await a.lead()
    assert not await b.lead()
    assert await a.lead()  # renewed
    assert await a.leader() == "a"


async def test_the_lease_passes_on_when_its_holder_resigns(client: aredis.Redis) -> None:
    a, b = pair(client)
    assert await a.lead()
    await b.resign()  # not b's to give
    assert not await b.lead()
    await a.resign()
    assert await b.lead()


async def test_the_load_is_summed_over_replicas_that_reported_lately(client: aredis.Redis) -> None:
    a, b = pair(client, stale_s=60)
    await a.report(ReplicaLoad(at=1000.0, queue_depth=2, in_flight=3))
    await b.report(ReplicaLoad(at=1050.0, queue_depth=1, in_flight=4))
    total = await a.total_load(now=1055.0)
    assert (total.queue_depth, total.in_flight) == (3, 7)
    total = await a.total_load(now=1070.0)  # a's report is 70 s old: its replica is gone
    assert (total.queue_depth, total.in_flight) == (1, 4)


async def test_the_stored_decision_carries_the_scaler_memory(client: aredis.Redis) -> None:
    a, b = pair(client)
    assert await b.stored() is None
    decision = Decision(at=5.0, current=1, desired=3, reason="up: load", needs={"load": 3})
    await a.publish(decision, {"current": 3, "last_up": 5.0})
    stored = await b.stored()
    assert stored is not None
    assert (stored.decision, stored.replica, stored.state["current"]) == (decision, "a", 3)
