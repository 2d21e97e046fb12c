"""The reaper: every replica looks, every `api_reaper_interval_s` (jittered), for runs whose
replica died (still listed as active, lease expired) and resumes them from their checkpoint,
publishing their events as a stream would. Only the replica that wins a run's lease resumes it,
so an orphan is taken over once, however many replicas look."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid

from redis.exceptions import RedisError

from api.runs.execute import RunSpec, execute
from api.runs.scheduler import OverloadedError
from api.services import Services
from api.streaming import spawn_run

log = logging.getLogger("refinery.api")


async def reap_once(services: Services) -> list[str]:
    """Resume here every orphan this replica wins; the ids of the threads it took over."""
    taken = []
    for thread_id in await services.leases.orphans():
        if await _recover(services, thread_id):
            taken.append(thread_id)
    return taken


async def _recover(services: Services, thread_id: str) -> bool:
    try:
        ticket = services.scheduler.reserve("high")  # it was admitted once already
    except OverloadedError:
        return False  # full here: another replica, or the next round, takes it
    run_id = uuid.uuid4().hex
    lease = await services.leases.acquire(thread_id, run_id, "recovered")
    if lease is None:
        ticket.release()
        return False
    record = await services.threads.record(thread_id)
    snapshot = await services.graph.aget_state({"configurable": {"thread_id": thread_id}})
    # Finished: no task left, not even one whose writes were saved before its replica died
    # (`snapshot.next` leaves those out; a resume applies their writes and goes on).
    if record is None or (snapshot.values and not snapshot.tasks):
        log.warning(
            "an orphan needs no resume: %s",
            "finished" if record else "expired",
            extra={"thread_id": thread_id},
        )
        await lease.release("finished_before")
        ticket.release()
        return False
    spec = RunSpec(
        thread_id=thread_id,
        key_id=record["owner"],
        request=record["request"],
        resume=bool(snapshot.values),
        experiment=record.get("experiment"),
        variant=record.get("variant"),
    )
    log.warning("resuming a run whose replica died", extra={"thread_id": thread_id})
    spawn_run(
        services, thread_id, lambda emit: execute(services, ticket, spec, emit=emit, lease=lease)
    )
    return True


async def reap_forever(services: Services) -> None:
    """The reaper loop of this replica (not started when the interval is 0)."""
    interval = services.settings.api_reaper_interval_s
    while True:
        await asyncio.sleep(interval * random.uniform(0.5, 1.5))  # replicas do not look in step
        try:
            await reap_once(services)
        except (RedisError, OSError) as exc:
            log.warning("reaper round failed", extra={"error": str(exc)})
        except Exception:
            log.exception("reaper round failed")
