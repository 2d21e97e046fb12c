"""Streaming anomaly detectors: a robust z-score (median and MAD of a sliding window) for
latency and tokens per request, an EWMA control chart for the error rate; one set per request
type, each with its own threshold."""

from __future__ import annotations

import math
import statistics
import threading
from collections import deque
from dataclasses import dataclass, field

from pydantic import BaseModel

from core.settings import Settings, get_settings

__all__ = ["Anomaly", "AnomalyDetectors", "ErrorRateChart", "RobustZScore"]

_MAD_TO_SIGMA = 1.4826
"""MAD times this estimates the standard deviation of a normal sample."""


class Anomaly(BaseModel):
    """One observation far outside its request type's recent behaviour."""

    request_type: str
    metric: str
    value: float
    expected: float
    score: float
    """The robust z-score (or control-chart z) of the observation."""
    threshold: float


@dataclass
class RobustZScore:
    """z = (x - median) / (1.4826 · MAD) over the last `window` values; judged after `warmup`."""

    window: int = 200
    warmup: int = 30
    values: deque[float] = field(default_factory=deque)

    def score(self, x: float) -> tuple[float, float] | None:
        """(z, median) of `x` against the window before it; None while warming up."""
        if len(self.values) < self.warmup:
            return None
        median = statistics.median(self.values)
        mad = statistics.median(abs(v - median) for v in self.values)
        # A floor on the spread keeps a perfectly steady series from calling any wobble anomalous.
        spread = max(_MAD_TO_SIGMA * mad, 0.05 * abs(median), 1e-9)
        return (x - median) / spread, median

    def update(self, x: float) -> tuple[float, float] | None:
        """Score `x`, then add it to the window."""
        result = self.score(x)
        self.values.append(x)
        while len(self.values) > self.window:
            self.values.popleft()
        return result


@dataclass
class ErrorRateChart:
    """An EWMA control chart on a 0/1 error series: a fast EWMA against a slow baseline, in
    units of the fast EWMA's standard deviation under the baseline rate."""

    fast: float = 0.1
    slow: float = 0.01
    warmup: int = 30
    floor: float = 0.01
    """Least baseline error rate assumed, so a clean history does not make one error a storm."""
    n: int = 0
    fast_rate: float = 0.0
    slow_rate: float = 0.0

    def update(self, error: bool) -> tuple[float, float] | None:
        """(z, baseline rate) after adding one outcome; None while warming up."""
        x = 1.0 if error else 0.0
        self.n += 1
        if self.n == 1:
            self.fast_rate = self.slow_rate = x
        else:
            self.fast_rate += self.fast * (x - self.fast_rate)
            self.slow_rate += self.slow * (x - self.slow_rate)
        if self.n < self.warmup:
            return None
        p = min(max(self.slow_rate, self.floor), 1 - self.floor)
        sd = math.sqrt(p * (1 - p) * self.fast / (2 - self.fast))
        return (self.fast_rate - p) / sd, p


class AnomalyDetectors:
    """Detectors per (request type, metric), fed one finished run at a time; thread-safe."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._values: dict[tuple[str, str], RobustZScore] = {}
        self._errors: dict[str, ErrorRateChart] = {}
        self._lock = threading.Lock()

    def threshold(self, request_type: str) -> float:
        thresholds = self.settings.anomaly_z
        return thresholds.get(request_type, thresholds.get("default", 4.0))

    def observe(
        self, request_type: str, *, latency_s: float, tokens: int, error: bool
    ) -> list[Anomaly]:
        """Feed one run; returns the anomalies it shows (high latency, tokens or error rate)."""
        limit = self.threshold(request_type)
        found: list[Anomaly] = []
        with self._lock:
            if not error:  # a failed run's latency and tokens say nothing about healthy runs
                for metric, value in (("latency_s", latency_s), ("tokens", float(tokens))):
                    detector = self._values.setdefault(
                        (request_type, metric),
                        RobustZScore(self.settings.anomaly_window, self.settings.anomaly_warmup),
                    )
                    scored = detector.update(value)
                    if scored and scored[0] > limit:
                        found.append(_anomaly(request_type, metric, value, scored, limit))
            chart = self._errors.setdefault(
                request_type, ErrorRateChart(warmup=self.settings.anomaly_warmup)
            )
            scored = chart.update(error)
            if scored and error and scored[0] > limit:
                found.append(_anomaly(request_type, "error_rate", chart.fast_rate, scored, limit))
        return found


def _anomaly(
    request_type: str, metric: str, value: float, scored: tuple[float, float], limit: float
) -> Anomaly:
    z, expected = scored
    return Anomaly(
        request_type=request_type,
        metric=metric,
        value=round(value, 4),
        expected=round(expected, 4),
        score=round(z, 2),
        threshold=limit,
    )
