"""Deriving a sync client from an async one and back, and naming a pool's server safely."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aredis
import redis.asyncio.connection as aconnection
import redis.connection as sconnection
from redis.backoff import ExponentialWithJitterBackoff

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
