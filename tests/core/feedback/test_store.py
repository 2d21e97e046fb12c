"""Feedback in Redis: ratings and signals against a run and its variant, and `refinery feedback
export` writing the well-rated (task, answer) pairs as JSONL (run as a real subprocess)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.feedback.store import UnknownRunError
from tests.core.conftest import MakeTelemetry


def _run(n: int, score: float) -> dict[str, object]:
    return {"thread_id": f"run-{n}", "answer": f"answer {n}", "score": score, "wall_s": 1.0}


async def test_ratings_and_signals_are_kept_and_exported(
    make_telemetry: MakeTelemetry, redis_url: str, tmp_path: Path
) -> None:
    telemetry = make_telemetry()
    store = telemetry.feedback
    for n, score in enumerate([0.9, 0.95, 0.4, 0.8, 0.7]):
        await telemetry.observe_run(
            _run(n, score), task=f"task {n}", experiment="exp", variant="b" if n % 2 else "a"
        )
    await store.rate("run-0", "up", comment="good")
    await store.rate("run-1", "down")
    await store.rate("run-1", "up")  # changed their mind: counted once, as up
    await store.rate("run-2", "down")
    await store.signal("run-3", "copied")
    await store.signal("run-4", "copied")
    await store.signal("run-4", "regenerated")
    with pytest.raises(UnknownRunError):
        await store.rate("never-ran", "up")

    assert await store.variant_counts("exp", "a") == {
        "up": 1,
        "down": 1,
        "copied": 1,
        "regenerated": 1,
    }
    assert await store.variant_counts("exp", "b") == {"up": 1, "down": 0, "copied": 1}
    record = await store.run("run-0")
    assert (record.task, record.rating, record.comment, record.variant) == (
        "task 0",
        "up",
        "good",
        "a",
    )

    # The command line, once, as a user runs it (a subprocess on the same Redis and prefix).
    env = {
        **os.environ,
        "REFINERY_REDIS_URL": redis_url,
        "REFINERY_REDIS_KEY_PREFIX": telemetry.settings.redis_key_prefix,
    }
    out = tmp_path / "pairs.jsonl"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "api.cli.main", "feedback", "export", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    print(done.stderr.strip())
    explicit = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["run_id"] for r in explicit} == {"run-0", "run-1"}
    row = next(r for r in explicit if r["run_id"] == "run-0")
    assert row["messages"] == [
        {"role": "user", "content": "task 0"},
        {"role": "assistant", "content": "answer 0"},
    ]
    assert (row["task"], row["answer"], row["rating"]) == ("task 0", "answer 0", "up")

    for options, expected in (
        ({"include_implicit": True}, {"run-0", "run-1", "run-3"}),
        ({"min_score": 0.92}, {"run-1"}),
    ):
        buffer = io.StringIO()
        assert await store.export(buffer, **options) == len(expected)
        assert {json.loads(line)["run_id"] for line in buffer.getvalue().splitlines()} == expected
