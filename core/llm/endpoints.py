"""Pools of endpoints serving one model: smooth weighted round robin over the healthy ones,
ejection after consecutive failures, and a cooldown (doubling, capped) before one is tried again.
Members can join and drain while the pool serves (capacity scaling, `core.scaling.fleet`): a
draining member gets no new calls, and the pool counts each member's calls in flight.

Health is process-wide per base URL, so every role's model sees the same ejections.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.llm.stats import llm_stats

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class NoHealthyEndpointError(RuntimeError):
    """Every endpoint of a pool is cooling down; the caller falls back instead of waiting."""


@dataclass
class Health:
    """The failure record of one endpoint (shared by every pool that lists it)."""

    failures: int = 0
    """Consecutive failures since the last success."""
    ejections: int = 0
    """Ejections in a row (the cooldown doubles with each)."""
    cooldown_until: float = 0.0


@dataclass
class HealthBoard:
    """Health of every endpoint the process talks to, with the ejection policy."""

    eject_after: int = 3
    cooldown_s: float = 30.0
    cooldown_max_s: float = 300.0
    clock: Clock = time.monotonic
    _health: dict[str, Health] = field(default_factory=dict)
    _lock: Any = field(default_factory=threading.Lock)

    def healthy(self, url: str) -> bool:
        with self._lock:
            health = self._health.get(url)
            return health is None or health.cooldown_until <= self.clock()

    def success(self, url: str) -> None:
        with self._lock:
            health = self._health.get(url)
            if health is not None:
                health.failures = 0
                health.ejections = 0

    def failure(self, url: str, cause: str) -> None:
        """Record a failure; the `eject_after`-th in a row ejects the endpoint for a cooldown."""
        with self._lock:
            health = self._health.setdefault(url, Health())
            if health.cooldown_until > self.clock():
                return  # a request sent before the ejection; it is cooling down already
            health.failures += 1
            if health.failures < self.eject_after:
                return
            health.failures = 0
            health.ejections += 1
            cooldown = min(self.cooldown_s * 2 ** (health.ejections - 1), self.cooldown_max_s)
            health.cooldown_until = self.clock() + cooldown
        llm_stats().count("ejections", url)
        log.warning("endpoint %s ejected for %.1f s after repeated %s", url, cooldown, cause)

    def reset(self) -> None:
        with self._lock:
            self._health.clear()


class EndpointPool:
    """Weighted choice among the healthy members (nginx's smooth weighted round robin: with
    weights 3 and 1 the order is a a b a, so the shares are exact over any 4 picks)."""

    def __init__(
        self, urls: list[str], weights: list[float], board: HealthBoard, panic: bool = False
    ) -> None:
        if not urls or len(urls) != len(weights):
            raise ValueError("a pool needs one weight per endpoint and at least one endpoint")
        self.urls = list(urls)
        self.weights = list(weights)
        self.board = board
        self.panic = panic
        """With nothing to fall back to, a pool whose endpoints are all ejected still balances
        over all of them (Envoy's panic mode) instead of failing."""
        self._current = [0.0] * len(urls)
        self._draining: set[str] = set()
        self._busy: dict[str, int] = {}
        self._lock = threading.Lock()

    def pick(self) -> str:
        """The next healthy endpoint by weight, counted in flight until `release(url)`; raises
        `NoHealthyEndpointError` if none is. Draining members are never picked."""
        with self._lock:
            serving = [i for i, url in enumerate(self.urls) if url not in self._draining]
            healthy = [i for i in serving if self.board.healthy(self.urls[i])]
            if not healthy and self.panic:
                healthy = serving
            if not healthy:
                raise NoHealthyEndpointError(
                    f"every endpoint is cooling down: {', '.join(self.urls)}"
                )
            total = 0.0
            for i in healthy:
                self._current[i] += self.weights[i]
                total += self.weights[i]
            best = max(healthy, key=lambda i: self._current[i])
            self._current[best] -= total
            url = self.urls[best]
            self._busy[url] = self._busy.get(url, 0) + 1
        return url

    def release(self, url: str) -> None:
        """A call `pick` sent to `url` has ended (answered or failed)."""
        with self._lock:
            self._busy[url] = max(0, self._busy.get(url, 0) - 1)

    def in_flight(self, url: str | None = None) -> int:
        """Calls in flight on `url` (None: on every member)."""
        with self._lock:
            return sum(self._busy.values()) if url is None else self._busy.get(url, 0)

    def add(self, url: str, weight: float = 1.0) -> None:
        """Let `url` join (or a draining member serve again) with `weight`."""
        if weight <= 0:
            raise ValueError("a member's weight must be positive")
        with self._lock:
            self._draining.discard(url)
            if url in self.urls:
                self.weights[self.urls.index(url)] = weight
                return
            self.urls.append(url)
            self.weights.append(weight)
            self._current.append(0.0)

    def drain(self, url: str) -> None:
        """Send `url` no new calls (those in flight finish); raises `ValueError` if it is the
        last serving member: a pool never drains itself empty."""
        with self._lock:
            if url not in self.urls:
                return
            serving = [u for u in self.urls if u not in self._draining and u != url]
            if not serving:
                raise ValueError(f"{url} is the pool's last serving member")
            self._draining.add(url)

    def remove(self, url: str) -> None:
        """Forget a member (drain it first, and wait for `in_flight(url)` to reach 0)."""
        with self._lock:
            if url not in self.urls:
                return
            i = self.urls.index(url)
            del self.urls[i], self.weights[i], self._current[i]
            self._draining.discard(url)
            self._busy.pop(url, None)

    def members(self) -> list[str]:
        """The members that take new calls."""
        with self._lock:
            return [u for u in self.urls if u not in self._draining]
