"""The response cache of deterministic model calls (LangChain's `BaseCache`): an in-process LRU
bounded in entries, in front of a Redis layer with a TTL that every replica shares.

Keys are the exact prompt and the model's parameters (model, temperature, seed, max tokens...),
so only identical requests hit. A hit is returned with zero token usage (no model tokens were
spent) and counted, with the tokens it saved, in `core.llm.stats`. Redis failures never fail a
call: they count as a miss.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import redis
import redis.asyncio as aredis
from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import AIMessage, message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

from core.llm.stats import llm_stats
from core.redis.server import async_client, resolve_redis_url, sync_client
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

__all__ = ["TieredCache", "cache_key"]


def cache_key(prompt: str, llm_string: str) -> str:
    """A stable digest of one request (the same in every process)."""
    return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()


def _encode(generations: Sequence[Generation]) -> str:
    rows = []
    for gen in generations:
        if isinstance(gen, ChatGeneration):
            rows.append({"message": message_to_dict(gen.message), "info": gen.generation_info})
        else:
            rows.append({"text": gen.text, "info": gen.generation_info})
    return json.dumps(rows)


def _decode(raw: str | bytes) -> list[Generation]:
    out: list[Generation] = []
    for row in json.loads(raw):
        if "message" in row:
            [message] = messages_from_dict([row["message"]])
            out.append(ChatGeneration(message=message, generation_info=row.get("info")))
        else:
            out.append(Generation(text=row["text"], generation_info=row.get("info")))
    return out


def _as_hit(generations: list[Generation], layer: str) -> list[Generation]:
    """The cached generations with zero usage, marked as hits; the saved tokens are counted."""
    stats = llm_stats()
    stats.count("cache_hits", layer)
    out: list[Generation] = []
    for gen in generations:
        if isinstance(gen, ChatGeneration) and isinstance(gen.message, AIMessage):
            usage = gen.message.usage_metadata or {}
            stats.add("saved_input_tokens", int(usage.get("input_tokens", 0)))
            stats.add("saved_output_tokens", int(usage.get("output_tokens", 0)))
            message = gen.message.model_copy(
                update={
                    "usage_metadata": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
                    "response_metadata": {**gen.message.response_metadata, "cache_hit": layer},
                }
            )
            gen = ChatGeneration(message=message, generation_info=gen.generation_info)
        out.append(gen)
    return out


class TieredCache(BaseCache):
    """LRU (this process) over Redis with TTL (all processes)."""

    def __init__(self, settings: Settings | None = None, url: str | None = None) -> None:
        self.settings = settings or get_settings()
        self._url = url
        self._entries = self.settings.llm_cache_entries
        self._lru: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self._sync: redis.Redis | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aredis.Redis] = (
            weakref.WeakKeyDictionary()
        )

    # --- the in-process layer ------------------------------------------------------------------

    def _remember(self, key: str, value: str) -> None:
        if self._entries <= 0:
            return
        with self._lock:
            self._lru[key] = value
            self._lru.move_to_end(key)
            while len(self._lru) > self._entries:
                self._lru.popitem(last=False)

    def _recall(self, key: str) -> str | None:
        with self._lock:
            value = self._lru.get(key)
            if value is not None:
                self._lru.move_to_end(key)
            return value

    # --- the Redis layer -----------------------------------------------------------------------

    @property
    def _redis_on(self) -> bool:
        return self.settings.llm_cache_redis

    def _redis_key(self, key: str) -> str:
        return f"{self.settings.redis_key_prefix}:llmcache:{key}"

    def _sync_client(self) -> redis.Redis:
        if self._sync is None:
            self._sync = sync_client(self._url or resolve_redis_url(self.settings), self.settings)
        return self._sync

    async def _async_client(self) -> aredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            # resolving may start the embedded server: keep that off the event loop
            url = self._url or await asyncio.to_thread(resolve_redis_url, self.settings)
            client = self._async[loop] = async_client(url, self.settings)
        return client

    # --- BaseCache -----------------------------------------------------------------------------

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = cache_key(prompt, llm_string)
        if (value := self._recall(key)) is not None:
            return _as_hit(_decode(value), "memory")
        if self._redis_on:
            try:
                raw = self._sync_client().get(self._redis_key(key))
            except (redis.RedisError, OSError) as exc:
                return self._failed("lookup", exc)
            if raw is not None:
                self._remember(key, raw.decode())
                return _as_hit(_decode(raw), "redis")
        llm_stats().add("cache_misses")
        return None

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = cache_key(prompt, llm_string)
        if (value := self._recall(key)) is not None:
            return _as_hit(_decode(value), "memory")
        if self._redis_on:
            try:
                raw = await (await self._async_client()).get(self._redis_key(key))
            except (redis.RedisError, OSError) as exc:
                return self._failed("lookup", exc)
            if raw is not None:
                self._remember(key, raw.decode())
                return _as_hit(_decode(raw), "redis")
        llm_stats().add("cache_misses")
        return None

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        key, value = cache_key(prompt, llm_string), _encode(return_val)
        self._remember(key, value)
        if self._redis_on:
            try:
                self._sync_client().set(
                    self._redis_key(key), value, ex=self.settings.llm_cache_ttl_s
                )
            except (redis.RedisError, OSError) as exc:
                self._failed("update", exc)

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        key, value = cache_key(prompt, llm_string), _encode(return_val)
        self._remember(key, value)
        if self._redis_on:
            try:
                await (await self._async_client()).set(
                    self._redis_key(key), value, ex=self.settings.llm_cache_ttl_s
                )
            except (redis.RedisError, OSError) as exc:
                self._failed("update", exc)

    def clear(self, **kwargs: Any) -> None:
        """Forget the in-process entries (Redis entries expire by their TTL)."""
        with self._lock:
            self._lru.clear()

    def _failed(self, what: str, exc: BaseException) -> None:
        llm_stats().add("cache_errors")
        if what == "lookup":
            llm_stats().add("cache_misses")
        log.warning("response cache %s failed, going on without it: %s", what, exc)
