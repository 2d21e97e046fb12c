"""Run leases in Redis, so that one replica at a time advances a thread: `SET NX PX` with a
random token, renewed by a heartbeat while the run goes on (`api.runs.lease_keeper`), released by
compare-and-delete (a replica can only renew or free its own lease). A leased thread is listed
in one `active` set until its run ends on purpose, so a run whose holder died (lease expired,
still listed) is an orphan that `api.runs.reaper` resumes. Every start and end of a run goes to the
thread's run log."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

import redis.asyncio as aredis
from redis.exceptions import RedisError

from api.runs.failures import LeaseLost, RunCancelled, RunFailure
from api.runs.lease_keeper import LeaseKeeper

log = logging.getLogger("refinery.api")

# KEYS: lease, active, runlog, cancel. ARGV: token, ttl ms, thread id, log entry, log ttl s,
# orphan only ('1': only a thread still listed, i.e. one whose run no replica has finished).
_ACQUIRE = """
if ARGV[6] == '1' and redis.call('SISMEMBER', KEYS[2], ARGV[3]) == 0 then return 0 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('DEL', KEYS[4])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[5])
return 1
"""
# KEYS: lease, active, runlog, cancel. ARGV: token, thread id, log entry, log ttl s, handover.
# A handed-over run stays listed, so another replica's reaper resumes it at once.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[4])
if ARGV[5] ~= '1' then redis.call('SREM', KEYS[2], ARGV[2]) end
redis.call('RPUSH', KEYS[3], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return 1
"""
# KEYS: lease, active, cancel. ARGV: thread id, cancel ttl ms.
# 1: the holder stops at its next heartbeat; 2: an orphan, now never resumed; 0: not running.
_CANCEL = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
  return 1
end
if redis.call('SREM', KEYS[2], ARGV[1]) == 1 then return 2 end
return 0
"""

RunKind = Literal["started", "resumed", "recovered"]
"""How a run began: a new thread, `POST .../resume`, or the reaper taking over an orphan."""
CancelOutcome = Literal["cancelling", "cancelled", "not_running"]
_CANCEL_OUTCOMES: dict[int, CancelOutcome] = {1: "cancelling", 2: "cancelled", 0: "not_running"}


@dataclass
class Leases:
    """The leases of one deployment (`{prefix}:api:lease:{thread}` and friends)."""

    client: aredis.Redis
    prefix: str
    replica: str
    ttl_s: float
    keeper: LeaseKeeper
    """Renews the leases this replica holds."""
    log_ttl_s: int = 7 * 24 * 3600
    draining: bool = False
    """Set when this replica shuts down: runs it stops are handed over, not cancelled."""
    _scripts: dict[str, object] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name, text in (("acquire", _ACQUIRE), ("release", _RELEASE), ("cancel", _CANCEL)):
            self._scripts[name] = self.client.register_script(text)

    @property
    def active_key(self) -> str:
        return f"{self.prefix}:api:active"

    def lease_key(self, thread_id: str) -> str:
        return f"{self.prefix}:api:lease:{thread_id}"

    def runlog_key(self, thread_id: str) -> str:
        return f"{self.prefix}:api:runlog:{thread_id}"

    def _cancel_key(self, thread_id: str) -> str:
        return f"{self.prefix}:api:cancel:{thread_id}"

    def _entry(self, run_id: str, event: str, **extra: str) -> str:
        fields = {"run_id": run_id, "replica": self.replica, "event": event} | extra
        return json.dumps(fields | {"at": round(time.time(), 3)})

    async def acquire(self, thread_id: str, run_id: str, kind: RunKind) -> Lease | None:
        """The thread's lease for `run_id`, or None when another run holds it (`recovered`:
        or when the thread is no orphan any more: another replica resumed it first)."""
        token = f"{self.replica}/{run_id}/{secrets.token_hex(8)}"
        keys = [
            self.lease_key(thread_id),
            self.active_key,
            self.runlog_key(thread_id),
            self._cancel_key(thread_id),
        ]
        args = [
            token,
            int(self.ttl_s * 1000),
            thread_id,
            self._entry(run_id, kind),
            self.log_ttl_s,
            "1" if kind == "recovered" else "0",
        ]
        if not await self._scripts["acquire"](keys=keys, args=args):  # type: ignore[operator]
            return None
        return Lease(self, thread_id, run_id, token)

    async def holder(self, thread_id: str) -> str | None:
        """The token (`replica/run id/nonce`) of the run holding the thread, if any."""
        value = await self.client.get(self.lease_key(thread_id))
        return value.decode() if value else None

    async def in_flight(self, thread_id: str, reaping: bool = True) -> bool:
        """Whether a run goes on on the thread: a lease is held, or (`reaping`: some replica
        resumes orphans) its holder died and a reaper is about to take it over."""
        if await self.holder(thread_id):
            return True
        return reaping and bool(await self.client.sismember(self.active_key, thread_id))

    async def cancel(self, thread_id: str) -> CancelOutcome:
        """Ask the thread's run to stop, wherever it runs; an orphan is dropped instead."""
        keys = [self.lease_key(thread_id), self.active_key, self._cancel_key(thread_id)]
        args = [thread_id, int(self.ttl_s * 3000)]
        outcome = await self._scripts["cancel"](keys=keys, args=args)  # type: ignore[operator]
        return _CANCEL_OUTCOMES[int(outcome)]

    async def orphans(self) -> list[str]:
        """Listed threads whose lease is gone: their holder died (or handed them over)."""
        listed = [t.decode() for t in await self.client.smembers(self.active_key)]
        if not listed:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for thread_id in listed:
                pipe.exists(self.lease_key(thread_id))
            held = await pipe.execute()
        return [t for t, h in zip(listed, held, strict=True) if not h]

    async def runlog(self, thread_id: str) -> list[dict[str, object]]:
        """Every start and end of a run on the thread, oldest first."""
        return [json.loads(e) for e in await self.client.lrange(self.runlog_key(thread_id), 0, -1)]


class Lease:
    """A held lease, as an async context around the run: renewed by the keeper while the run
    goes on; a lost lease or a cancel request stops the run (raised as `LeaseLost` or
    `RunCancelled`); released on exit."""

    def __init__(self, leases: Leases, thread_id: str, run_id: str, token: str) -> None:
        self.leases = leases
        self.thread_id = thread_id
        self.run_id = run_id
        self.token = token
        self.keys = [leases.lease_key(thread_id), leases._cancel_key(thread_id)]
        self.stop_reason: Literal["lost", "cancelled"] | None = None
        self.loop = asyncio.get_running_loop()
        self._task: asyncio.Task[object] | None = None
        self._exited = False

    async def __aenter__(self) -> Lease:
        self._task = asyncio.current_task()
        self.leases.keeper.hold(self)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._exited = True  # a keeper verdict still in flight must not stop what follows
        self.leases.keeper.drop(self)
        cancelled = isinstance(exc, asyncio.CancelledError)
        # Our own stop (the keeper's verdict) becomes an error; anyone else's cancel goes up.
        stopped = (
            cancelled
            and self.stop_reason is not None
            and self._task is not None
            and self._task.uncancel() == 0
        )
        handover = cancelled and not stopped and self.leases.draining
        if exc is None:
            outcome = "completed"
        elif handover:
            outcome = "handed_over"
        else:
            outcome = _outcome(exc, self.stop_reason if stopped else None)
        await self.release(outcome, handover=handover)
        if stopped:
            raise self._stopped_error() from exc

    def stop(self, reason: str) -> None:
        """Stop the run (on its loop): its lease is gone (`lost`) or a cancel was asked."""
        if self._exited:  # the run is over; its task now answers or reports, uninterrupted
            return
        if self.stop_reason is None and self._task is not None and not self._task.done():
            self.stop_reason = "lost" if reason == "lost" else "cancelled"
            log.warning(
                "run stopped: lease %s",
                self.stop_reason,
                extra={"thread_id": self.thread_id, "run_id": self.run_id},
            )
            self._task.cancel()

    async def release(self, outcome: str, handover: bool = False) -> None:
        """Free the lease if it is still ours, logging how the run ended; `handover` keeps
        the thread listed, so a reaper resumes it."""
        leases = self.leases
        keys = [
            leases.lease_key(self.thread_id),
            leases.active_key,
            leases.runlog_key(self.thread_id),
            leases._cancel_key(self.thread_id),
        ]
        entry = leases._entry(self.run_id, "ended", outcome=outcome)
        args = [self.token, self.thread_id, entry, leases.log_ttl_s, "1" if handover else "0"]
        try:
            await asyncio.shield(leases._scripts["release"](keys=keys, args=args))  # type: ignore[operator]
        except (RedisError, asyncio.CancelledError) as exc:  # it expires on its own
            log.warning("lease not released", extra={"error": str(exc)})

    def _stopped_error(self) -> RunFailure:
        if self.stop_reason == "cancelled":
            return RunCancelled(self.thread_id)
        return LeaseLost(self.thread_id)


def _outcome(exc: BaseException, stop_reason: str | None) -> str:
    if stop_reason is not None:
        return stop_reason
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, RunFailure):
        return exc.kind
    return f"failed:{type(exc).__name__}"
