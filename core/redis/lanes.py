"""`Lanes`: a small set of asyncio Redis connections for hot-path calls (checkpoint scripts,
run-event batches), admitted first in, first out, each call one packed write and its replies."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import hiredis
import redis.asyncio as aredis
import redis.asyncio.connection as aconnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Command = Sequence[Any]
"""One Redis command and its arguments, e.g. `("XADD", key, "*", "event", name)`."""


class Lanes:
    """Asyncio connections of one pool, for calls that must be cheap.

    At most the pool's `max_connections` calls run at once, admitted first in, first out (a
    pool's own wait lets newcomers barge past waiters, which starves some callers for hundreds
    of ms under heavy concurrency). A call takes an idle connection, writes its commands packed
    by hiredis in C (redis-py packs in Python, and a pipeline adds its own bookkeeping), reads
    the replies and gives the connection back, skipping the pool's per-command checks (a
    zero-timeout read to test the socket, timers, metrics hooks). A connection that fails is
    dropped and the call retried once on a fresh one (e.g. the server restarted since it was
    last used); one whose call was cancelled is dropped, since its replies may still come.
    """

    def __init__(self, pool: aredis.ConnectionPool) -> None:
        self._pool = pool
        self._idle: list[aconnection.AbstractConnection] = []
        self._gate = asyncio.Semaphore(pool.max_connections)

    async def call(self, *args: Any) -> Any:
        """One command's reply (a Redis error reply raises `ResponseError`)."""
        [reply] = await self.call_many([args])
        return reply

    async def call_many(self, commands: Sequence[Command]) -> list[Any]:
        """The replies of `commands`, sent in one write (not atomic: a pipeline, not MULTI);
        raises the first error reply after reading them all."""
        packed = b"".join(hiredis.pack_command(tuple(command)) for command in commands)
        replies = await self._call(packed, len(commands))
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies

    async def _call(self, packed: bytes, count: int) -> list[Any]:
        async with self._gate:
            conn = self._idle.pop() if self._idle else self._pool.make_connection()
            try:
                replies = await self._send(conn, packed, count)
            except BaseException:
                await conn.disconnect()
                raise
            self._idle.append(conn)
            return replies

    @classmethod
    async def _send(
        cls, conn: aconnection.AbstractConnection, packed: bytes, count: int
    ) -> list[Any]:
        try:
            await conn.send_packed_command(packed, check_health=False)
            return await cls._read(conn, count)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            await conn.disconnect()  # e.g. the server restarted since this one was used
        await conn.send_packed_command(packed, check_health=False)
        return await cls._read(conn, count)

    @staticmethod
    async def _read(conn: aconnection.AbstractConnection, count: int) -> list[Any]:
        """`count` replies; an error reply is returned in its place, so the connection stays in
        step with the server and goes back to the idle list before the caller raises it."""
        replies: list[Any] = []
        for _ in range(count):
            try:
                replies.append(await conn.read_response())
            except ResponseError as exc:
                replies.append(exc)
        return replies

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.disconnect()
