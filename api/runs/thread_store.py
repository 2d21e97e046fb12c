"""Who owns which thread, and what it was asked: a small Redis hash per thread next to the
graph's checkpoints. A thread belongs to the key that created it; other keys never see it."""

from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio as aredis

from api.auth import ApiKey
from api.runs.failures import ThreadNotFound


class ThreadStore:
    """`{prefix}:api:thread:{id}` -> owner key id, creation time, the request as JSON, and
    the experiment and variant when it was assigned one."""

    def __init__(self, client: aredis.Redis, prefix: str, ttl_s: int | None) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl_s = ttl_s

    def _key(self, thread_id: str) -> str:
        return f"{self._prefix}:api:thread:{thread_id}"

    async def claim(
        self,
        thread_id: str,
        key: ApiKey,
        request: dict[str, Any],
        experiment: str | None = None,
        variant: str | None = None,
    ) -> None:
        """Record a new thread as `key`'s, with the request that starts it and the experiment
        variant it was assigned (a resume runs it again)."""
        fields = {
            "owner": key.id,
            "created_at": f"{time.time():.3f}",
            "request": json.dumps(request),
        }
        if experiment and variant:
            fields |= {"experiment": experiment, "variant": variant}
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(thread_id), mapping=fields)
            if self._ttl_s:
                pipe.expire(self._key(thread_id), self._ttl_s)
            await pipe.execute()

    async def owned(self, thread_id: str, key: ApiKey) -> dict[str, Any]:
        """The thread's record if `key` owns it; `ThreadNotFound` otherwise, existing or not."""
        record = await self.record(thread_id)
        if record is None or record.get("owner") != key.id:
            raise ThreadNotFound(thread_id)
        return record

    async def record(self, thread_id: str) -> dict[str, Any] | None:
        """The thread's record, whoever owns it (for a replica that takes over its run)."""
        raw = await self._client.hgetall(self._key(thread_id))
        if not raw:
            return None
        decoded = {k.decode(): v.decode() for k, v in raw.items()}
        decoded["request"] = json.loads(decoded.get("request") or "{}")
        return decoded
