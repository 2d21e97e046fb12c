"""The saver's multi-step operations, written once without I/O and run by a sync or async driver.

A plan is a generator that yields `Batch` (a pipeline; the driver sends back its replies),
`Txn` (an optimistic WATCH/MULTI transaction; the driver sends back the EXEC replies) or an
output item for the caller (a `CheckpointTuple`, a `ThreadInfo`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ormsgpack
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import get_checkpoint_id
from pydantic import BaseModel

from core.checkpoint import _lua
from core.checkpoint._layout import (
    BL,
    CP,
    IX,
    LIST_END,
    SEP,
    TR,
    WX,
    Layout,
    blob_pairs,
    member,
    value_refs,
    write_refs,
)

Command = tuple[Any, ...]
_FETCH_CHUNK = 64


@dataclass
class Batch:
    """Commands sent in one pipeline; `atomic` wraps them in MULTI/EXEC."""

    cmds: list[Command]
    atomic: bool = False


@dataclass
class Txn:
    """WATCH `watch`, run `reads`, then EXEC what `plan(replies)` returns; retried on conflict."""

    watch: list[str]
    reads: list[Command]
    plan: Callable[[list[Any]], list[Command]] = field(repr=False)


class ThreadInfo(BaseModel):
    """One thread as the threads index knows it."""

    thread_id: str
    updated_at: datetime
    checkpoints: int


Plan = Generator[Any, Any, None]


def list_plan(
    layout: Layout,
    config: RunnableConfig | None,
    filter: dict[str, Any] | None,
    before: RunnableConfig | None,
    limit: int | None,
) -> Plan:
    """Checkpoints newest first, across threads when `config` is None."""
    if config is None:
        (ranked,) = yield Batch([("ZREVRANGE", layout.threads_key, 0, -1)])
        thread_ids = [raw.decode() for raw in ranked]
    else:
        thread_ids = [str(config["configurable"]["thread_id"])]
    conf = config["configurable"] if config else {}
    ns_only: str | None = conf.get("checkpoint_ns")
    wanted_id = get_checkpoint_id(config) if config else None
    before_id = get_checkpoint_id(before) if before else None
    remaining = limit
    for thread_id in thread_ids:
        keys = layout.thread_keys(thread_id)
        (raw_members,) = yield Batch([("ZRANGE", keys[IX], 0, -1)])
        candidates = []
        for raw in raw_members:
            ns, checkpoint_id = raw.decode().split(SEP, 1)
            if ns_only is not None and ns != ns_only:
                continue
            if wanted_id and checkpoint_id != wanted_id:
                continue
            if before_id and checkpoint_id >= before_id:
                continue
            candidates.append((ns, checkpoint_id))
        candidates.sort(key=lambda c: c[1], reverse=True)
        for start in range(0, len(candidates), _FETCH_CHUNK):
            chunk = candidates[start : start + _FETCH_CHUNK]
            replies = yield Batch(
                [("EVALSHA", _lua.GET.sha, len(keys), *keys, ns, cid) for ns, cid in chunk]
            )
            for (ns, _), reply in zip(chunk, replies, strict=True):
                if not reply or not _matches(layout, reply[1], filter):
                    continue
                if remaining is not None and remaining <= 0:
                    return
                yield layout.to_tuple(thread_id, ns, reply)
                if remaining is not None:
                    remaining -= 1


def _matches(layout: Layout, record: bytes, filter: dict[str, Any] | None) -> bool:
    if not filter:
        return True
    metadata = layout.metadata(record)
    return all(metadata.get(key) == value for key, value in filter.items())


def delete_thread_plan(layout: Layout, thread_ids: Sequence[str]) -> Plan:
    """Every key of the threads, and their entries in the threads index, in one transaction."""
    cmds: list[Command] = []
    for thread_id in thread_ids:
        cmds += [("DEL", *layout.thread_keys(thread_id)), ("ZREM", layout.threads_key, thread_id)]
    if cmds:
        yield Batch(cmds, atomic=True)


def drop_txn(layout: Layout, thread_id: str, select: Callable[[list[str]], set[str]]) -> Txn:
    """Drop the checkpoints `select(members)` names, their writes and the values left unused."""
    keys = layout.thread_keys(thread_id)
    reads: list[Command] = [
        ("ZRANGE", keys[IX], 0, -1),
        ("ZRANGE", keys[WX], 0, -1),
        ("HGETALL", keys[CP]),
        ("HGETALL", keys[BL]),
    ]

    def plan(replies: list[Any]) -> list[Command]:
        raw_members, raw_writes, stored, blobs = replies
        members = [m.decode() for m in raw_members]
        doomed = select(members)
        if not doomed:
            return []
        if not set(members) - doomed:
            return [("DEL", *keys), ("ZREM", layout.threads_key, thread_id)]
        writes, kept_writes = [], []
        for w in raw_writes:
            doomed_write = b"\x00".join(w.split(b"\x00", 2)[:2]).decode() in doomed
            (writes if doomed_write else kept_writes).append(w)
        used: set[bytes] = set()
        for raw_member, value in stored.items():
            if raw_member.decode() in doomed:
                continue
            ns = raw_member.decode().partition(SEP)[0]
            pairs = value.partition(LIST_END)[0]
            used.update(f"{ns}{SEP}{pair}".encode() for pair in blob_pairs(pairs))
        used.update([ref for f, v in blobs.items() if f in used for ref in value_refs(v)])
        for w in kept_writes:
            used.update(write_refs(w))
        unused = [f for f in blobs if f not in used]
        cmds: list[Command] = [("HDEL", keys[CP], *doomed), ("ZREM", keys[IX], *doomed)]
        if writes:
            cmds.append(("ZREM", keys[WX], *writes))
        if unused:
            cmds.append(("HDEL", keys[BL], *unused))
        return cmds

    return Txn(watch=[keys[IX], keys[WX], keys[CP], keys[BL]], reads=reads, plan=plan)


def _all_but_latest(members: list[str]) -> set[str]:
    latest: dict[str, str] = {}
    for m in members:
        ns, checkpoint_id = m.split(SEP, 1)
        latest[ns] = max(latest.get(ns, ""), checkpoint_id)
    return set(members) - {member(ns, checkpoint_id) for ns, checkpoint_id in latest.items()}


def prune_plan(layout: Layout, thread_ids: Sequence[str], strategy: str) -> Plan:
    """`keep_latest`: the newest checkpoint per namespace survives; `delete`: nothing does."""
    if strategy == "delete":
        yield from delete_thread_plan(layout, thread_ids)
    elif strategy == "keep_latest":
        for thread_id in thread_ids:
            yield drop_txn(layout, thread_id, _all_but_latest)
    else:
        raise ValueError(f"unknown prune strategy {strategy!r}; use 'keep_latest' or 'delete'")


def delete_for_runs_plan(layout: Layout, run_ids: Sequence[str]) -> Plan:
    """The checkpoints (and writes, and now unused blobs) that the runs wrote."""
    run_ids = [str(r) for r in run_ids]
    if not run_ids:
        return
    sets = yield Batch([("SMEMBERS", layout.run_key(r)) for r in run_ids])
    by_thread: dict[str, set[str]] = {}
    for entries in sets:
        for raw in entries:
            thread_id, ns, checkpoint_id = ormsgpack.unpackb(raw)
            by_thread.setdefault(thread_id, set()).add(member(ns, checkpoint_id))
    for thread_id, wanted in by_thread.items():
        yield drop_txn(layout, thread_id, lambda members, w=wanted: w & set(members))  # type: ignore[misc]
    cleanup: list[Command] = [("DEL", *(layout.run_key(r) for r in run_ids))]
    cleanup += [("SREM", layout.thread_keys(t)[TR], *run_ids) for t in by_thread]
    yield Batch(cleanup, atomic=True)


def copy_plan(layout: Layout, source: str, target: str, ttl_s: int | None) -> Plan:
    """Every checkpoint, blob and write of `source` onto `target` (merged into what it has)."""
    src, dst = layout.thread_keys(source), layout.thread_keys(target)
    snapshot = yield Batch(
        [
            ("HGETALL", src[CP]),
            ("ZRANGE", src[IX], 0, -1),
            ("HGETALL", src[BL]),
            ("ZRANGE", src[WX], 0, -1),
            ("SMEMBERS", src[TR]),
        ],
        atomic=True,
    )
    records, members, blobs, writes, runs = snapshot
    if not members:
        return
    run_ids = sorted(r.decode() for r in runs)
    run_sets = (yield Batch([("SMEMBERS", layout.run_key(r)) for r in run_ids])) if run_ids else []
    cmds: list[Command] = [("ZADD", dst[IX], *_scored(members))]
    for key, mapping in ((dst[CP], records), (dst[BL], blobs)):
        if mapping:
            cmds.append(("HSET", key, *_flat(mapping)))
    if writes:
        cmds.append(("ZADD", dst[WX], *_scored(writes)))
    touched = list(dst)
    for run_id, entries in zip(run_ids, run_sets, strict=True):
        copied = [_retarget(raw, source, target) for raw in entries]
        copied = [c for c in copied if c is not None]
        if copied:
            cmds += [("SADD", layout.run_key(run_id), *copied), ("SADD", dst[TR], run_id)]
            touched.append(layout.run_key(run_id))
    cmds.append(("ZADD", layout.threads_key, _now_ms(), target))
    if ttl_s:
        cmds += [("EXPIRE", key, ttl_s) for key in touched]
    yield Batch(cmds, atomic=True)


def _retarget(raw: bytes, source: str, target: str) -> bytes | None:
    thread_id, ns, checkpoint_id = ormsgpack.unpackb(raw)
    return ormsgpack.packb([target, ns, checkpoint_id]) if thread_id == source else None


def _flat(mapping: dict[bytes, bytes]) -> list[bytes]:
    return [item for pair in mapping.items() for item in pair]


def _scored(members: list[bytes]) -> list[Any]:
    return [item for m in members for item in (0, m)]


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def threads_plan(layout: Layout, older_than: datetime | None = None) -> Plan:
    """Threads, most recently written first (only those last written before `older_than`).

    Entries whose keys expired (retention TTL) are dropped from the index on the way.
    """
    top = older_than.timestamp() * 1000 if older_than else "+inf"
    (ranked,) = yield Batch([("ZREVRANGEBYSCORE", layout.threads_key, top, "-inf", "WITHSCORES")])
    if ranked and not isinstance(ranked[0], tuple | list):
        ranked = list(zip(ranked[::2], ranked[1::2], strict=True))
    pairs = [(raw.decode(), float(score)) for raw, score in ranked]
    counts = yield Batch([("ZCARD", layout.thread_keys(t)[IX]) for t, _ in pairs])
    stale = [t for (t, _), n in zip(pairs, counts, strict=True) if not n]
    if stale:
        yield Batch([("ZREM", layout.threads_key, *stale)])
    for (thread_id, score), count in zip(pairs, counts, strict=True):
        if count:
            updated = datetime.fromtimestamp(score / 1000, tz=UTC)
            yield ThreadInfo(thread_id=thread_id, updated_at=updated, checkpoints=count)
