"""Drift: a shifted score distribution is caught by PSI and the KS test and raises "review or
retrain"; the same distribution against itself raises nothing."""

from __future__ import annotations

import numpy as np

from core.telemetry.drift import psi
from tests.core.conftest import MakeTelemetry

WINDOWS = {"drift_baseline_size": 300, "drift_recent_size": 200, "drift_min_samples": 50}


def test_psi_is_near_zero_for_one_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(1)
    baseline = rng.normal(0.85, 0.05, 2000)
    same, shifted = rng.normal(0.85, 0.05, 1000), rng.normal(0.75, 0.05, 1000)
    assert psi(baseline, same) < 0.05
    assert psi(baseline, shifted) > 1.0
    # Few distinct values (iterations) are binned one per value.
    assert psi(rng.integers(0, 4, 500), rng.integers(0, 4, 500)) < 0.05
    assert psi(rng.integers(0, 4, 500), rng.integers(2, 6, 500)) > 1.0


def _run(rng: np.random.Generator, mean: float) -> dict[str, object]:
    score = float(np.clip(rng.normal(mean, 0.05), 0, 1))
    return {
        "thread_id": "t",
        "answer": " ".join(["word"] * int(rng.integers(20, 40))),
        "score": score,
        "confidence": float(np.clip(score - 0.1, 0, 1)),
        "iterations": int(rng.integers(0, 4)),
        "wall_s": float(rng.uniform(0.5, 1.0)),
    }


async def _feed(telemetry, rng: np.random.Generator, means: list[tuple[int, float]]) -> None:  # type: ignore[no-untyped-def]
    for count, mean in means:
        for _ in range(count):
            await telemetry.observe_run(_run(rng, mean), request_type="constrained")


async def test_shifted_scores_raise_drift_and_review_or_retrain(
    make_telemetry: MakeTelemetry,
) -> None:
    telemetry = make_telemetry(**WINDOWS)
    rng = np.random.default_rng(7)
    await _feed(telemetry, rng, [(300, 0.85), (200, 0.78)])  # recent scores 8% lower

    report = await telemetry.drift.check()
    by_metric = {m.metric: m for m in report.metrics}
    print({k: (v.psi, v.ks_pvalue, v.drifted) for k, v in by_metric.items()})
    print("quality drop", report.quality_drop)
    assert by_metric["score"].drifted and by_metric["score"].ks_pvalue < 1e-6
    assert by_metric["score"].psi > 0.2
    assert 0.05 <= report.quality_drop < 0.12 and report.review_or_retrain
    assert not by_metric["iterations"].drifted and not by_metric["answer_length"].drifted

    delivered = {a.condition for a in await telemetry.evaluate()}
    assert {"drift:score", "drift:confidence", "review_or_retrain"} <= delivered
    assert "drift:iterations" not in delivered
    open_alerts = {a.condition: a for a in await telemetry.alerts.open_alerts()}
    assert "review or retrain" in open_alerts["review_or_retrain"].summary

    await telemetry.drift.reset_baseline()
    assert (await telemetry.drift.check()).metrics == []


async def test_the_same_distribution_raises_nothing(make_telemetry: MakeTelemetry) -> None:
    telemetry = make_telemetry(**WINDOWS)
    await _feed(telemetry, np.random.default_rng(8), [(300, 0.85), (200, 0.85)])
    report = await telemetry.drift.check()
    assert len(report.metrics) == 4 and not any(m.drifted for m in report.metrics)
    assert abs(report.quality_drop or 0) < 0.05 and not report.review_or_retrain
    assert await telemetry.evaluate() == []
