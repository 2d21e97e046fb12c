"""Alerts end to end: a model that starts failing pushes the runs' error rate past 10%, and
exactly one alert reaches a real webhook receiver on loopback, then none during the cooldown,
although two replicas keep evaluating the rule."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from core.llm import reset_models
from core.settings import get_settings
from core.telemetry import request_type
from graph.builder import build_graph
from graph.runner import run_task
from tests.core.telemetry.conftest import MakeTelemetry
from tests.support.fake_openai import FakeOpenAI
from tests.support.webhook import WebhookReceiver

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
        "alert_cooldown_s": 2.0,
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
    for n in range(10):
        failed, fired = await one_run(n)
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

    # After the cooldown the still-true condition is delivered once more, by one replica.
    await asyncio.sleep(rules["alert_cooldown_s"] + 0.2)
    again = await replicas[0].evaluate() + await replicas[1].evaluate()
    assert len(again) == 1
    assert len(webhook.wait_for(3, timeout_s=1.0)) == 2
