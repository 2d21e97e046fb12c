"""Feedback on runs, kept in Redis: explicit ratings (thumbs up/down and a comment) and the
implicit signals a client observes (copied, regenerated, abandoned), as events.

Layout (all under `{prefix}:api:feedback`): `:thread:{thread_id}` and `:key:{key_id}` are lists
of the JSON events of one thread and one key, newest last; `:events` is a stream of every event
(capped near `STREAM_CAP`) for consumers such as monitoring; `:counts` a hash of totals by kind
and rating (`rating:up`, `rating:down`, `copied`...).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis.asyncio as aredis

from api.auth import ApiKey
from api.schemas import FeedbackIn

STREAM_CAP = 100_000
PER_LIST_CAP = 10_000


class FeedbackStore:
    def __init__(self, client: aredis.Redis, prefix: str) -> None:
        self._client = client
        self._base = f"{prefix}:api:feedback"

    async def add(self, feedback: FeedbackIn, key: ApiKey) -> str:
        """Store one event for the thread and the key; returns its id."""
        event_id = uuid.uuid4().hex
        event = {
            "id": event_id,
            "key_id": key.id,
            "at": round(time.time(), 3),
            **feedback.model_dump(exclude_none=True),
        }
        body = json.dumps(event)
        count_field = feedback.kind
        if feedback.kind == "rating":
            count_field = "rating:up" if feedback.rating == 1 else "rating:down"
        async with self._client.pipeline(transaction=True) as pipe:
            for name in (f":thread:{feedback.thread_id}", f":key:{key.id}"):
                pipe.rpush(self._base + name, body)
                pipe.ltrim(self._base + name, -PER_LIST_CAP, -1)
            pipe.xadd(self._base + ":events", {"event": body}, maxlen=STREAM_CAP, approximate=True)
            pipe.hincrby(self._base + ":counts", count_field, 1)
            await pipe.execute()
        return event_id

    async def of_thread(self, thread_id: str) -> list[dict[str, Any]]:
        raw = await self._client.lrange(f"{self._base}:thread:{thread_id}", 0, -1)
        return [json.loads(item) for item in raw]
