"""Per-key rate limits kept in Redis (GCRA, one atomic script per request), so every worker of
a deployment shares one budget per key and a refusal says exactly when to come back."""

from __future__ import annotations

import math
from dataclasses import dataclass

import redis.asyncio as aredis

# GCRA: a key's "theoretical arrival time" advances by one interval per request; a request is
# allowed while that time stays within `burst` intervals of now. Redis's clock, not ours.
_GCRA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1000)
return {1, 0}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int
    """Whole seconds until this request would be allowed (0 when allowed)."""


class RateLimiter:
    """A GCRA limiter per key id: `rate_per_minute` sustained, `burst` at once."""

    def __init__(self, client: aredis.Redis, prefix: str, burst: int) -> None:
        self._client = client
        self._prefix = prefix
        self._burst = burst
        self._script = client.register_script(_GCRA)

    async def charge(
        self, key_id: str, rate_per_minute: int, cost: int = 1, burst: int | None = None
    ) -> Verdict:
        """Spend `cost` requests of the key's budget, if it has them."""
        interval_ms = 60_000 / rate_per_minute
        burst = max(burst or self._burst, cost)
        allowed, wait_ms = await self._script(
            keys=[f"{self._prefix}:api:rate:{key_id}"], args=[interval_ms, burst, cost]
        )
        if allowed:
            return Verdict(True, 0)
        return Verdict(False, max(1, math.ceil(int(wait_ms) / 1000)))
