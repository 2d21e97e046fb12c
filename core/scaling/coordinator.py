"""One scaling decision per endpoint group across replicas, through Redis: every replica
reports its own load; the replica that holds the group's lease (claimed with `SET NX PX`, as the
alerts claim a cooldown, and renewed while it lives) sums the fresh reports, decides, and stores
the decision with the scaler's memory, so that whichever replica leads next goes on from it."""

from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio as aredis
from pydantic import BaseModel

from core.scaling.scaler import Decision

__all__ = ["ReplicaLoad", "ScalingCoordinator", "StoredDecision"]

_LEAD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""


class ReplicaLoad(BaseModel):
    """One replica's load at one moment."""

    at: float
    queue_depth: int = 0
    in_flight: int = 0


class StoredDecision(BaseModel):
    """The group's last decision, who made it, and the scaler's memory after it."""

    decision: Decision
    replica: str
    state: dict[str, Any]


class ScalingCoordinator:
    """The Redis side of one group's decision."""

    def __init__(
        self,
        redis: aredis.Redis,
        prefix: str,
        group: str,
        replica: str,
        lease_s: float = 30.0,
        stale_s: float = 60.0,
    ) -> None:
        self.redis = redis
        self.group = group
        self.replica = replica
        self.lease_ms = max(1, int(lease_s * 1000))
        self.stale_s = stale_s
        base = f"{prefix}:scaling:{group}"
        self._load_key, self._leader_key, self._decision_key = (
            f"{base}:load",
            f"{base}:leader",
            f"{base}:decision",
        )

    async def report(self, load: ReplicaLoad) -> None:
        """Record this replica's load (kept while reports keep coming)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(self._load_key, self.replica, load.model_dump_json())
            pipe.expire(self._load_key, max(1, int(self.stale_s * 4)))
            await pipe.execute()

    async def total_load(self, now: float | None = None) -> ReplicaLoad:
        """The sum of the reports made in the last `stale_s` (older ones are dropped: their
        replica is gone)."""
        now = time.time() if now is None else now
        rows = await self.redis.hgetall(self._load_key)
        total, stale = ReplicaLoad(at=now), []
        for replica, body in rows.items():
            load = ReplicaLoad.model_validate_json(body)
            if now - load.at > self.stale_s:
                stale.append(replica)
                continue
            total.queue_depth += load.queue_depth
            total.in_flight += load.in_flight
        if stale:
            await self.redis.hdel(self._load_key, *stale)
        return total

    async def lead(self) -> bool:
        """Claim or renew the group's lease: True while this replica decides."""
        claimed = await self.redis.eval(  # type: ignore[misc]
            _LEAD, 1, self._leader_key, self.replica, str(self.lease_ms)
        )
        return bool(claimed)

    async def leader(self) -> str | None:
        value = await self.redis.get(self._leader_key)
        return value.decode() if isinstance(value, bytes) else value

    async def resign(self) -> None:
        """Give the lease up if this replica holds it (at shutdown)."""
        if await self.leader() == self.replica:
            await self.redis.delete(self._leader_key)

    async def publish(self, decision: Decision, state: dict[str, Any]) -> None:
        stored = StoredDecision(decision=decision, replica=self.replica, state=state)
        await self.redis.set(self._decision_key, stored.model_dump_json())

    async def stored(self) -> StoredDecision | None:
        """The group's last decision (None before the first)."""
        body = await self.redis.get(self._decision_key)
        return StoredDecision.model_validate(json.loads(body)) if body else None
