"""Alerts end to end: a model that starts failing pushes the runs' error rate past 10%, and
exactly one alert reaches a real webhook receiver on loopback, then none during the cooldown,
although two replicas keep evaluating the rule. No test waits for time to pass: the cooldown is
a Redis key the test ends early (after checking its length), and how long the service has been
unready is read from a clock the test moves."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest
import redis.asyncio as aredis

from core.llm.factory import reset_models
from core.settings import get_settings
from core.telemetry import request_type
from graph.builder import build_graph
from graph.runner import run_task
from testkit.fake_openai import FakeOpenAI
from testkit.webhook import WebhookReceiver
from tests.core.conftest import MakeTelemetry

GUARD_S = 30.0
"""How long a wait may take before the test fails (never reached when it works)."""
REQUEST = {
    "task": "Write one sentence about a day out.",
    "constraints": {"required_words": ["dog", "ball", "park"]},
}


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """The graph's model layer pointed at a fake OpenAI server: no retries, no cache."""
    fake = FakeOpenAI().serve()
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("REFINERY_LLM_ENDPOINTS", raising=False)
    monkeypatch.setenv("REFINERY_OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("REFINERY_LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("REFINERY_LLM_CACHE", "false")
    get_settings.cache_clear()
    reset_models()
    yield fake
    fake.stop()
    monkeypatch.undo()
    get_settings.cache_clear()
    reset_models()


async def test_error_rate_alert_reaches_webhook_once(
    fake_model: FakeOpenAI,
    webhook: WebhookReceiver,
    make_telemetry: MakeTelemetry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rules = {
        "alert_webhook_url": webhook.url,
        "alert_error_window_s": 120,
        "alert_min_runs": 10,
        "alert_cooldown_s": 600.0,  # outlasts the runs on any machine; the test ends it
        "timeline_bucket_s": 1,
    }
    replicas = [make_telemetry("a", **rules), make_telemetry("b", **rules)]
    graph = build_graph(None)
    caplog.set_level(logging.WARNING, logger="refinery.alerts")

    async def one_run(n: int) -> tuple[bool, int]:
        result = await run_task(graph, REQUEST, config_name="single_pass")
        fired = await replicas[n % 2].observe_run(
            result, request_type=request_type(REQUEST), task=REQUEST["task"]
        )
        return result.error is not None, len(fired)

    for n in range(10):  # healthy traffic: no alert
        assert await one_run(n) == (False, 0)

    fake_model.fault_cycle = ["500"]  # the model endpoint starts failing
    history = []
    fired_at = None
    for n in range(10):
        failed, fired = await one_run(n)
        fired_at = fired_at or (time.monotonic() if fired else None)
        window = await replicas[0].timeline.window(120)
        history.append((window["errors"] / window["runs"], fired))
        assert failed
    print("error rate after each failing run, alerts delivered:", history)

    first_over = next(i for i, (rate, _) in enumerate(history) if rate > 0.10)
    assert history[first_over][1] == 1, "the run that crosses 10% delivers the alert"
    assert sum(fired for _, fired in history) == 1
    received = webhook.wait_for(2, timeout_s=1.0)
    assert len(received) == 1
    alert = received[0]["alert"]
    assert alert["rule"] == "error_rate" and alert["severity"] == "critical"
    assert alert["details"]["error_rate"] > 0.10
    logged = [r.alert for r in caplog.records if r.name == "refinery.alerts"]
    assert [a["condition"] for a in logged] == ["error_rate"]

    # Still inside the cooldown: both replicas re-evaluate, nobody delivers again.
    assert await replicas[0].evaluate() == [] and await replicas[1].evaluate() == []
    assert len(webhook.wait_for(2, timeout_s=0.5)) == 1
    [open_alert] = await replicas[1].alerts.open_alerts()
    assert open_alert.condition == "error_rate" and open_alert.count >= 9

    # The cooldown is a Redis key set for alert_cooldown_s when the alert was delivered...
    assert fired_at is not None
    cooldown_ms = rules["alert_cooldown_s"] * 1000
    key = f"{replicas[0].alerts.prefix}:cooldown:error_rate"
    left_ms = await replicas[0].redis.pttl(key)
    since_ms = (time.monotonic() - fired_at) * 1000
    assert cooldown_ms - since_ms - 60_000 < left_ms <= cooldown_ms  # a minute's margin
    # ...after which the still-true condition is delivered once more, by one replica.
    assert await replicas[0].redis.pexpireat(key, 1)  # a past time: Redis expires it now
    assert not await replicas[0].redis.exists(key)
    again = await replicas[0].evaluate() + await replicas[1].evaluate()
    assert len(again) == 1
    assert len(webhook.wait_for(3, timeout_s=1.0)) == 2


async def test_unready_service_alerts_after_the_grace_period(
    webhook: WebhookReceiver, make_telemetry: MakeTelemetry
) -> None:
    """The monitor loop probes readiness; unready past `alert_unready_s` (on the telemetry's
    clock, which the test moves) alerts once; ready again closes the alert."""
    telemetry = make_telemetry(
        alert_webhook_url=webhook.url, alert_unready_s=0.5, alert_eval_interval_s=0.05
    )
    now = 100.0
    telemetry.clock = lambda: now
    ready, probes, probed = False, 0, asyncio.Event()

    async def probe() -> bool:
        nonlocal probes
        probes += 1
        probed.set()
        return ready

    async def rounds(n: int) -> None:
        """Until the loop probed `n` more times (so it evaluated `n - 1` whole rounds)."""
        target = probes + n
        async with asyncio.timeout(GUARD_S):
            while probes < target:
                probed.clear()
                await probed.wait()

    telemetry.start(probe)
    await rounds(3)
    assert webhook.received == []  # unready, but not for long enough yet
    now += 0.6
    [body] = await asyncio.to_thread(webhook.wait_for, 1, GUARD_S)
    assert body["alert"]["rule"] == "service_unready"
    assert body["alert"]["details"]["unready_s"] == 0.6
    await rounds(3)
    assert len(webhook.received) == 1  # the loop keeps evaluating: still one delivery
    assert [a.rule for a in await telemetry.alerts.open_alerts()] == ["service_unready"]
    ready = True
    await rounds(3)
    assert await telemetry.alerts.open_alerts() == []


async def test_without_redis_each_replica_still_alerts_once(
    webhook: WebhookReceiver, make_telemetry: MakeTelemetry, redis_url: str
) -> None:
    """Redis down (often the very reason the service is unready): the cooldown falls back to
    the replica's memory, so the alert is still delivered, once."""
    from testkit.redis import free_port

    telemetry = make_telemetry(alert_webhook_url=webhook.url, alert_unready_s=0.0)
    now = 100.0
    telemetry.clock = lambda: now
    await telemetry.redis.aclose()
    telemetry.alerts.redis = telemetry.redis = aredis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    telemetry.note_readiness(False)
    now += 0.01  # unready for longer than alert_unready_s (0)
    first = await telemetry.evaluate()
    second = await telemetry.evaluate()
    assert [a.rule for a in first] == ["service_unready"] and second == []
    assert len(webhook.wait_for(2, timeout_s=0.5)) == 1
