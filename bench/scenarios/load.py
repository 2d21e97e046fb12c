"""Load: closed-loop asyncio clients at the server's capacity, then at three times it (a tenth of
them high priority, every client honouring Retry-After), then a soak with the server's memory
sampled: no 5xx but 503 + Retry-After, high-priority latency held, RSS bounded and flat."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from scipy import stats

from bench.scenarios.client import Outcome, request
from bench.scenarios.report import Scenario
from bench.scenarios.stack import CAPACITY, Stack

TASK = {"task": "Write about a garden.", "constraints": {"required_words": ["garden", "rain"]}}
LATENCY_MS = 100


async def _client(client: Any, priority: str, until: float, log: list[tuple[str, Outcome]]):
    body = TASK | {"priority": priority}
    while time.monotonic() < until:
        outcome = await request(client, "POST", "/v1/refinements", json=body)
        log.append((priority, outcome))
        if outcome.status in (429, 503):
            await asyncio.sleep(float(outcome.retry_after or 1))


async def _phase(stack: Stack, normal: int, high: int, seconds: float) -> list[tuple[str, Outcome]]:
    log: list[tuple[str, Outcome]] = []
    until = time.monotonic() + seconds
    async with stack.client() as client:
        runs = [_client(client, "normal", until, log) for _ in range(normal)]
        runs += [_client(client, "high", until, log) for _ in range(high)]
        await asyncio.gather(*runs)
    return log


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _latency(log: list[tuple[str, Outcome]], priority: str) -> tuple[float, float]:
    ok = [o.seconds for p, o in log if p == priority and o.ok]
    return _pct(ok, 50), _pct(ok, 95)


async def _soak(stack: Stack, seconds: float) -> tuple[list[tuple[str, Outcome]], list]:
    samples: list[tuple[float, float]] = []
    started = time.monotonic()

    async def sample() -> None:
        while time.monotonic() - started < seconds:
            samples.append((time.monotonic() - started, stack.api.rss_mb()))
            await asyncio.sleep(2)

    log, _ = await asyncio.gather(_phase(stack, CAPACITY * 2 - 1, 1, seconds), sample())
    return log, samples


async def run(stack: Stack, soak_s: float = 60.0) -> Scenario:
    report = Scenario(
        "load",
        f"closed-loop clients: {CAPACITY} (capacity), {CAPACITY * 3} (3x, a tenth high "
        f"priority), then a {soak_s:.0f} s soak at 2x with the server's RSS sampled",
    )
    stack.model.configure(latency_ms=LATENCY_MS, fault_cycle=None, faults={})
    at = await _phase(stack, CAPACITY, 0, 8)
    over = await _phase(stack, CAPACITY * 3 - 3, 3, 12)
    soak, samples = await _soak(stack, soak_s)
    stack.model.configure(latency_ms=0)
    everything = at + over + soak
    for _, o in everything:
        report.count(o.status, o.error_type, o.ok)
    _judge(report, at, over, everything, samples)
    return report


def _judge(report: Scenario, at: list, over: list, everything: list, samples: list) -> None:
    base_p50, base_p95 = _latency(at, "normal")
    high_p50, high_p95 = _latency(over, "high")
    normal_p50, normal_p95 = _latency(over, "normal")
    refused = [o for _, o in over if o.status == 503]
    report.figures["at capacity: normal p50/p95 s"] = f"{base_p50:.2f} / {base_p95:.2f}"
    report.figures["3x capacity: high p50/p95 s"] = f"{high_p50:.2f} / {high_p95:.2f}"
    report.figures["3x capacity: normal p50/p95 s"] = f"{normal_p50:.2f} / {normal_p95:.2f}"
    report.figures["3x capacity: 503 answers"] = len(refused)
    report.figures["high p95 / capacity p95"] = round(high_p95 / base_p95, 2)
    bad = [o for _, o in everything if (o.status >= 500 and o.status != 503) or o.status == 0]
    report.check("no 5xx but 503", not bad, f"{len(bad)} others")
    report.check("at capacity nothing is refused", all(o.status == 200 for _, o in at))
    report.check(
        "above capacity the excess gets 503 + Retry-After",
        refused and all(o.retry_after for o in refused),
        f"{len(refused)} refused",
    )
    report.check(
        "high priority held above capacity (p95 within 1.5x of p95 at capacity)",
        high_p95 <= 1.5 * base_p95,
        f"{high_p95:.2f} s vs {base_p95:.2f} s",
    )
    _memory(report, samples)


def _memory(report: Scenario, samples: list[tuple[float, float]]) -> None:
    rss = [mb for _, mb in samples]
    half = samples[len(samples) // 2 :]
    fit = stats.linregress([t for t, _ in half], [mb for _, mb in half])
    slope = fit.slope * 60
    report.figures["server RSS MiB: start / max / end"] = (
        f"{rss[0]:.0f} / {max(rss):.0f} / {rss[-1]:.0f} ({len(rss)} samples)"
    )
    report.figures["RSS slope over the second half, MiB/min"] = round(slope, 2)
    report.check("memory bounded (max within 1.5x of the first sample)", max(rss) <= 1.5 * rss[0])
    report.check(
        "memory flat over the second half (slope under 2% of RSS a minute)",
        slope < 0.02 * statistics.mean(rss),
        f"{slope:.2f} MiB/min",
    )
