"""Crash and resume: a real refinement killed with SIGKILL mid-loop finishes in a new process.

The run is `refinery run` in a child process on a real redis-server; the model is the fake
OpenAI server in this process, so every model call is seen. A second child runs
`refinery threads resume`, which continues the thread from its last checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from langgraph.checkpoint.base import CheckpointTuple

from core.checkpoint import RedisSaver
from nodes.prompts import recognise
from testkit.fake_openai import FakeOpenAI, one_word_responder

REFINERY = str(Path(sys.executable).with_name("refinery"))
WORDS = [
    "lantern",
    "river",
    "fox",
    "bridge",
    "winter",
    "bell",
    "garden",
    "clock",
    "anchor",
    "meadow",
    "violin",
    "harbor",
]
TASK = "Write a short story about a journey."
LATENCY_S = 0.4
"""Each model call takes this long: the loop runs for a few seconds, and a call the child
was killed in the middle of is still in flight when the kill lands."""


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(responder=one_word_responder, latency_s=LATENCY_S).serve()
    yield server
    server.stop()


def _env(redis_url: str, prefix: str, base_url: str, data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"OPENAI_BASE_URL", "REFINERY_LLM_ENDPOINTS"}
        and not k.startswith(("REFINERY_", "LANGSMITH_", "LANGCHAIN_"))
    }
    return env | {
        "REDIS_URL": redis_url,
        "REFINERY_REDIS_KEY_PREFIX": prefix,
        "REFINERY_OPENAI_BASE_URL": base_url,
        "REFINERY_LLM_CACHE": "false",  # every call reaches the fake, so repeats would show
        "REFINERY_LLM_LOCAL_FALLBACK": "false",
        "REFINERY_DATA_DIR": str(data_dir),
    }


def _latest(saver: RedisSaver, thread_id: str) -> CheckpointTuple | None:
    return saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})


def _kill_mid_loop(
    child: subprocess.Popen[bytes], fake: FakeOpenAI, saver: RedisSaver, thread_id: str
) -> None:
    """SIGKILL once iteration 1 is scored and the next model call is in flight."""
    deadline = time.monotonic() + 120
    seen = -1
    while time.monotonic() < deadline and child.poll() is None:
        tup = _latest(saver, thread_id)
        values = tup.checkpoint["channel_values"] if tup else {}
        if seen < 0 and len(values.get("history", [])) >= 2 and "answer" not in values:
            seen = len(fake.received)
        if seen >= 0 and len(fake.received) > seen:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
            return
        time.sleep(0.005)
    pytest.fail(f"the run ended (rc {child.poll()}) or stalled before the loop's second round")


def _lineage(saver: RedisSaver, thread_id: str) -> list[str]:
    """Checkpoint ids from the latest back to the first, by parent links."""
    config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    by_id = {t.config["configurable"]["checkpoint_id"]: t for t in saver.list(config)}
    chain, tup = [], _latest(saver, thread_id)
    while tup is not None:
        chain.append(tup.config["configurable"]["checkpoint_id"])
        parent = tup.parent_config
        tup = by_id.get(parent["configurable"]["checkpoint_id"]) if parent else None
    return chain


def test_a_killed_run_resumes_from_its_last_checkpoint(
    redis_url: str, fake: FakeOpenAI, tmp_path: Path
) -> None:
    prefix, thread_id = f"crash{uuid.uuid4().hex[:6]}", f"crash-{uuid.uuid4().hex}"
    env = _env(redis_url, prefix, fake.base_url, tmp_path)
    run = [REFINERY, "run", TASK, "--words", ",".join(WORDS), "--thread", thread_id, "--json"]
    with (
        RedisSaver.from_conn_string(redis_url, key_prefix=prefix) as saver,
        open(tmp_path / "run.log", "wb") as log,
    ):
        child = subprocess.Popen(run, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _kill_mid_loop(child, fake, saver, thread_id)
        finally:
            if child.poll() is None:
                child.kill()
        killed_at = _latest(saver, thread_id)
        assert killed_at is not None
        before = list(fake.received)
        lineage_at_kill = _lineage(saver, thread_id)

        resumed = subprocess.run(
            [REFINERY, "threads", "resume", thread_id, "--json"],
            env=env,
            capture_output=True,
            timeout=180,
            check=False,
        )
        assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]
        result = json.loads(resumed.stdout)
        after = [prompt for _, prompt in fake.received[len(before) :]]
        final = _latest(saver, thread_id)
        lineage = _lineage(saver, thread_id)
    assert final is not None

    # The kill landed in the loop: iteration 1 scored, no answer yet, a model call in flight.
    at_kill = killed_at.checkpoint["channel_values"]
    assert "answer" not in at_kill and at_kill["iteration"] >= 1, at_kill.keys()
    saved_at = datetime.fromisoformat(killed_at.checkpoint["ts"]).timestamp()
    done = [prompt for at, prompt in before if at < saved_at]  # by nodes that had finished
    cut = [prompt for at, prompt in before if at >= saved_at]  # by the node that was killed
    print(
        f"killed after iteration {at_kill['iteration']} with {len(cut)} call(s) in flight;"
        f" {len(done)} calls before, {len(after)} after resuming;"
        f" finished at iteration {result['iterations']} ({result['stop_reason']}),"
        f" {len(lineage_at_kill)} + {len(lineage) - len(lineage_at_kill)} checkpoints"
    )
    assert cut, "nothing was in flight when the child was killed"
    assert not killed_at.pending_writes, "the killed node had saved its writes"

    # The new process finished the run, and it did so from the last checkpoint.
    assert result["resumed"] is True and result["error"] is None
    assert result["answer"] and result["stop_reason"]
    assert result["iterations"] > at_kill["iteration"]
    values = final.checkpoint["channel_values"]
    assert values["answer"] == result["answer"]
    assert lineage[-len(lineage_at_kill) :] == lineage_at_kill  # the old chain, continued
    assert len(lineage) > len(lineage_at_kill)

    # No completed node ran again; the killed one ran once more, and only it.
    calls = Counter(prompt for _, prompt in fake.received)
    # The draft ran once, and (the fake's draft is a comma list) the story told again a
    # sentence at a time, each sentence asked once, all before the kill.
    draft_prompts = [p for p in done if "each using its words" in p]
    told = [p for p in done if (known := recognise(p)) and known[0].startswith("story_")]
    assert len(draft_prompts) == 1 and calls[draft_prompts[0]] == 1
    assert len(told) == 4 and all(calls[p] == 1 for p in told)
    assert not set(done) & set(after)
    assert Counter(after)[cut[0]] == 1 and set(cut) <= set(after)
    assert all(n == 1 for n in Counter(after).values())

    # Nothing lost, nothing twice: one record per iteration, the ones before the kill intact,
    # and every model call that finished is booked once.
    iterations = [record["iteration"] for record in values["history"]]
    assert iterations == list(range(result["iterations"] + 1))
    assert values["history"][: len(at_kill["history"])] == at_kill["history"]
    assert values["first_draft"] == at_kill["first_draft"]
    assert values["usage"]["calls"] == len(done) + len(after)
