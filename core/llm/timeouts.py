"""A model call's timeout that follows the observed call time: a multiple of the high percentile
of one pool's recent successful calls, within a floor and the configured timeout.

A fixed timeout is either long enough for the slowest moment of the day, and then a hung
endpoint holds a call (and its slot, and its run) for that long whenever the endpoints are fast,
or short, and then it cuts healthy generations when load slows every one of them and turns them
into retries that load the endpoints more. Each pool serves one role (one output cap, similar
prompts), so its recent call times are one distribution: under load they grow, and the timeout
grows with them up to the configured one; when the endpoints are fast it shrinks, and a call
that takes many times what calls take now is cut early and goes to another endpoint. Only
successful calls are observed (a timed-out call's time is the timeout, not a call time), and
until `min_samples` calls have been seen the timeout is the configured one.
"""

from __future__ import annotations

import math
import threading
from collections import deque

__all__ = ["AdaptiveTimeout"]


class AdaptiveTimeout:
    """The timeout of the next call of one pool, from the durations of its last calls."""

    def __init__(
        self,
        ceiling_s: float,
        floor_s: float,
        multiple: float,
        quantile: float = 0.99,
        window: int = 200,
        min_samples: int = 20,
    ) -> None:
        if not 0 < floor_s <= ceiling_s:
            raise ValueError("floor_s must be positive and at most ceiling_s")
        if multiple < 1:
            raise ValueError("multiple must be at least 1")
        self.ceiling_s, self.floor_s, self.multiple = ceiling_s, floor_s, multiple
        self.quantile = quantile
        self.min_samples = min_samples
        self._durations: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        """A call that succeeded took `seconds` once it had its slot."""
        if math.isfinite(seconds) and seconds >= 0:
            with self._lock:
                self._durations.append(seconds)

    def high(self) -> float | None:
        """The `quantile` of the recent durations (None while fewer than `min_samples`)."""
        with self._lock:
            durations = sorted(self._durations)
        if len(durations) < self.min_samples:
            return None
        rank = min(len(durations) - 1, math.ceil(self.quantile * len(durations)) - 1)
        return durations[max(rank, 0)]

    def current(self) -> float:
        """The timeout for a call starting now (seconds)."""
        high = self.high()
        if high is None:
            return self.ceiling_s
        return min(self.ceiling_s, max(self.floor_s, self.multiple * high))
