"""Model faults: the primary model endpoint answers errors in bursts, 429s, malformed bodies,
slowly, or not at all (hung connections); the retries, the call timeout and the fallback tier
must keep answers flowing, and with every tier down a request must fail fast with a clear 502
that leaves its thread resumable."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.scenarios.client import Outcome, request
from bench.scenarios.report import Scenario
from bench.scenarios.stack import COOLDOWN_MAX_S, LLM_TIMEOUT_S, Stack

PER_CASE = 4
TASK = {"task": "Describe a harbor.", "constraints": {"required_words": ["harbor", "boat"]}}
CASES: dict[str, dict[str, Any]] = {
    "error burst (primary 500s)": {"fault_cycle": ["500"]},
    "rate limited (429 every other call)": {"fault_cycle": ["429", None]},
    "malformed bodies": {"fault_cycle": ["malformed"]},
    "slow (1.5 s a call, under the 3 s timeout)": {"latency_ms": 1500},
    "hung connections": {"fault_cycle": ["hang"]},
}
CLEAR = {"fault_cycle": None, "faults": {}, "latency_ms": 0}


async def _batch(client: Any, n: int) -> list[Outcome]:
    return await asyncio.gather(
        *(request(client, "POST", "/v1/refinements", json=TASK) for _ in range(n))
    )


async def run(stack: Stack) -> Scenario:
    report = Scenario(
        "model faults",
        "refinements while the primary model endpoint fails in 5 ways (fallback tier healthy), "
        "then with both tiers failing",
    )
    latencies: dict[str, str] = {}
    async with stack.client() as client:
        for name, faults in CASES.items():
            stack.model.configure(**CLEAR, reset=True)
            await asyncio.sleep(COOLDOWN_MAX_S + 0.5)  # the primary, ejected last case, is back
            stack.backup.configure(reset=True)
            stack.model.configure(**faults)
            outcomes = await _batch(client, PER_CASE)
            for o in outcomes:
                report.count(o.status, o.error_type, o.ok)
            backup_calls = stack.backup.stats(last=0)["served"]
            slowest = max(o.seconds for o in outcomes)
            latencies[name] = (
                f"{sum(o.ok for o in outcomes)}/{PER_CASE} ok, slowest {slowest:.1f} s, "
            )
            latencies[name] += f"{backup_calls} fallback calls"
            report.check(f"{name}: every answer delivered", all(o.ok for o in outcomes))
        stack.model.configure(**CLEAR)
        await _all_down(stack, client, report)
    stack.model.configure(**CLEAR)
    stack.backup.configure(**CLEAR)
    report.figures.update(latencies)
    return report


async def _all_down(stack: Stack, client: Any, report: Scenario) -> None:
    """Both tiers answer 500: a quick, clear 502 naming the resume path; then a resume works."""
    for fake in (stack.model, stack.backup):
        fake.configure(fault_cycle=["500"])
    started = time.monotonic()
    outcomes = await _batch(client, PER_CASE)
    took = time.monotonic() - started
    for o in outcomes:
        report.count(o.status, o.error_type, o.ok)
    for fake in (stack.model, stack.backup):
        fake.configure(**CLEAR)
    clear = all(
        o.status == 502
        and o.error_type == "model_unavailable"
        and "resume" in o.body["error"]["fix"]
        and o.thread_id
        for o in outcomes
    )
    report.check("all tiers down: 502 model_unavailable saying how to resume", clear)
    report.check(
        "all tiers down: failed fast (under the 3 s call timeout)",
        max(o.seconds for o in outcomes) < LLM_TIMEOUT_S,
        f"slowest {max(o.seconds for o in outcomes):.2f} s",
    )
    report.figures["all tiers down"] = f"{PER_CASE} requests failed in {took:.2f} s"
    for o in outcomes:
        if o.thread_id:
            report.interrupted += 1
            resumed = await request(client, "POST", f"/v1/threads/{o.thread_id}/resume")
            report.resumed += resumed.ok
    report.check(
        "every failed thread resumed once the model was back", report.resumed == report.interrupted
    )
