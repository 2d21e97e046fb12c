"""Run leases on a real Redis: one holder at a time, renewal by the keeper thread while a busy
event loop runs, compare-and-delete (a stale holder frees nothing), a dead holder's run turns
into an orphan that exactly one taker wins, and a cancel that reaches the holder's run."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis
import redis.asyncio as aredis

from api.runs.failures import RunCancelled
from api.runs.lease_keeper import LeaseKeeper
from api.runs.leases import Leases

TTL_S = 60.0
"""Long enough that no lease expires unless a test lets it (renewals come every `RENEW_S`)."""
RENEW_S = 0.05
SHORT_TTL_S = 0.3
"""The dead holder's lease: it expires on its own (Redis's clock), and the test waits for it."""
GUARD_S = 30.0
"""How long a wait may take before the test fails (never reached when it works)."""


@pytest.fixture
async def leases(redis_url: str) -> AsyncIterator[Leases]:
    client = aredis.Redis.from_url(redis_url)
    keeper = LeaseKeeper(redis.Redis.from_url(redis_url), TTL_S, max_stall_s=60, interval_s=RENEW_S)
    yield Leases(client, f"lease{uuid.uuid4().hex[:6]}", "replica-a", TTL_S, keeper)
    keeper.close()
    await client.aclose()


def other_replica(leases: Leases, name: str = "replica-b", ttl_s: float = TTL_S) -> Leases:
    """The same deployment seen from another replica."""
    return Leases(leases.client, leases.prefix, name, ttl_s, leases.keeper)


async def test_one_holder_at_a_time_and_the_keeper_renews_through_a_blocked_loop(
    leases: Leases, redis_url: str
) -> None:
    first = await leases.acquire("t1", "run-1", "started")
    assert first is not None
    assert await other_replica(leases).acquire("t1", "run-2", "resumed") is None
    key = leases.lease_key("t1")
    with redis.Redis.from_url(redis_url) as sync:
        acquired_expiry = sync.pexpiretime(key)
        async with first:
            # The loop is blocked (a synchronous wait): only the keeper's thread can renew.
            expiries, deadline = {acquired_expiry}, time.monotonic() + GUARD_S
            while len(expiries) < 3 and time.monotonic() < deadline:
                expiries.add(sync.pexpiretime(key))
                time.sleep(RENEW_S / 5)  # noqa: ASYNC251 - blocking the loop is the point
            await asyncio.sleep(0)
            assert len(expiries) >= 3, "the keeper did not renew while the loop was blocked"
            assert max(expiries) > acquired_expiry
            assert await leases.holder("t1") == first.token
    assert await leases.holder("t1") is None
    assert await leases.orphans() == [], "a run that ended on purpose is no orphan"
    events = [(e["event"], e.get("outcome")) for e in await leases.runlog("t1")]
    assert events == [("started", None), ("ended", "completed")]


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `condition` until it holds; fail after `GUARD_S`."""
    deadline = time.monotonic() + GUARD_S
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.02)


async def test_a_dead_holder_leaves_an_orphan_that_one_replica_takes_over(
    leases: Leases,
) -> None:
    short = other_replica(leases, "replica-a", SHORT_TTL_S)
    dead = await short.acquire("t2", "run-1", "started")  # never entered: nobody renews it
    assert dead is not None

    async def orphaned() -> bool:
        return await leases.orphans() == ["t2"]

    await wait_until(orphaned, "the dead holder's lease expired")
    takers = [other_replica(leases, f"replica-{i}") for i in range(3)]
    won = await asyncio.gather(
        *(t.acquire("t2", f"run-{i}", "recovered") for i, t in enumerate(takers))
    )
    winners = [lease for lease in won if lease is not None]
    assert len(winners) == 1
    await dead.release("completed")  # a stale token frees nothing
    assert await leases.holder("t2") == winners[0].token
    await winners[0].release("completed")
    assert await leases.orphans() == []
    late = await takers[0].acquire("t2", "run-late", "recovered")
    assert late is None, "a finished orphan is taken over by no one"


async def test_cancel_reaches_the_run_on_the_replica_that_holds_it(leases: Leases) -> None:
    lease = await leases.acquire("t3", "run-1", "started")
    assert lease is not None

    entered = asyncio.Event()

    async def run() -> None:
        async with lease:
            entered.set()
            await asyncio.sleep(3600)  # stopped by the cancel, or the test fails by its guard

    task = asyncio.create_task(run())
    await entered.wait()
    assert await other_replica(leases).cancel("t3") == "cancelling"
    with pytest.raises(RunCancelled) as stopped:
        await asyncio.wait_for(task, timeout=GUARD_S)
    assert stopped.value.thread_id == "t3"
    assert await leases.holder("t3") is None
    assert await leases.cancel("t3") == "not_running"
    outcomes = [e.get("outcome") for e in await leases.runlog("t3")]
    assert outcomes == [None, "cancelled"]
