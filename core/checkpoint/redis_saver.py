"""`RedisSaver`: LangGraph checkpoints on any Redis 6.2+ or Valkey, plain commands and Lua only.

One class serves the sync and the async API. Sync methods use a sync client, so they work
from inside a running event loop too (LangGraph Studio calls them there); async methods use
an asyncio client per event loop. Writes are atomic Lua scripts, one round trip each.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import redis
import redis.asyncio as aredis
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.checkpoint import _lua
from core.checkpoint._clients import describe_pool, twin_async, twin_sync
from core.checkpoint._layout import Layout
from core.checkpoint._plans import (
    Batch,
    Plan,
    ThreadInfo,
    Txn,
    copy_plan,
    delete_for_runs_plan,
    delete_thread_plan,
    list_plan,
    prune_plan,
    threads_plan,
)
from core.redis.lanes import Lanes
from core.redis.server import RedisUnavailableError, redact_url, sync_client

__all__ = ["RedisSaver", "ThreadInfo"]

_COUNTER_WIDTH = 6
"""Digits of a version's counter: 36**6, about two billion versions of one channel."""
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_DIGITS[rest])
    return "".join(reversed(digits)).rjust(width, "0")


_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


class RedisSaver(BaseCheckpointSaver[str]):
    """A LangGraph checkpoint saver on Redis or Valkey (standalone or a managed primary).

    Build it from clients you own (`RedisSaver(client)`, `RedisSaver(aclient=...)`), or let it
    own them: `with RedisSaver.from_conn_string(url) as saver` (or `async with`).

    Args:
        client: A sync client; derived from `aclient`'s settings when omitted.
        aclient: An asyncio client; derived from `client`'s settings when omitted.
        key_prefix: Prefix of every key, so deployments can share a server.
        ttl_s: Retention: a thread's keys expire this long after its last write.
        serde: The serializer (LangGraph's `JsonPlusSerializer` by default; never pickle).
        own_clients: Whether `close()`/`aclose()` disconnect the clients' pools.
    """

    def __init__(
        self,
        client: redis.Redis | None = None,
        *,
        aclient: aredis.Redis | None = None,
        key_prefix: str = "refinery",
        ttl_s: int | None = None,
        serde: SerializerProtocol | None = None,
        own_clients: bool = False,
    ) -> None:
        super().__init__(serde=serde)
        if client is None and aclient is None:
            raise ValueError("RedisSaver needs a client, an aclient, or from_conn_string(url)")
        self._client = client if client is not None else twin_sync(aclient)  # type: ignore[arg-type]
        self._aclient_seed = aclient
        self._aclients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._lanes: weakref.WeakKeyDictionary[aredis.Redis, Lanes] = weakref.WeakKeyDictionary()
        self._url = describe_pool(self._client.connection_pool)
        self._owned = own_clients
        self.key_prefix = key_prefix
        self.ttl_s = ttl_s
        self._layout = Layout(key_prefix, self.serde)

    # --- construction and lifetime ---------------------------------------------------------

    @classmethod
    def from_conn_string(
        cls, url: str, *, key_prefix: str = "refinery", ttl_s: int | None = None
    ) -> RedisSaver:
        """A saver that owns its pools; use it as `with` or `async with` to close them."""
        saver = cls(sync_client(url), key_prefix=key_prefix, ttl_s=ttl_s, own_clients=True)
        saver._url = redact_url(url)
        return saver

    def __enter__(self) -> RedisSaver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> RedisSaver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def close(self) -> None:
        """Disconnect the sync pool (when this saver owns it)."""
        if self._owned:
            self._client.connection_pool.disconnect()

    async def aclose(self) -> None:
        """Disconnect this loop's async connections and the sync pool (when this saver owns
        them)."""
        loop = asyncio.get_running_loop()
        aclient = self._aclients.get(loop)
        lanes = self._lanes.pop(aclient, None) if aclient is not None else None
        if lanes is not None:
            await lanes.aclose()
        if self._owned:
            self._aclients.pop(loop, None)
            if aclient is not None:
                await aclient.connection_pool.disconnect()
            self.close()

    def setup(self) -> None:
        """Check the server answers and load the scripts (fails early with a clear error)."""
        with self._translate():
            for script in _lua.ALL:
                self._client.script_load(script.source)

    async def asetup(self) -> None:
        """Async `setup`."""
        with self._translate():
            client = self._aclient()
            for script in _lua.ALL:
                await client.script_load(script.source)

    @property
    def url(self) -> str:
        """The server's URL, without credentials."""
        return self._url

    # --- the BaseCheckpointSaver API, sync -------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        keys, args = self._get_args(config)
        reply = self._eval(_lua.GET, keys, args)
        return self._layout.to_tuple(self._thread(config), args[0], reply) if reply else None

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        yield from self._drive(list_plan(self._layout, config, filter, before, limit))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        keys, args, stored = self._layout.put_args(config, checkpoint, metadata, new_versions)
        self._eval(_lua.PUT, keys, self._stamp(args))
        return stored

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if writes:
            keys, args = self._layout.put_writes_args(config, writes, task_id, task_path)
            self._eval(_lua.PUT_WRITES, keys, self._stamp(args))

    def delete_thread(self, thread_id: str) -> None:
        self._run(delete_thread_plan(self._layout, [str(thread_id)]))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._run(delete_for_runs_plan(self._layout, run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._run(copy_plan(self._layout, str(source_thread_id), str(target_thread_id), self.ttl_s))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """`keep_latest` keeps the newest checkpoint per namespace (with its writes and blobs);
        `delete` removes the threads. Not `DeltaChannel`-aware: see the base class caveat."""
        self._run(prune_plan(self._layout, [str(t) for t in thread_ids], strategy))

    def threads(self, older_than: datetime | None = None) -> list[ThreadInfo]:
        """Threads, most recently written first; only those idle since `older_than` if given."""
        return list(self._drive(threads_plan(self._layout, older_than)))

    # --- the BaseCheckpointSaver API, async ------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        keys, args = self._get_args(config)
        reply = await self._aeval(_lua.GET, keys, args)
        return self._layout.to_tuple(self._thread(config), args[0], reply) if reply else None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        async for item in self._adrive(list_plan(self._layout, config, filter, before, limit)):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        keys, args, stored = self._layout.put_args(config, checkpoint, metadata, new_versions)
        await self._aeval(_lua.PUT, keys, self._stamp(args))
        return stored

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if writes:
            keys, args = self._layout.put_writes_args(config, writes, task_id, task_path)
            await self._aeval(_lua.PUT_WRITES, keys, self._stamp(args))

    async def adelete_thread(self, thread_id: str) -> None:
        await self._arun(delete_thread_plan(self._layout, [str(thread_id)]))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await self._arun(delete_for_runs_plan(self._layout, run_ids))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        plan = copy_plan(self._layout, str(source_thread_id), str(target_thread_id), self.ttl_s)
        await self._arun(plan)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await self._arun(prune_plan(self._layout, [str(t) for t in thread_ids], strategy))

    async def athreads(self, older_than: datetime | None = None) -> list[ThreadInfo]:
        """Async `threads`."""
        return [item async for item in self._adrive(threads_plan(self._layout, older_than))]

    def get_next_version(self, current: str | None, channel: None) -> str:
        """`00001a.k3f9x`: a base-36 counter, ordered as strings; the random tail keeps two
        forks of one parent from writing the same blob key. Short, since versions are in
        every record (older ten-digit decimal counters still read, and sort below these)."""
        if current is None:
            current_v = 0
        elif isinstance(current, int | float):
            current_v = int(current)
        else:
            head = current.split(".")[0]
            current_v = int(head, 36) if len(head) == _COUNTER_WIDTH else int(head)
        return f"{_base36(current_v + 1, _COUNTER_WIDTH)}.{_base36(random.getrandbits(25), 5)}"

    # --- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _thread(config: RunnableConfig) -> str:
        return str(config["configurable"]["thread_id"])

    def _get_args(self, config: RunnableConfig) -> tuple[list[str], list[str]]:
        ns = config["configurable"].get("checkpoint_ns", "")
        keys = self._layout.thread_keys(self._thread(config))
        return keys, [ns, get_checkpoint_id(config) or ""]

    def _stamp(self, args: list[Any]) -> list[Any]:
        return [self.ttl_s or 0, int(time.time() * 1000), *args]

    @contextlib.contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except _UNAVAILABLE as exc:
            raise RedisUnavailableError(self._url, exc) from exc

    def _aclient(self) -> aredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._aclients.get(loop)
        if client is None:
            seed, self._aclient_seed = self._aclient_seed, None
            client = seed if seed is not None else twin_async(self._client)
            self._aclients[loop] = client
        return client

    def _eval(self, script: _lua.Script, keys: list[str], args: list[Any]) -> Any:
        with self._translate():
            try:
                return self._client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
            except NoScriptError:
                self._client.script_load(script.source)
                return self._client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)

    async def _aeval(self, script: _lua.Script, keys: list[str], args: list[Any]) -> Any:
        client = self._aclient()
        lanes = self._lanes.get(client)
        if lanes is None:
            lanes = self._lanes[client] = Lanes(client.connection_pool)
        with self._translate():
            try:
                return await lanes.call("EVALSHA", script.sha, len(keys), *keys, *args)
            except NoScriptError:
                await client.script_load(script.source)
                return await lanes.call("EVALSHA", script.sha, len(keys), *keys, *args)

    def _run(self, plan: Plan) -> None:
        for _ in self._drive(plan):
            pass

    async def _arun(self, plan: Plan) -> None:
        async for _ in self._adrive(plan):
            pass

    def _drive(self, plan: Plan) -> Iterator[Any]:
        reply: Any = None
        while True:
            try:
                item = plan.send(reply)
            except StopIteration:
                return
            if isinstance(item, Batch):
                reply = self._batch(item)
            elif isinstance(item, Txn):
                reply = self._txn(item)
            else:
                reply = None
                yield item

    async def _adrive(self, plan: Plan) -> AsyncIterator[Any]:
        reply: Any = None
        while True:
            try:
                item = plan.send(reply)
            except StopIteration:
                return
            if isinstance(item, Batch):
                reply = await self._abatch(item)
            elif isinstance(item, Txn):
                reply = await self._atxn(item)
            else:
                reply = None
                yield item

    def _batch(self, batch: Batch) -> list[Any]:
        with self._translate():
            for attempt in (1, 2):
                pipe = self._client.pipeline(transaction=batch.atomic)
                for cmd in batch.cmds:
                    pipe.execute_command(*cmd)
                try:
                    return pipe.execute()
                except NoScriptError:
                    if attempt == 2:
                        raise
                    for script in _lua.ALL:
                        self._client.script_load(script.source)
        raise AssertionError("unreachable")

    async def _abatch(self, batch: Batch) -> list[Any]:
        client = self._aclient()
        with self._translate():
            for attempt in (1, 2):
                pipe = client.pipeline(transaction=batch.atomic)
                for cmd in batch.cmds:
                    pipe.execute_command(*cmd)
                try:
                    return await pipe.execute()
                except NoScriptError:
                    if attempt == 2:
                        raise
                    for script in _lua.ALL:
                        await client.script_load(script.source)
        raise AssertionError("unreachable")

    def _txn(self, txn: Txn) -> list[Any]:
        with self._translate(), self._client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(*txn.watch)
                    cmds = txn.plan([pipe.execute_command(*cmd) for cmd in txn.reads])
                    if not cmds:
                        pipe.reset()
                        return []
                    pipe.multi()
                    for cmd in cmds:
                        pipe.execute_command(*cmd)
                    return pipe.execute()
                except WatchError:
                    continue

    async def _atxn(self, txn: Txn) -> list[Any]:
        client = self._aclient()
        with self._translate():
            async with client.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(*txn.watch)
                        reads = [await pipe.execute_command(*cmd) for cmd in txn.reads]
                        cmds = txn.plan(reads)
                        if not cmds:
                            await pipe.reset()
                            return []
                        pipe.multi()
                        for cmd in cmds:
                            pipe.execute_command(*cmd)
                        return await pipe.execute()
                    except WatchError:
                        continue
