"""How the Redis saver lays checkpoints out in keys, and how it encodes and decodes records.

Per thread T (all keys share one TTL, refreshed on every write to the thread):
  {prefix}:cp:T  hash  "ns\\0id" -> the checkpoint's channel pairs (\\x1e-joined), \\x1d, then
                 its record (checkpoint without values, metadata, parent id). A pair is
                 "channel\\0version", plus "\\0n" when the value is None or "\\0e" when the
                 channel is empty: those have no blob.
  {prefix}:ix:T  zset  "ns\\0id" (score 0, ordered by lex; ids are time-ordered uuid6)
  {prefix}:bl:T  hash  "ns\\0channel\\0version" -> value, written once per channel version;
                 "\\0\\0" + digest -> a large value, stored once however many blobs and writes
                 hold it (they hold "@\\0" + digest instead; a list holds "@L\\0" and its
                 framed elements, each a value or such a reference)
  {prefix}:wx:T  zset  "ns\\0id\\0task\\0" + framed [task path, (idx, channel, value)...]: one
                 entry per task of a checkpoint, by lex (one range per checkpoint)
  {prefix}:tr:T  set   run ids that wrote to the thread
Global: {prefix}:threads zset thread -> last write (ms); {prefix}:run:R set of packed
(thread, ns, id) written by run R. A value is "kind\\0data" in the serializer's terms.
"""

from __future__ import annotations

import hashlib
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
REF = b"@\x00"
"""Start of a value stored by digest: REF + digest."""
DIGEST_FIELD = b"\x00\x00"
"""Start of the blob hash field that holds a value by digest: DIGEST_FIELD + digest."""
LIST_REF = b"@L\x00"
"""Start of a list stored element by element: LIST_REF + framed elements (each a value or a
REF), so a reducer's growing list (a run's history) holds each element once, not once per
version of the list."""
REF_MIN_BYTES = 256
"""Values at least this large are stored by digest: a draft written by a task and then held
by the next checkpoint's channel is stored once, not twice."""
NONE_FLAG, EMPTY_FLAG = "n", "e"
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


def unframe(data: bytes) -> list[bytes]:
    """The items of a `frame`."""
    items, pos = [], 0
    while pos < len(data):
        colon = data.index(b":", pos)
        end = colon + 1 + int(data[pos:colon])
        items.append(data[colon + 1 : end])
        pos = end
    return items


def blob_pairs(pairs: bytes | str) -> list[str]:
    """The "channel\\0version" pairs of a record's pair list that have a blob."""
    text = pairs.decode() if isinstance(pairs, bytes) else pairs
    return [p for p in text.split(PAIR_SEP) if p and p.count(SEP) == 1]


def value_refs(value: bytes) -> list[bytes]:
    """Digest fields a stored value refers to."""
    if value.startswith(LIST_REF):
        return [ref for item in unframe(value[len(LIST_REF) :]) for ref in value_refs(item)]
    return [DIGEST_FIELD + value[len(REF) :]] if value.startswith(REF) else []


def write_refs(entry: bytes) -> list[bytes]:
    """Digest fields the values of one write entry refer to."""
    _, _, _, payload = entry.split(b"\x00", 3)
    return [ref for value in unframe(payload)[3::3] for ref in value_refs(value)]


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
        pairs = PAIR_SEP.join(
            f"{ch}{SEP}{version_key(ver)}{_flag(values, ch)}" for ch, ver in versions.items()
        )
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
            if _flag(values, ch):
                continue  # None or empty: the pair says so, no blob
            value, digests = self.encode_value(values[ch])
            items += digests
            items += [f"{ns}{SEP}{ch}{SEP}{version_key(ver)}", value]
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
        prefix = f"{member(ns, conf['checkpoint_id'])}{SEP}{task_id}{SEP}"
        digests: list[bytes] = []
        triples: list[bytes | str] = []
        for idx, (channel, value) in enumerate(writes):
            encoded, refs = self.encode_value(value)
            digests += refs
            triples += [str(WRITES_IDX_MAP.get(channel, idx)), channel, encoded]
        items = [prefix, task_path, str(len(digests) // 2), *digests, *triples]
        return self.script_keys(thread_id), [thread_id, frame(items)]

    def encode_value(self, value: Any) -> tuple[bytes, list[bytes]]:
        """The value as stored in a blob or write, and the [digest field, value] pairs to store
        with it: large values are kept by digest, and so are the large elements of a list."""
        if type(value) is list and value:
            items, digests = [], []
            for element in value:
                encoded, refs = self._encode_one(element)
                items.append(encoded)
                digests += refs
            if digests:
                return LIST_REF + frame(items), digests
        return self._encode_one(value)

    def _encode_one(self, value: Any) -> tuple[bytes, list[bytes]]:
        kind, data = self.serde.dumps_typed(value)
        encoded = kind.encode() + b"\x00" + data
        if len(encoded) < REF_MIN_BYTES:
            return encoded, []
        digest = hashlib.blake2b(encoded, digest_size=16).digest()
        return REF + digest, [DIGEST_FIELD + digest, encoded]

    # --- reading ------------------------------------------------------------------------------

    def metadata(self, stored: bytes) -> CheckpointMetadata:
        _, _, md_kind, md_data, _ = ormsgpack.unpackb(stored.partition(LIST_END)[2])
        return self.serde.loads_typed((md_kind, md_data))  # type: ignore[no-any-return]

    def to_tuple(self, thread_id: str, ns: str, reply: Sequence[Any]) -> CheckpointTuple:
        """The tuple from a GET script reply
        `[id, record, blob fields, blobs, writes, digest fields, digested values]`."""
        raw_id, stored, fields, blobs, writes, ref_fields, ref_values = reply
        by_digest = dict(zip(ref_fields, ref_values, strict=True))
        checkpoint_id = raw_id.decode()
        pairs, _, record = stored.partition(LIST_END)
        ck_kind, ck_data, md_kind, md_data, parent_id = ormsgpack.unpackb(record)
        checkpoint: Checkpoint = self.serde.loads_typed((ck_kind, ck_data))
        checkpoint["id"] = checkpoint_id
        versions, values = {}, {}
        for pair in pairs.decode().split(PAIR_SEP):
            if not pair:
                continue
            ch, ver, *flag = pair.split(SEP)
            versions[ch] = parse_version(ver)
            if flag == [NONE_FLAG]:
                values[ch] = None
        checkpoint["channel_versions"] = versions
        for field, blob in zip(fields, blobs, strict=True):
            if blob:
                channel = field.decode().split(SEP, 1)[1].rpartition(SEP)[0]
                values[channel] = self._load(blob, by_digest)
        checkpoint["channel_values"] = {ch: v for ch, v in values.items() if v is not _EMPTY}
        return CheckpointTuple(
            config=checkpoint_config(thread_id, ns, checkpoint_id),
            checkpoint=checkpoint,
            metadata=self.serde.loads_typed((md_kind, md_data)),
            parent_config=checkpoint_config(thread_id, ns, parent_id) if parent_id else None,
            pending_writes=self._writes(writes, by_digest),
        )

    def _load(self, value: bytes, by_digest: dict[bytes, bytes | None]) -> Any:
        if value.startswith(LIST_REF):
            return [self._load(item, by_digest) for item in unframe(value[len(LIST_REF) :])]
        if value.startswith(REF):
            value = by_digest.get(DIGEST_FIELD + value[len(REF) :]) or b"empty\x00"
        kind, _, data = value.partition(b"\x00")
        if kind == b"empty":
            return _EMPTY
        return self.serde.loads_typed((kind.decode(), data))

    def _writes(
        self, raw: Iterable[bytes], by_digest: dict[bytes, bytes | None]
    ) -> list[PendingWrite]:
        rows = []
        for entry in raw:
            _, _, task_id, payload = entry.split(b"\x00", 3)
            task_path, *triples = unframe(payload)
            for idx, channel, value in zip(triples[::3], triples[1::3], triples[2::3], strict=True):
                rows.append((task_path.decode(), task_id.decode(), int(idx), channel, value))
        rows.sort(key=lambda r: writes_sort_key(r[0], r[1], r[2]))
        return [(task, ch.decode(), self._load(v, by_digest)) for _, task, _, ch, v in rows]


class _Empty:
    """A channel with no value (stored as the "empty" kind): left out of `channel_values`."""


_EMPTY = _Empty()


def _flag(values: dict[str, Any], channel: str) -> str:
    if channel not in values:
        return f"{SEP}{EMPTY_FLAG}"
    return f"{SEP}{NONE_FLAG}" if values[channel] is None else ""
