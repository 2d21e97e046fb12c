"""User feedback in Redis, the one store of it: explicit ratings (with a comment) and implicit
signals against a run and its experiment variant, a run's reviews (a person's decisions at its
review points), the export of well-rated (task, answer) pairs as JSONL for fine-tuning or
distillation, and of the reviews' preference pairs (draft, corrected). A run's id is its thread
id; who may rate it is the caller's business (the API checks that the thread belongs to the
key)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import IO, Any, Literal

import redis.asyncio as aredis
from pydantic import BaseModel, Field

from core.review import preference_pairs
from core.settings import Settings, get_settings
from core.telemetry.metrics import FEEDBACK

__all__ = ["FeedbackStore", "Rating", "RunRecord", "Signal", "UnknownRunError"]

Rating = Literal["up", "down"]
Signal = Literal["copied", "regenerated", "abandoned"]
SIGNALS: tuple[Signal, ...] = ("copied", "regenerated", "abandoned")
NO_VARIANT = "-"


class UnknownRunError(LookupError):
    """Feedback named a run this store does not know (never finished, or expired)."""


class RunRecord(BaseModel):
    """What feedback is recorded against: a finished run, its request and its variant."""

    run_id: str
    """The thread id (a resumed thread's later run replaces the earlier record)."""
    task: str
    answer: str | None = None
    """None while the run goes on, or when it did not finish (it can still get signals)."""
    execution_id: str | None = None
    """The id of the execution that wrote the record (the API's `run_id`)."""
    score: float | None = None
    request_type: str = "open"
    config: str | None = None
    experiment: str | None = None
    variant: str | None = None
    created: float = Field(default_factory=time.time)
    rating: Rating | None = None
    comment: str | None = None
    signals: dict[str, int] = Field(default_factory=dict)
    reviews: list[dict[str, Any]] = Field(default_factory=list)
    """Every review of the run (`core.review.review_record`), in order."""


class FeedbackStore:
    """Runs and their feedback, kept `feedback_ttl_s`; counters per experiment variant."""

    def __init__(self, redis: aredis.Redis, prefix: str, settings: Settings | None = None) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:feedback"
        self.settings = settings or get_settings()

    def _run_key(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}"

    def variant_key(self, experiment: str | None, variant: str | None) -> str:
        return f"{self.prefix}:variant:{experiment or NO_VARIANT}:{variant or NO_VARIANT}"

    async def remember_run(self, record: RunRecord) -> None:
        """Keep a run (when it starts, again when it finishes) so that feedback and the export
        can refer to it; fields left None keep what an earlier call wrote."""
        body = record.model_dump(
            mode="json", exclude={"rating", "comment", "signals", "reviews"}, exclude_none=True
        )
        fields = {k: json.dumps(v) for k, v in body.items()}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._run_key(record.run_id), mapping=fields)
            pipe.expire(self._run_key(record.run_id), self.settings.feedback_ttl_s)
            await pipe.execute()

    async def run(self, run_id: str) -> RunRecord:
        raw = await self.redis.hgetall(self._run_key(run_id))
        if not raw:
            raise UnknownRunError(run_id)
        return _record_of(raw)

    async def rate(self, run_id: str, rating: Rating, comment: str | None = None) -> RunRecord:
        """An explicit rating (a later rating of the same run replaces the earlier one)."""
        record = await self.run(run_id)
        counters = self.variant_key(record.experiment, record.variant)
        async with self.redis.pipeline(transaction=True) as pipe:
            if record.rating is not None:
                pipe.hincrby(counters, record.rating, -1)
            pipe.hincrby(counters, rating, 1)
            pipe.hset(self._run_key(run_id), "rating", json.dumps(rating))
            if comment is not None:
                pipe.hset(self._run_key(run_id), "comment", json.dumps(comment))
            pipe.zadd(f"{self.prefix}:rated", {run_id: time.time()})
            await pipe.execute()
        FEEDBACK.labels("rating", rating, record.variant or NO_VARIANT).inc()
        return record.model_copy(update={"rating": rating, "comment": comment})

    async def signal(self, run_id: str, signal: Signal) -> RunRecord:
        """An implicit signal: the answer was copied, regenerated or abandoned."""
        record = await self.run(run_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(self._run_key(run_id), f"signal:{signal}", 1)
            pipe.hincrby(self.variant_key(record.experiment, record.variant), signal, 1)
            pipe.zadd(f"{self.prefix}:rated", {run_id: time.time()})
            await pipe.execute()
        FEEDBACK.labels("signal", signal, record.variant or NO_VARIANT).inc()
        return record

    async def save_reviews(self, run_id: str, reviews: list[dict[str, Any]]) -> None:
        """Keep the run's reviews so far (all of them: a later call replaces the list)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._run_key(run_id), "reviews", json.dumps(reviews))
            pipe.expire(self._run_key(run_id), self.settings.feedback_ttl_s)
            pipe.zadd(f"{self.prefix}:reviewed", {run_id: time.time()})
            await pipe.execute()

    async def export_pairs(self, out: IO[str], batch: int = 500) -> int:
        """Write the reviews' preference pairs as JSONL (`prompt`, `chosen`, `rejected`, the
        shape DPO trainers read, with the run and the kind of review); returns how many."""
        written = 0
        async for record in self._records("reviewed", batch):
            for pair in preference_pairs(record.task, record.reviews):
                extra = {"run_id": record.run_id, "config": record.config}
                out.write(json.dumps(pair | extra, ensure_ascii=False) + "\n")
                written += 1
        return written

    async def variant_counts(self, experiment: str | None, variant: str | None) -> dict[str, int]:
        """Ratings (`up`, `down`) and signals recorded against one variant."""
        raw = await self.redis.hgetall(self.variant_key(experiment, variant))
        return {_text(k): int(v) for k, v in raw.items()}

    async def with_feedback(self, batch: int = 500) -> AsyncIterator[RunRecord]:
        """Every run that got feedback and is still kept, oldest feedback first."""
        async for record in self._records("rated", batch):
            yield record

    async def reviewed(self, batch: int = 500) -> AsyncIterator[RunRecord]:
        """Every run a person reviewed and still kept, oldest review first."""
        async for record in self._records("reviewed", batch):
            yield record

    async def _records(self, index: str, batch: int) -> AsyncIterator[RunRecord]:
        """The runs in one of the store's indexes (`rated`, `reviewed`) still kept, oldest
        first, fetched `batch` at a time."""
        start = 0
        while ids := await self.redis.zrange(f"{self.prefix}:{index}", start, start + batch - 1):
            async with self.redis.pipeline(transaction=False) as pipe:
                for run_id in ids:
                    pipe.hgetall(self._run_key(_text(run_id)))
                rows = await pipe.execute()
            for row in rows:
                if row:
                    yield _record_of(row)
            start += batch

    async def export(
        self, out: IO[str], *, min_score: float | None = None, include_implicit: bool = False
    ) -> int:
        """Write well-rated (task, answer) pairs as JSONL (chat `messages` and plain fields);
        returns how many. Well-rated: thumbs up, or with `include_implicit` copied and never
        rated down or regenerated."""
        written = 0
        async for record in self.with_feedback():
            if record.answer is None or not _well_rated(record, include_implicit):
                continue
            if min_score is not None and (record.score is None or record.score < min_score):
                continue
            row = {
                "messages": [
                    {"role": "user", "content": record.task},
                    {"role": "assistant", "content": record.answer},
                ],
                "task": record.task,
                "answer": record.answer,
                "run_id": record.run_id,
                "score": record.score,
                "rating": record.rating,
                "signals": record.signals,
                "config": record.config,
                "variant": record.variant,
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
        return written


def _well_rated(record: RunRecord, include_implicit: bool) -> bool:
    if record.rating is not None:
        return record.rating == "up"
    signals = record.signals
    return include_implicit and signals.get("copied", 0) > 0 and not signals.get("regenerated")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _record_of(raw: dict[bytes | str, bytes | str]) -> RunRecord:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    signals = {k.split(":", 1)[1]: int(v) for k, v in fields.items() if k.startswith("signal:")}
    body = {k: json.loads(v) for k, v in fields.items() if not k.startswith("signal:")}
    return RunRecord.model_validate({**body, "signals": signals})
