"""Streaming anomaly detectors: a latency or token spike and an error burst stand out against
their request type's recent behaviour; thresholds are per request type."""

from __future__ import annotations

import numpy as np

from core.settings import Settings
from core.telemetry.anomaly import AnomalyDetectors, ErrorRateChart, RobustZScore


def test_robust_z_flags_a_spike_and_ignores_noise() -> None:
    rng = np.random.default_rng(0)
    detector = RobustZScore(window=100, warmup=30)
    scores = [detector.update(float(x)) for x in rng.normal(2.0, 0.2, 200)]
    assert scores[0] is None and all(abs(z) < 5 for z, _ in filter(None, scores))
    z, median = detector.update(6.0) or (0.0, 0.0)
    assert z > 10 and abs(median - 2.0) < 0.1
    # One earlier outlier in the window does not move the median and MAD.
    assert (detector.update(2.1) or (99.0, 0))[0] < 3


def test_error_chart_flags_a_burst() -> None:
    chart = ErrorRateChart(warmup=30)
    rng = np.random.default_rng(1)
    quiet = [chart.update(bool(rng.random() < 0.02)) for _ in range(300)]
    assert max(z for z, _ in filter(None, quiet)) < 4
    burst = [chart.update(True) for _ in range(6)]
    assert burst[-1] is not None and burst[-1][0] > 4


def test_thresholds_are_per_request_type() -> None:
    settings = Settings(anomaly_z={"default": 4.0, "grounded": 50.0}, anomaly_warmup=20)
    detectors = AnomalyDetectors(settings)
    rng = np.random.default_rng(2)
    for _ in range(50):
        for kind in ("open", "grounded"):
            latency, tokens = float(rng.normal(3.0, 0.3)), int(rng.normal(900, 50))
            assert detectors.observe(kind, latency_s=latency, tokens=tokens, error=False) == []
    slow_open = detectors.observe("open", latency_s=9.0, tokens=900, error=False)
    slow_grounded = detectors.observe("grounded", latency_s=9.0, tokens=900, error=False)
    assert [(a.metric, a.request_type) for a in slow_open] == [("latency_s", "open")]
    assert slow_open[0].score > 4.0 and slow_grounded == []
