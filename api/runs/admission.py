"""Adaptive admission: a concurrency limit that follows observed latency by additive increase
and multiplicative decrease (AIMD), within configured bounds; the scheduler
(`api.runs.scheduler`) admits runs up to it."""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from core.settings import Settings, get_settings
from core.telemetry.metrics import ADMISSION_LIMIT

__all__ = ["AdaptiveLimit"]


class AdaptiveLimit:
    """The limit grows by one per limit's worth of fast completions and shrinks by
    `admission_backoff` when a completion is slow or fails, at most once per latency period
    (completions that started before the last decrease do not decrease it again)."""

    def __init__(self, settings: Settings | None = None) -> None:
        s = settings or get_settings()
        self.minimum = s.admission_min
        self.maximum = max(s.admission_max, s.admission_min)
        self.backoff = s.admission_backoff
        self.tolerance = s.admission_tolerance
        self.fixed_target = s.admission_target_latency_s
        self._limit = float(min(max(s.admission_initial, self.minimum), self.maximum))
        self._latencies: deque[float] = deque(maxlen=200)
        self._last_decrease = float("-inf")
        ADMISSION_LIMIT.set(self.limit)

    @property
    def limit(self) -> int:
        return int(self._limit)

    def target(self) -> float | None:
        """Latency above which completions count as slow: the fixed setting, or `tolerance`
        times the 10th percentile of recent latencies (None until 20 are seen)."""
        if self.fixed_target is not None:
            return self.fixed_target
        if len(self._latencies) < 20:
            return None
        return self.tolerance * float(np.percentile(self._latencies, 10))

    def on_sample(self, latency_s: float, ok: bool = True, started: float | None = None) -> int:
        """Take one completion (its latency, success, and `time.monotonic()` at its start)."""
        target = self.target()
        slow = not ok or (target is not None and latency_s > target)
        if ok:
            self._latencies.append(latency_s)
        if slow:
            began = time.monotonic() - latency_s if started is None else started
            if began >= self._last_decrease:
                self._limit = max(float(self.minimum), self._limit * self.backoff)
                self._last_decrease = time.monotonic()
        else:
            self._limit = min(float(self.maximum), self._limit + 1.0 / self._limit)
        ADMISSION_LIMIT.set(self.limit)
        return self.limit
