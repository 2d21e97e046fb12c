"""The priority scheduler on its own: admission order, the high-priority reserve, shedding,
abandoned waiters, and the stats monitoring reads."""

from __future__ import annotations

import asyncio

import pytest

from api.runs.admission import AdaptiveLimit
from api.runs.scheduler import OverloadedError, Scheduler
from core.settings import Settings


def fixed(max_running: int, max_queue: int) -> Scheduler:
    """A scheduler whose limit cannot move (its bounds are one value)."""
    bounds = {
        "admission_min": max_running,
        "admission_max": max_running,
        "admission_initial": max_running,
    }
    return Scheduler(AdaptiveLimit(Settings(**bounds)), max_queue)


async def test_waiters_start_by_priority_then_arrival() -> None:
    scheduler = fixed(1, 10)
    running = scheduler.reserve("normal")
    waiting = [scheduler.reserve(p) for p in ("low", "normal", "high", "normal")]
    started: list[str] = []

    async def run(ticket, name: str) -> None:  # type: ignore[no-untyped-def]
        await ticket.wait()
        started.append(name)
        await asyncio.sleep(0)
        ticket.release()

    tasks = [asyncio.create_task(run(t, f"{t.priority}{i}")) for i, t in enumerate(waiting)]
    await asyncio.sleep(0)
    assert scheduler.stats().queued == 4
    running.release()
    await asyncio.gather(*tasks)
    assert started == ["high2", "normal1", "normal3", "low0"]
    stats = scheduler.stats()
    assert (stats.running, stats.queued, stats.completed, stats.admitted) == (0, 0, 5, 5)


async def test_a_tenth_of_the_slots_is_kept_for_high_priority() -> None:
    scheduler = fixed(10, 5)
    normal = [scheduler.reserve("normal") for _ in range(9)]
    assert all(t.admitted_at is not None for t in normal)
    assert scheduler.reserve("normal").admitted_at is None, "the tenth slot is reserved"
    assert scheduler.reserve("high").admitted_at is not None, "high starts at once"
    assert scheduler.stats().running == 10


async def test_a_full_queue_sheds_the_newest_least_urgent_waiter() -> None:
    seen = []
    scheduler = fixed(1, 2)
    scheduler.on_change(seen.append)
    scheduler.reserve("normal")
    older, newer = scheduler.reserve("low"), scheduler.reserve("low")
    with pytest.raises(OverloadedError) as refused:
        scheduler.reserve("low")
    assert refused.value.retry_after_s >= 1 and not refused.value.shed
    high = scheduler.reserve("high")
    with pytest.raises(OverloadedError) as shed:
        await newer.wait()
    assert shed.value.shed
    assert scheduler.stats().queued_by_priority == {"high": 1, "normal": 0, "low": 1}
    assert (scheduler.stats().rejected, scheduler.stats().shed) == (1, 1)
    assert seen[-1].queued == 2, "listeners see every change"
    older.release()
    high.release()
    assert scheduler.stats().queued == 0


async def test_a_cancelled_waiter_leaves_the_queue_and_frees_no_slot() -> None:
    scheduler = fixed(1, 1)
    first = scheduler.reserve("normal")
    ticket = scheduler.reserve("normal")
    task = asyncio.create_task(ticket.wait())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert scheduler.stats().queued == 0 and scheduler.stats().running == 1
    first.release()
    assert scheduler.stats().running == 0


async def test_the_limit_follows_latency_and_admits_waiters_when_it_grows() -> None:
    limits = {
        "admission_min": 1,
        "admission_max": 4,
        "admission_initial": 2,
        "admission_target_latency_s": 0.5,
        "api_max_running": 3,
    }
    scheduler = Scheduler.from_settings(Settings(**limits))
    assert scheduler.max_running == 2, "starts at admission_initial, under api_max_running"
    first, second = scheduler.reserve("normal"), scheduler.reserve("normal")
    waiting = [scheduler.reserve("normal") for _ in range(3)]
    assert scheduler.stats().queued == 3
    first.release(latency_s=2.0)  # slow: x0.8 -> 1.6, so one at a time
    assert scheduler.max_running == 1 and scheduler.stats().running == 1
    for ticket in [second, *waiting]:
        if ticket.admitted_at is None:
            await ticket.wait()
        ticket.release(latency_s=0.1)  # fast: +1/limit each
    assert scheduler.stats().completed == 5 and scheduler.stats().queued == 0
    assert scheduler.max_running == 3, "grew back, capped by api_max_running"
    failed = scheduler.reserve("normal")
    failed.release(latency_s=0.1, ok=False)  # a failure shrinks it like a slow run
    assert scheduler.max_running == 2
