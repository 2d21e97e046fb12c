"""`refinery threads`: list, show, history, delete and prune on a real Redis."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from typer.testing import CliRunner

from api.cli.threads import parse_duration, threads_app
from core.checkpoint import RedisSaver
from core.checkpoint.factory import get_checkpointer, reset_checkpointer
from core.settings import get_settings
from tests.core.checkpoint.test_redis_saver import _loop_graph

runner = CliRunner()


@pytest.fixture
def saver(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisSaver]:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REFINERY_REDIS_KEY_PREFIX", f"cli{uuid.uuid4().hex[:6]}")
    get_settings.cache_clear()
    reset_checkpointer()
    yield get_checkpointer()
    reset_checkpointer()
    get_settings.cache_clear()


def _run_graph(saver: RedisSaver, thread_id: str) -> None:
    graph = _loop_graph().compile(checkpointer=saver)
    graph.invoke(
        {"text": "", "iteration": 0, "limit": 2}, {"configurable": {"thread_id": thread_id}}
    )


def _json(*args: str) -> object:
    result = runner.invoke(threads_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_list_show_history_delete(saver: RedisSaver) -> None:
    _run_graph(saver, "alpha")
    _run_graph(saver, "beta")
    listed = _json("list")
    assert [t["thread_id"] for t in listed] == ["beta", "alpha"]
    shown = _json("show", "alpha")
    assert shown["values"]["iteration"] == 2 and shown["step"] >= 2
    steps = [c["step"] for c in _json("history", "alpha")]
    assert steps == sorted(steps, reverse=True) and steps[-1] == -1
    table = runner.invoke(threads_app, ["history", "alpha"])
    assert table.exit_code == 0 and "alpha" in table.output
    assert _json("delete", "alpha") == {"deleted": ["alpha"]}
    assert runner.invoke(threads_app, ["show", "alpha"]).exit_code == 1
    assert [t["thread_id"] for t in _json("list")] == ["beta"]


def test_prune_older_than(saver: RedisSaver, redis_url: str) -> None:
    _run_graph(saver, "old")
    _run_graph(saver, "new")
    # Age "old" by two hours in the threads index.
    redis.Redis.from_url(redis_url).zadd(
        saver._layout.threads_key, {"old": (time.time() - 7200) * 1000}
    )
    assert _json("prune", "--older-than", "1h", "--dry-run") == {"would_delete": ["old"]}
    assert _json("prune", "--older-than", "1h") == {"deleted": ["old"]}
    assert [t["thread_id"] for t in _json("list")] == ["new"]


def test_parse_duration() -> None:
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2w") == timedelta(weeks=2)
    with pytest.raises(Exception, match="duration"):
        parse_duration("soon")


def test_resume_names_an_unknown_thread(saver: RedisSaver) -> None:
    result = runner.invoke(threads_app, ["resume", "never-ran"])
    assert result.exit_code == 1 and "never-ran" in result.output


def test_the_refinery_command_mounts_threads() -> None:
    from api.cli.main import app

    result = runner.invoke(app, ["threads", "--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in ("list", "history", "resume", "prune"))
