"""Adaptive admission: the concurrency limit climbs while latency stays under the target,
falls multiplicatively when it does not (once per latency period), and stays within its bounds."""

from __future__ import annotations

import time

from api.runs.admission import AdaptiveLimit
from core.settings import Settings


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
