"""Adaptive admission: the concurrency limit climbs while latency stays under the target,
falls multiplicatively when it does not (once per latency period), stays within its bounds, and
the gate holds concurrency to it."""

from __future__ import annotations

import asyncio
import time

from core.settings import Settings
from core.telemetry import AdaptiveLimit, AdmissionGate


def _limit(**values: float) -> AdaptiveLimit:
    base = {"admission_min": 2, "admission_max": 20, "admission_initial": 4}
    return AdaptiveLimit(Settings(**(base | values)))


def test_aimd_follows_latency_within_bounds() -> None:
    limit = _limit(admission_target_latency_s=0.5)
    trace = [limit.on_sample(0.1) for _ in range(300)]
    assert trace[0] == 4 and trace[-1] == 20 and trace == sorted(trace)  # additive, capped
    now = time.monotonic()
    assert limit.on_sample(2.0, started=now) == 16  # x0.8
    assert limit.on_sample(2.0, started=now - 1) == 16  # began before the decrease: ignored
    for _ in range(20):
        limit.on_sample(2.0, started=time.monotonic())
    assert limit.limit == 2  # the floor
    assert limit.on_sample(0.1, ok=False, started=time.monotonic()) == 2


def test_the_target_follows_observed_latency() -> None:
    limit = _limit(admission_tolerance=2.0)
    assert limit.target() is None
    for _ in range(50):
        limit.on_sample(1.0)
    assert limit.target() == 2.0
    before = limit.limit
    assert limit.on_sample(2.5, started=time.monotonic()) < before


async def test_the_gate_holds_concurrency_to_the_limit() -> None:
    gate = AdmissionGate(_limit(admission_initial=3, admission_target_latency_s=10))
    seen: list[tuple[int, int]] = []  # (holders, limit) at each entry

    async def work() -> None:
        async with gate.slot():
            seen.append((gate.in_flight, gate.limit.limit))
            await asyncio.sleep(0.01)

    await asyncio.gather(*(work() for _ in range(30)))
    assert all(holders <= limit for holders, limit in seen)
    assert seen[2] == (3, 3) and seen[3][0] <= 3  # the fourth waited for a completion
    assert max(h for h, _ in seen) > 3  # fast completions raised the limit, and it was used
    assert gate.in_flight == 0 and gate.limit.limit > 3
