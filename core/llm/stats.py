"""In-process counters of the model layer (retries, fallbacks, ejections, cache hits, saved
tokens) for monitoring: `llm_stats().snapshot()` is a plain pydantic model, cheap to read."""

from __future__ import annotations

import threading
from collections import Counter

from pydantic import BaseModel, Field

__all__ = ["LLMStats", "LLMStatsSnapshot", "llm_stats"]


class LLMStatsSnapshot(BaseModel):
    """The counters at one moment; every count is since process start (or the last reset)."""

    calls: dict[str, int] = Field(default_factory=dict)
    """Model requests sent, by endpoint base URL (retries included, cache hits not)."""
    failures: dict[str, int] = Field(default_factory=dict)
    """Failed requests, by cause (`RateLimitError`, `InternalServerError`, `timeout`...)."""
    retries: dict[str, int] = Field(default_factory=dict)
    """Retries scheduled after a failure, by the failure's cause."""
    retry_delays_s: list[float] = Field(default_factory=list)
    """The most recent retry delays (seconds), oldest first; at most 256 kept."""
    fallbacks: dict[str, int] = Field(default_factory=dict)
    """Requests a fallback tier took over, by tier (`tier1`, `local`...)."""
    restart_waits: dict[str, int] = Field(default_factory=dict)
    """Calls that could not reach their supervised server and waited for it to come back
    (instead of spending a retry), by tier."""
    ejections: dict[str, int] = Field(default_factory=dict)
    """Times an endpoint was ejected from its pool for a cooldown, by base URL."""
    cache_hits: dict[str, int] = Field(default_factory=dict)
    """Replies served from the cache, by layer (`memory`, `redis`)."""
    cache_misses: int = 0
    cache_errors: int = 0
    """Cache operations that failed (Redis down): the call went on to the model."""
    saved_input_tokens: int = 0
    """Prompt tokens the cache hits did not spend (as the original call reported them)."""
    saved_output_tokens: int = 0
    prompts_compressed: int = 0
    """Prompts over their context budget whose near-duplicate sentences were dropped."""
    prompts_truncated: int = 0
    """Prompts still over budget after compression, trimmed with `trim_messages`."""

    @property
    def retries_total(self) -> int:
        return sum(self.retries.values())

    @property
    def cache_hits_total(self) -> int:
        return sum(self.cache_hits.values())


class LLMStats:
    """Thread-safe counters; the model layer writes, monitoring reads `snapshot()`."""

    _DELAYS_KEPT = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counters: dict[str, Counter[str]] = {
                name: Counter()
                for name in (
                    "calls",
                    "failures",
                    "retries",
                    "fallbacks",
                    "restart_waits",
                    "ejections",
                    "cache_hits",
                )
            }
            self._delays: list[float] = []
            self._scalars: Counter[str] = Counter()

    def count(self, counter: str, key: str, n: int = 1) -> None:
        """Add `n` to `counter[key]`; `counter` is one of the snapshot's dict fields."""
        with self._lock:
            self._counters[counter][key] += n

    def add(self, scalar: str, n: int = 1) -> None:
        """Add `n` to a scalar field (`cache_misses`, `saved_input_tokens`...)."""
        with self._lock:
            self._scalars[scalar] += n

    def retry(self, cause: str, delay_s: float) -> None:
        with self._lock:
            self._counters["retries"][cause] += 1
            self._delays = [*self._delays[-(self._DELAYS_KEPT - 1) :], round(delay_s, 4)]

    def snapshot(self) -> LLMStatsSnapshot:
        with self._lock:
            return LLMStatsSnapshot(
                **{name: dict(c) for name, c in self._counters.items()},
                retry_delays_s=list(self._delays),
                **dict(self._scalars),
            )


_stats = LLMStats()


def llm_stats() -> LLMStats:
    """The process's model-layer counters."""
    return _stats
