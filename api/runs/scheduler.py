"""Priority admission: at most `limit` runs at once, a priority queue of at most `max_queue`
waiters in front, and an immediate refusal (503 + Retry-After) beyond that, so an overload
sheds work instead of slowing everyone down together.

The limit is adaptive (`core.telemetry.AdaptiveLimit`, AIMD): each finished run reports its
latency, and the limit grows while latency stays low and shrinks when it rises or runs fail,
within configured bounds. A tenth of the slots are kept for `high` requests, so they start at
once even while normal traffic fills the rest; a full queue gives way to a more urgent arrival
(the newest waiter of the least urgent class is shed). Monitoring reads `stats()` or registers
`on_change`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from api.runs.admission import AdaptiveLimit
from core.settings import Settings
from core.state import Priority

RANK: dict[str, int] = {"high": 0, "normal": 1, "low": 2}


class OverloadedError(Exception):
    """No room to run or to wait; come back after `retry_after_s`."""

    def __init__(self, retry_after_s: int, shed: bool = False) -> None:
        reason = "shed by a more urgent request" if shed else "queue full"
        super().__init__(f"at capacity ({reason}); retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s
        self.shed = shed


@dataclass
class SchedulerStats:
    """What monitoring reads: the gauges now and the counters since start."""

    running: int
    queued: int
    queued_by_priority: dict[str, int]
    max_running: int
    """The adaptive limit now."""
    max_queue: int
    admitted: int
    rejected: int
    shed: int
    completed: int
    mean_run_s: float


@dataclass(order=True)
class _Waiter:
    rank: int
    seq: int
    future: asyncio.Future[None] = field(compare=False)
    priority: str = field(compare=False)


class Ticket:
    """A place in line, then a running slot; `release()` is idempotent."""

    def __init__(self, scheduler: Scheduler, priority: Priority, waiter: _Waiter | None) -> None:
        self._scheduler = scheduler
        self.priority = priority
        self._waiter = waiter
        self._released = False
        self.created = time.perf_counter()
        self.admitted_at: float | None = None if waiter else self.created
        self.started_monotonic = time.monotonic()
        """When the run could start (`time.monotonic()`), for the adaptive limit."""

    @property
    def queued_s(self) -> float:
        end = self.admitted_at or time.perf_counter()
        return end - self.created

    async def wait(self) -> None:
        """Until this ticket may run; raises `OverloadedError` if it is shed meanwhile."""
        if self._waiter is None:
            return
        try:
            await self._waiter.future
        except asyncio.CancelledError:
            self._scheduler._abandon(self._waiter)
            raise
        self.admitted_at = time.perf_counter()
        self.started_monotonic = time.monotonic()

    def release(self, latency_s: float | None = None, ok: bool = True) -> None:
        """Give the slot back; `latency_s` (with `ok`) feeds the adaptive limit: leave it None
        for a run that says nothing about load (cancelled by its client, never started)."""
        if self._released:
            return
        self._released = True
        if self._waiter is not None and not self._waiter.future.done():
            self._scheduler._abandon(self._waiter)
        elif self.admitted_at is not None:
            if latency_s is not None:
                self._scheduler.limit.on_sample(latency_s, ok, self.started_monotonic)
            self._scheduler._finish(time.perf_counter() - self.admitted_at)


class Scheduler:
    """Bounded, adaptive concurrency with a bounded priority queue in front."""

    def __init__(self, limit: AdaptiveLimit, max_queue: int) -> None:
        self.limit = limit
        self.max_queue = max_queue
        self._running = 0
        self._heap: list[_Waiter] = []
        self._seq = itertools.count()
        self._listeners: list[Callable[[SchedulerStats], None]] = []
        self._counts = {"admitted": 0, "rejected": 0, "shed": 0, "completed": 0}
        self._mean_run_s = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Scheduler:
        """The API's scheduler: the limit moves between `admission_min` and `api_max_running`
        (or `admission_max` if lower), from `admission_initial`, by the latency runs report."""
        ceiling = min(settings.api_max_running, settings.admission_max)
        bounds = {
            "admission_min": min(settings.admission_min, ceiling),
            "admission_max": ceiling,
            "admission_initial": min(settings.admission_initial, ceiling),
        }
        return cls(AdaptiveLimit(settings.model_copy(update=bounds)), settings.api_max_queue)

    @property
    def max_running(self) -> int:
        """Runs allowed at once now (the adaptive limit)."""
        return self.limit.limit

    @property
    def high_reserve(self) -> int:
        """Slots only `high` requests may take."""
        return self.max_running // 10

    # --- what monitoring reads ---------------------------------------------------------------

    def on_change(self, listener: Callable[[SchedulerStats], None]) -> None:
        """Call `listener(stats)` after every admission, completion, refusal or shed."""
        self._listeners.append(listener)

    def stats(self) -> SchedulerStats:
        by_priority = dict.fromkeys(RANK, 0)
        for waiter in self._heap:
            if not waiter.future.done():
                by_priority[waiter.priority] += 1
        return SchedulerStats(
            running=self._running,
            queued=sum(by_priority.values()),
            queued_by_priority=by_priority,
            max_running=self.max_running,
            max_queue=self.max_queue,
            mean_run_s=round(self._mean_run_s, 3),
            **self._counts,
        )

    def retry_after_s(self) -> int:
        """A fair guess of when a slot frees up: the queue ahead, drained at the run rate."""
        ahead = len(self._heap) + 1
        return max(1, min(60, math.ceil(self._mean_run_s * ahead / self.max_running)))

    # --- admission ---------------------------------------------------------------------------

    def reserve(self, priority: Priority) -> Ticket:
        """A ticket that runs now or waits in line; raises `OverloadedError` when neither fits."""
        rank = RANK[priority]
        if self._can_start(rank) and not (self._heap and self._heap[0].rank <= rank):
            self._running += 1
            self._counts["admitted"] += 1
            self._notify()
            return Ticket(self, priority, None)
        if len(self._heap) >= self.max_queue and not self._shed_below(rank):
            self._counts["rejected"] += 1
            self._notify()
            raise OverloadedError(self.retry_after_s())
        loop = asyncio.get_running_loop()
        waiter = _Waiter(rank, next(self._seq), loop.create_future(), priority)
        heapq.heappush(self._heap, waiter)
        self._notify()
        return Ticket(self, priority, waiter)

    def _can_start(self, rank: int) -> bool:
        limit = self.max_running - (0 if rank == RANK["high"] else self.high_reserve)
        return self._running < limit

    def _shed_below(self, rank: int) -> bool:
        """Shed the newest waiter of the least urgent class less urgent than `rank`."""
        victims = [w for w in self._heap if w.rank > rank]
        if not victims:
            return False
        victim = max(victims, key=lambda w: (w.rank, w.seq))
        self._heap.remove(victim)
        heapq.heapify(self._heap)
        victim.future.set_exception(OverloadedError(self.retry_after_s(), shed=True))
        self._counts["shed"] += 1
        return True

    def _abandon(self, waiter: _Waiter) -> None:
        if waiter in self._heap:
            self._heap.remove(waiter)
            heapq.heapify(self._heap)
            self._notify()
        elif _admitted(waiter.future):
            # Admitted just as its caller went away: hand the slot on.
            self._finish(None)

    def _finish(self, run_s: float | None) -> None:
        self._running -= 1
        if run_s is not None:
            self._counts["completed"] += 1
            self._mean_run_s = 0.9 * self._mean_run_s + 0.1 * run_s
        while self._heap and self._can_start(self._heap[0].rank):
            waiter = heapq.heappop(self._heap)
            if waiter.future.done():
                continue
            self._running += 1
            self._counts["admitted"] += 1
            waiter.future.set_result(None)
        self._notify()

    def _notify(self) -> None:
        if self._listeners:
            stats = self.stats()
            for listener in self._listeners:
                listener(stats)


def _admitted(future: asyncio.Future[None]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
