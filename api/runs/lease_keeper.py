"""The lease keeper: one thread per replica renews every run lease the replica holds (a sync
Redis client, one pipeline a round, every third of the TTL), so a busy event loop (a CPU-heavy
node, a starved machine) does not lose its runs. It stops renewing once the loop has not run a
callback for `max_stall_s`, so a hung replica frees its runs like a dead one. What a renewal
finds (the lease is gone, a cancel was asked) reaches the run on its loop."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis
from redis.exceptions import RedisError

log = logging.getLogger("refinery.api")

# KEYS: lease, cancel. ARGV: token, ttl ms. -1: not ours any more; 1: stop (cancel); 0: go on.
RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('EXISTS', KEYS[2])
"""


class Held(Protocol):
    """What the keeper needs of a lease."""

    token: str
    keys: list[str]
    """The lease's key and its cancel flag's key."""
    loop: asyncio.AbstractEventLoop

    def stop(self, reason: str) -> None: ...


class LeaseKeeper:
    """Renews the leases registered with `hold` until they are dropped."""

    def __init__(
        self,
        client: redis.Redis,
        ttl_s: float,
        max_stall_s: float,
        interval_s: float | None = None,
    ) -> None:
        """`interval_s`: seconds between renewal rounds (a third of the TTL unless given)."""
        self._client = client
        self._ttl_ms = int(ttl_s * 1000)
        self._interval_s = ttl_s / 3 if interval_s is None else interval_s
        self._max_stall_s = max_stall_s
        self._renew = client.register_script(RENEW)
        self._held: dict[str, Held] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticked = time.monotonic()

    def hold(self, lease: Held) -> None:
        with self._lock:
            self._held[lease.token] = lease
            self._loop = lease.loop
            if self._thread is None:
                self._ticked = time.monotonic()
                self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
                self._thread.start()

    def drop(self, lease: Held) -> None:
        with self._lock:
            self._held.pop(lease.token, None)

    def close(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._client.close()

    def _tick(self) -> None:
        self._ticked = time.monotonic()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            with self._lock:
                held, loop = list(self._held.values()), self._loop
            if loop is None or loop.is_closed():
                continue
            stalled_s = time.monotonic() - self._ticked
            loop.call_soon_threadsafe(self._tick)  # seen next round, if the loop runs
            if held and stalled_s > self._max_stall_s:
                log.error("event loop stalled %.0f s: leases left to expire", stalled_s)
            elif held:
                self._renew_all(held)

    def _renew_all(self, held: list[Held]) -> None:
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for lease in held:
                    self._renew(keys=lease.keys, args=[lease.token, self._ttl_ms], client=pipe)
                verdicts = pipe.execute()
        except RedisError as exc:  # the runs themselves will find out whether Redis is gone
            log.warning("leases not renewed", extra={"error": str(exc)})
            return
        for lease, verdict in zip(held, verdicts, strict=True):
            if int(verdict):
                self.drop(lease)
                reason = "lost" if int(verdict) < 0 else "cancelled"
                stop: Callable[[str], None] = lease.stop
                lease.loop.call_soon_threadsafe(stop, reason)
