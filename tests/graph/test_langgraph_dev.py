"""`langgraph.json` opens the graph as it is: `langgraph dev` (LangGraph's own server, as Studio
uses it) serves it on a free loopback port and runs a thread through it; a run asked to be
reviewed shows its interrupt there and is resumed through LangGraph's own API."""

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


@pytest.fixture(scope="module")
def langgraph_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("langgraph-dev")
    fake = FakeOpenAI().serve()
    port = free_port()
    env = {
        **os.environ,
        "REFINERY_OPENAI_BASE_URL": fake.base_url,
        "REFINERY_OPENAI_API_KEY": "test",
        "REFINERY_LLM_CACHE": "false",  # the stand-in's answers now, not a cache of older runs
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
    assert "reviews" not in result and "review_request" not in state["values"]


async def test_langgraph_dev_shows_the_review_interrupt_and_resumes_it(langgraph_dev: str) -> None:
    client = get_client(url=langgraph_dev)
    [assistant] = await client.assistants.search(graph_id="refinery")
    thread_id = (await client.threads.create())["thread_id"]
    request = {
        "task": "Write a short text.",
        "constraints": {"required_words": ["dog", "snow"]},
        "review": {"when": "always"},
    }
    await client.runs.wait(thread_id, assistant["assistant_id"], input=request)
    paused = await client.threads.get(thread_id)
    state = await client.threads.get_state(thread_id)
    assert paused["status"] == "interrupted"
    assert state["next"] == ["human_review"]
    [pending] = state["interrupts"]
    assert pending["value"]["draft"] == state["values"]["best_draft"]
    assert pending["value"]["scores"] == [h["score"] for h in state["values"]["history"]]
    # Studio renders the resume form from the interrupt's schema: the four decisions
    assert sorted(pending["response_schema"]["$defs"]) == ["Approve", "Edit", "Feedback", "Reject"]

    edit = "The dog ran through the snow."
    result = await client.runs.wait(
        thread_id,
        assistant["assistant_id"],
        command={"resume": {"action": "edit", "text": edit}},
    )
    assert result["answer"] == edit
    assert result["stop_reason"] == "edited"
    assert result["reviews"][0]["corrected"] == edit
    assert (await client.threads.get(thread_id))["status"] == "idle"
