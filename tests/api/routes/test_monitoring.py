"""The monitoring routes on a real uvicorn server on loopback (a small app including the
router, fed an hour of synthetic traffic): metrics, alerts, experiment results, and the
dashboard page in headless Chromium, with a screenshot."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import numpy as np
import pytest
import redis.asyncio as aredis
import uvicorn
from fastapi import FastAPI

from api.routes.monitoring import page_router, router
from core.feedback.experiments import assign_variant, load_experiment
from core.llm.stats import llm_stats
from core.settings import PROJECT_ROOT, Settings, get_settings
from core.telemetry import Telemetry
from testkit.browser import CHROMIUM_ARGS, require_chromium

SCREENSHOT = PROJECT_ROOT / "runs" / "screenshots" / "dashboard.png"
TYPES = {"open": (2.0, 700), "constrained": (4.0, 1400), "grounded": (7.0, 2600)}
"""Request type -> (typical latency s, typical tokens)."""


async def synthetic_hour(telemetry: Telemetry) -> None:
    """An hour of runs: three request types, a rising cache hit rate, a failing last ten
    minutes, a latency spike at the end, and an A/B experiment with a real effect."""
    rng = np.random.default_rng(5)
    now = time.time()
    experiment = load_experiment("ab")
    for minute in range(59, -1, -1):
        at = now - minute * 60
        failing = minute < 10
        llm_stats().count("cache_hits", "memory", int(20 * (60 - minute) / 60) + 2)
        llm_stats().add("cache_misses", 20)
        for user in range(6):
            kind = list(TYPES)[user % 3]
            latency, tokens = TYPES[kind]
            variant = assign_variant(experiment, f"user-{minute}-{user}").name
            score = float(np.clip(rng.normal(0.82 + 0.06 * (variant == "strict"), 0.06), 0, 1))
            failed = failing and user < 2
            words = int(rng.integers(30, 60))
            run = {
                "thread_id": f"run-{minute}-{user}",
                "answer": "word " * words,
                "score": score,
                "confidence": score - 0.1,
                "iterations": int(rng.integers(1, 4)),
                "wall_s": float(rng.normal(latency, latency / 10)),
                "usage": {"input_tokens": int(tokens * 0.8), "output_tokens": int(tokens * 0.2)},
                "error": "InternalServerError: boom" if failed else None,
            }
            await telemetry.observe_run(
                run, request_type=kind, task="a task", experiment="ab", variant=variant, at=at
            )
            if not failed:
                up = rng.random() < (0.75 if variant == "strict" else 0.55)
                await telemetry.feedback.rate(run["thread_id"], "up" if up else "down")
        telemetry.observe_request("/v1/refinements", "POST", 200, 3.0)
    spike = {
        "thread_id": "slow",
        "answer": "a",
        "score": 0.8,
        "wall_s": 40.0,
        "usage": {"input_tokens": 500, "output_tokens": 200},
    }
    await telemetry.observe_run(spike, request_type="open")
    await telemetry.evaluate()


@pytest.fixture(scope="module")
def monitoring_server(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A FastAPI app with the monitoring router on a free loopback port; yields its URL."""
    folder = tmp_path_factory.mktemp("experiments")
    (folder / "ab.json").write_text(
        json.dumps(
            {
                "description": "strict preset against the default",
                "variants": [
                    {"name": "control", "config": "refine_default", "share": 1},
                    {"name": "strict", "config": "refine_strict", "share": 1},
                ],
                "min_samples": 50,
            }
        )
    )
    patch = pytest.MonkeyPatch()
    patch.setenv("REFINERY_EXPERIMENTS_DIR", str(folder))
    get_settings.cache_clear()
    load_experiment.cache_clear()
    settings = Settings(
        redis_url=redis_url,
        redis_key_prefix=f"dash-{uuid.uuid4().hex[:8]}",
        alert_error_window_s=900,
        alert_min_runs=20,
        anomaly_warmup=20,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        telemetry = Telemetry(aredis.from_url(redis_url), settings, replica="test")
        await synthetic_hour(telemetry)
        app.state.telemetry = telemetry
        yield
        await telemetry.aclose()
        await telemetry.redis.aclose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    app.include_router(page_router)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the monitoring app did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    patch.undo()
    get_settings.cache_clear()
    load_experiment.cache_clear()


def test_metrics_alerts_and_experiments(monitoring_server: str) -> None:
    with httpx.Client(base_url=monitoring_server, timeout=30) as client:
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith(
            "text/plain"
        )
        assert 'refinery_runs_total{outcome="error",request_type="open"' in metrics.text
        assert "refinery_run_seconds_bucket" in metrics.text

        alerts = client.get("/v1/alerts").json()["alerts"]
        conditions = {a["condition"] for a in alerts}
        print(sorted(conditions))
        assert "error_rate" in conditions and "anomaly:open:latency_s" in conditions

        results = client.get("/v1/experiments/ab").json()
        [comparison] = results["comparisons"]
        print(comparison)
        assert comparison["verdict"] == "better" and comparison["mann_whitney_p"] < 0.01
        assert sum(v["runs"] + v["errors"] for v in results["variants"]) == 360
        assert client.get("/v1/experiments/nope").status_code == 404
        assert client.get("/v1/experiments/..%2Fsecrets").status_code in (404, 422)

        # two hours of history: the synthetic hour must not slide out on a slow machine
        summary = client.get("/v1/monitoring/summary", params={"span_s": 7200}).json()
        assert summary["request_types"] == ["constrained", "grounded", "open"]
        assert len([p for p in summary["series"] if p["runs"]]) >= 59


def test_dashboard_in_headless_chromium(monitoring_server: str) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(require_chromium()), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.on("request", lambda request: requested.append(request.url))
        # span=7200: the synthetic hour stays in view however long the tests before took
        page.goto(f"{monitoring_server}/dashboard?refresh=1&span=7200")
        page.wait_for_function("document.body.dataset.updated", timeout=30_000)
        first = page.evaluate("document.body.dataset.updated")
        page.wait_for_function(f"document.body.dataset.updated !== '{first}'", timeout=30_000)

        labels = page.locator(".kpi .label").all_inner_texts()
        kpis = dict(
            zip(map(str.lower, labels), page.locator(".kpi .value").all_inner_texts(), strict=True)
        )
        print(kpis)
        assert kpis["runs"] == "361" and kpis["open alerts"] != "0"
        assert page.locator(".alert-row").count() >= 2
        assert "error rate" in page.locator("#alerts").inner_text()
        assert "better" in page.locator("#experiments").inner_text()
        for chart in ("latency", "tokens", "errors", "cache", "score", "iter"):
            assert page.locator(f"#c-{chart} path").count() >= 1, chart
        assert "cannot load" not in page.locator("#status").inner_text()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()
    assert all(url.startswith(monitoring_server) for url in requested), requested
    assert SCREENSHOT.stat().st_size > 10_000
