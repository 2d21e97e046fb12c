"""Deriving a sync client from an async one and back, naming a pool's server safely, and the
saver's own lanes of asyncio connections for its hot path."""

from __future__ import annotations

import asyncio
from typing import Any

import redis
import redis.asyncio as aredis
import redis.asyncio.connection as aconnection
import redis.connection as sconnection
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

_PORTABLE = (
    "username",
    "password",
    "credential_provider",
    "host",
    "port",
    "db",
    "path",
    "socket_timeout",
    "socket_connect_timeout",
    "socket_keepalive",
    "client_name",
    "protocol",
    "health_check_interval",
)
"""Connection settings that mean the same to redis-py's sync and asyncio connections."""


def _portable_kwargs(pool: Any) -> dict[str, Any]:
    kwargs = pool.connection_kwargs
    portable = {key: kwargs[key] for key in _PORTABLE if key in kwargs}
    portable.update({key: value for key, value in kwargs.items() if key.startswith("ssl_")})
    return portable


def twin_sync(client: aredis.Redis) -> redis.Redis:
    """A sync client on a new blocking pool to the same server as `client`."""
    from redis.retry import Retry

    pool = client.connection_pool
    connection_class = getattr(sconnection, pool.connection_class.__name__, sconnection.Connection)
    twin = redis.BlockingConnectionPool(
        connection_class=connection_class,
        max_connections=pool.max_connections,
        timeout=getattr(pool, "timeout", 10),
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.2), 2),
        **_portable_kwargs(pool),
    )
    return redis.Redis(connection_pool=twin)


def twin_async(client: redis.Redis) -> aredis.Redis:
    """An asyncio client on a new blocking pool to the same server as `client`."""
    from redis.asyncio.retry import Retry

    pool = client.connection_pool
    connection_class = getattr(aconnection, pool.connection_class.__name__, aconnection.Connection)
    twin = aredis.BlockingConnectionPool(
        connection_class=connection_class,
        max_connections=pool.max_connections,
        timeout=getattr(pool, "timeout", 10),
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.2), 2),
        **_portable_kwargs(pool),
    )
    return aredis.Redis(connection_pool=twin)


def describe_pool(pool: Any) -> str:
    """The pool's server as a URL without credentials."""
    kwargs = pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    scheme = "rediss" if "SSL" in pool.connection_class.__name__ else "redis"
    host, port = kwargs.get("host", "localhost"), kwargs.get("port", 6379)
    return f"{scheme}://{host}:{port}/{kwargs.get('db', 0)}"


class Lanes:
    """The saver's own asyncio connections for its one-script calls (put, put_writes, get).

    At most `size` calls run at once, admitted first in, first out (a pool's own wait lets
    newcomers barge past waiters, which starves some callers for hundreds of ms under heavy
    concurrency). A call takes an idle connection, sends, reads and gives it back, skipping
    the pool's per-command checks (a zero-timeout read to test the socket, timers, metrics
    hooks): a put costs about a third less client time. A connection that fails is dropped
    and the call retried once on a fresh one (the scripts are idempotent); one whose call was
    cancelled is dropped, since its reply may still be on the way.
    """

    def __init__(self, pool: aredis.ConnectionPool) -> None:
        self._pool = pool
        self._idle: list[aconnection.AbstractConnection] = []
        self._gate = asyncio.Semaphore(pool.max_connections)

    async def call(self, *args: Any) -> Any:
        async with self._gate:
            conn = self._idle.pop() if self._idle else self._pool.make_connection()
            try:
                reply = await self._send(conn, args)
            except ResponseError:
                self._idle.append(conn)  # an error reply leaves the connection in step
                raise
            except BaseException:
                await conn.disconnect()
                raise
            self._idle.append(conn)
            return reply

    @staticmethod
    async def _send(conn: aconnection.AbstractConnection, args: tuple[Any, ...]) -> Any:
        try:
            await conn.send_command(*args)
            return await conn.read_response()
        except (RedisConnectionError, RedisTimeoutError, OSError):
            await conn.disconnect()  # e.g. the server restarted since this one was used
        await conn.send_command(*args)
        return await conn.read_response()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.disconnect()
