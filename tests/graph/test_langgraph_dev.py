"""`langgraph.json` opens the graph as it is: `langgraph dev` (LangGraph's own server, as Studio
uses it) serves it on a free loopback port and runs a thread through it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from core.processes import free_port, stop_process
from testkit.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).with_name("langgraph")


@pytest.fixture
def langgraph_dev(tmp_path: Path) -> Iterator[str]:
    fake = FakeOpenAI().serve()
    port = free_port()
    env = {
        **os.environ,
        "REFINERY_OPENAI_BASE_URL": fake.base_url,
        "REFINERY_OPENAI_API_KEY": "test",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "1",
        "LANGSMITH_TRACING": "false",
    }
    log = (tmp_path / "langgraph-dev.log").open("wb")
    process = subprocess.Popen(
        [str(LANGGRAPH), "dev", "--port", str(port), "--no-browser", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "langgraph-dev.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("langgraph dev did not start in 120 s")
        yield url
    finally:
        stop_process(process)
        fake.stop()


async def test_langgraph_dev_runs_a_thread(langgraph_dev: str) -> None:
    client = get_client(url=langgraph_dev)
    [assistant] = await client.assistants.search(graph_id="refinery")
    thread = await client.threads.create()
    request = {"task": "Write a short text.", "constraints": {"required_words": ["dog", "snow"]}}
    result = await client.runs.wait(thread["thread_id"], assistant["assistant_id"], input=request)
    assert result["stop_reason"] in {"passed", "max_iterations", "plateau"}
    assert result["answer"]
    assert [h["iteration"] for h in result["history"]] == [0, 1]
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["answer"] == result["answer"]
