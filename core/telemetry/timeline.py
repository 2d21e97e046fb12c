"""Time buckets of counters in Redis (one hash per bucket, shared by every replica): what the
dashboard draws over time and what the error-rate rule sums over its window."""

from __future__ import annotations

import bisect
import time

import redis.asyncio as aredis

from core.settings import Settings, get_settings

__all__ = ["LATENCY_EDGES", "Timeline", "latency_field", "quantile"]

LATENCY_EDGES = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, float("inf"))
"""Upper bounds (seconds) of the run-latency histogram each bucket keeps."""


def latency_field(latency_s: float) -> str:
    """The histogram field a run latency is counted in."""
    return f"lat_le_{bisect.bisect_left(LATENCY_EDGES, latency_s)}"


def quantile(counts: list[float], q: float) -> float | None:
    """The `q` quantile of a latency histogram over `LATENCY_EDGES` (linear inside a bin)."""
    total = sum(counts)
    if total <= 0:
        return None
    rank, seen = q * total, 0.0
    for index, count in enumerate(counts):
        if seen + count >= rank and count > 0:
            low = LATENCY_EDGES[index - 1] if index else 0.0
            high = LATENCY_EDGES[index]
            if high == float("inf"):
                return low
            return low + (high - low) * (rank - seen) / count
        seen += count
    return LATENCY_EDGES[-2]


class Timeline:
    """Counters per `timeline_bucket_s` bucket, kept `timeline_retention_s`."""

    def __init__(self, redis: aredis.Redis, prefix: str, settings: Settings | None = None) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:timeline"
        self.settings = settings or get_settings()

    @property
    def width(self) -> int:
        return self.settings.timeline_bucket_s

    def bucket(self, at: float) -> int:
        return int(at // self.width) * self.width

    async def add(self, fields: dict[str, float], at: float | None = None) -> None:
        """Add `fields` to the bucket of time `at` (now)."""
        if not fields:
            return
        key = f"{self.prefix}:{self.bucket(time.time() if at is None else at)}"
        async with self.redis.pipeline(transaction=False) as pipe:
            for name, value in fields.items():
                if value:
                    pipe.hincrbyfloat(key, name, value)
            pipe.expire(key, self.settings.timeline_retention_s)
            await pipe.execute()

    async def series(
        self, span_s: float, now: float | None = None
    ) -> list[tuple[int, dict[str, float]]]:
        """(bucket start, counters) for every bucket in the last `span_s`, oldest first."""
        now = time.time() if now is None else now
        starts = range(self.bucket(now - span_s + self.width), self.bucket(now) + 1, self.width)
        async with self.redis.pipeline(transaction=False) as pipe:
            for start in starts:
                pipe.hgetall(f"{self.prefix}:{start}")
            rows = await pipe.execute()
        return [(start, _floats(row)) for start, row in zip(starts, rows, strict=True)]

    async def window(self, span_s: float, now: float | None = None) -> dict[str, float]:
        """Counters summed over the buckets that overlap the last `span_s`."""
        total: dict[str, float] = {}
        for _, row in await self.series(span_s, now):
            for name, value in row.items():
                total[name] = total.get(name, 0.0) + value
        return total


def _floats(row: dict[bytes | str, bytes | str]) -> dict[str, float]:
    return {(k.decode() if isinstance(k, bytes) else k): float(v) for k, v in row.items()}
