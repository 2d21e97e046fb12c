"""The app's one checkpointer: a process-wide `RedisSaver` on the resolved Redis URL.

The graph builder, the API and the CLI all call `get_checkpointer()` (or `aget_checkpointer()`
from async code, which keeps the loop free while the embedded server starts). With no
`REDIS_URL` set, the first call starts the embedded Valkey under `settings.data_dir / "redis"`
(or joins one another process of the same data dir runs). The saver serves sync and async
callers alike; its pools are blocking pools of `settings.redis_pool_size` connections.
"""

from __future__ import annotations

import asyncio
import threading

from core.checkpoint import RedisSaver
from core.redis.server import resolve_redis_url, sync_client
from core.settings import get_settings

__all__ = ["aget_checkpointer", "get_checkpointer", "reset_checkpointer"]

_lock = threading.Lock()
_saver: RedisSaver | None = None


def get_checkpointer() -> RedisSaver:
    """The process-wide saver, created on first use from the settings."""
    global _saver
    with _lock:
        if _saver is None:
            settings = get_settings()
            client = sync_client(resolve_redis_url(settings), settings)
            _saver = RedisSaver(
                client,
                key_prefix=settings.redis_key_prefix,
                ttl_s=settings.checkpoint_ttl_s,
                own_clients=True,
            )
        return _saver


async def aget_checkpointer() -> RedisSaver:
    """`get_checkpointer()` without blocking the event loop on a first-time server start."""
    if _saver is not None:
        return _saver
    return await asyncio.to_thread(get_checkpointer)


def reset_checkpointer() -> None:
    """Forget the process-wide saver (tests that change settings); its sync pool is closed."""
    global _saver
    with _lock:
        if _saver is not None:
            _saver.close()
        _saver = None
