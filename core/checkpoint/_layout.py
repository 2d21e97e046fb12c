"""How the Redis saver lays checkpoints out in keys, and how it encodes and decodes records.

Per thread T (all keys share one TTL, refreshed on every write to the thread):
  {prefix}:cp:T  hash  "ns\\0id" -> the checkpoint's "channel\\0version" pairs (\\x1e-joined),
                 \\x1d, then its record (checkpoint without values, metadata, parent id)
  {prefix}:ix:T  zset  "ns\\0id" (score 0, ordered by lex; ids are time-ordered uuid6)
  {prefix}:bl:T  hash  "ns\\0channel\\0version" -> blob, written once per channel version
  {prefix}:wx:T  zset  "ns\\0id\\0task\\0idx\\0" + write (by lex: one range per checkpoint)
  {prefix}:tr:T  set   run ids that wrote to the thread
Global: {prefix}:threads zset thread -> last write (ms); {prefix}:run:R set of packed
(thread, ns, id) written by run R.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import ormsgpack
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    get_serializable_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

SEP = "\x00"
PAIR_SEP = "\x1e"
LIST_END = b"\x1d"
CP, IX, BL, WX, TR = range(5)
"""Positions of a thread's keys in `Layout.thread_keys`."""


def version_key(version: str | int | float) -> str:
    """A channel version as text in keys; `#` marks numbers so they read back as numbers."""
    return version if isinstance(version, str) else f"#{version!r}"


def parse_version(text: str) -> str | int | float:
    if not text.startswith("#"):
        return text
    number = float(text[1:])
    return int(number) if number.is_integer() and "." not in text else number


def member(ns: str, checkpoint_id: str) -> str:
    return f"{ns}{SEP}{checkpoint_id}"


def split_member(raw: bytes | str) -> tuple[str, str]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ns, _, checkpoint_id = text.rpartition(SEP)
    return ns, checkpoint_id


def checkpoint_config(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": ns,
            "checkpoint_id": checkpoint_id,
        }
    }


def frame(items: Iterable[bytes | str]) -> bytes:
    """Items as one argument, each `<length>:<bytes>`; the scripts' `unframe` splits them."""
    parts = []
    for item in items:
        data = item.encode() if isinstance(item, str) else item
        parts.append(b"%d:%s" % (len(data), data))
    return b"".join(parts)


class Layout:
    """Key names under one prefix, and the record codec on one serializer."""

    def __init__(self, prefix: str, serde: SerializerProtocol) -> None:
        self.prefix = prefix
        self.serde = serde
        self.threads_key = f"{prefix}:threads"

    def thread_keys(self, thread_id: str) -> list[str]:
        p = self.prefix
        return [f"{p}:{kind}:{thread_id}" for kind in ("cp", "ix", "bl", "wx", "tr")]

    def script_keys(self, thread_id: str) -> list[str]:
        return [*self.thread_keys(thread_id), self.threads_key]

    def run_key(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}"

    # --- writing ------------------------------------------------------------------------------

    def put_args(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> tuple[list[str], list[Any], RunnableConfig]:
        """Keys and arguments of the PUT script (after ttl and time), and the config to return."""
        conf = config["configurable"]
        thread_id, ns = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        stored = dict(checkpoint)
        values: dict[str, Any] = stored.pop("channel_values", {})  # type: ignore[assignment]
        # The versions live in the pair list the scripts read, and the id in the member.
        versions: ChannelVersions = stored.pop("channel_versions", {})  # type: ignore[assignment]
        stored.pop("id", None)
        md = get_serializable_checkpoint_metadata(config, metadata)
        record = ormsgpack.packb(
            [
                *self.serde.dumps_typed(stored),
                *self.serde.dumps_typed(md),
                conf.get("checkpoint_id"),
            ]
        )
        pairs = PAIR_SEP.join(f"{ch}{SEP}{version_key(ver)}" for ch, ver in versions.items())
        run_id = str(md.get("run_id") or "")
        keys = self.script_keys(thread_id)
        items: list[bytes | str] = [
            member(ns, checkpoint["id"]),
            pairs.encode() + LIST_END + record,
        ]
        items += [run_id, b""]
        if run_id:
            keys.append(self.run_key(run_id))
            items[3] = ormsgpack.packb([thread_id, ns, checkpoint["id"]])
        for ch, ver in new_versions.items():
            items.append(f"{ns}{SEP}{ch}{SEP}{version_key(ver)}")
            items.append(self.encode_blob(values[ch]) if ch in values else b"empty\x00")
        return keys, [thread_id, frame(items)], checkpoint_config(thread_id, ns, checkpoint["id"])

    def put_writes_args(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> tuple[list[str], list[Any]]:
        """Keys and arguments of the PUT_WRITES script (after ttl and time)."""
        conf = config["configurable"]
        thread_id, ns = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        base = member(ns, conf["checkpoint_id"])
        items: list[bytes | str] = []
        for idx, (channel, value) in enumerate(writes):
            slot = WRITES_IDX_MAP.get(channel, idx)
            packed = ormsgpack.packb([channel, *self.serde.dumps_typed(value), task_path])
            items += ["s" if slot < 0 else "n", f"{base}{SEP}{task_id}{SEP}{slot}", packed]
        return self.script_keys(thread_id), [thread_id, frame(items)]

    def encode_blob(self, value: Any) -> bytes:
        kind, data = self.serde.dumps_typed(value)
        return kind.encode() + b"\x00" + data

    # --- reading ------------------------------------------------------------------------------

    def metadata(self, stored: bytes) -> CheckpointMetadata:
        _, _, md_kind, md_data, _ = ormsgpack.unpackb(stored.partition(LIST_END)[2])
        return self.serde.loads_typed((md_kind, md_data))  # type: ignore[no-any-return]

    def to_tuple(self, thread_id: str, ns: str, reply: Sequence[Any]) -> CheckpointTuple:
        """The tuple from a GET script reply `[id, record, blob fields, blobs, writes]`."""
        raw_id, stored, fields, blobs, writes = reply
        checkpoint_id = raw_id.decode()
        pairs, _, record = stored.partition(LIST_END)
        ck_kind, ck_data, md_kind, md_data, parent_id = ormsgpack.unpackb(record)
        checkpoint: Checkpoint = self.serde.loads_typed((ck_kind, ck_data))
        checkpoint["id"] = checkpoint_id
        checkpoint["channel_versions"] = {
            ch: parse_version(ver)
            for ch, _, ver in (p.rpartition(SEP) for p in pairs.decode().split(PAIR_SEP) if p)
        }
        checkpoint["channel_values"] = self._values(fields, blobs)
        return CheckpointTuple(
            config=checkpoint_config(thread_id, ns, checkpoint_id),
            checkpoint=checkpoint,
            metadata=self.serde.loads_typed((md_kind, md_data)),
            parent_config=checkpoint_config(thread_id, ns, parent_id) if parent_id else None,
            pending_writes=self._writes(writes),
        )

    def _values(self, fields: Iterable[bytes], blobs: Iterable[bytes | None]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field, blob in zip(fields, blobs, strict=True):
            if not blob:
                continue
            kind, _, data = blob.partition(b"\x00")
            if kind == b"empty":
                continue
            channel = field.decode().split(SEP, 1)[1].rpartition(SEP)[0]
            values[channel] = self.serde.loads_typed((kind.decode(), data))
        return values

    def _writes(self, raw: Iterable[bytes]) -> list[PendingWrite]:
        rows = []
        for item in raw:
            _, _, task_id, idx, packed = item.split(b"\x00", 4)
            channel, kind, data, task_path = ormsgpack.unpackb(packed)
            rows.append((task_path, task_id.decode(), int(idx), channel, kind, data))
        rows.sort(key=lambda r: writes_sort_key(r[0], r[1], r[2]))
        return [
            (task, ch, self.serde.loads_typed((kind, data))) for _, task, _, ch, kind, data in rows
        ]
