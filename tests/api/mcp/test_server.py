"""`refinery mcp` as the `mcp` client SDK sees it, fake model behind it: over stdio (the SDK
starts the command) and over streamable HTTP (`--http`, behind the API's keys): the tools and
their schemas, `refine` with constraints (and its progress), `thread` on the run it returned,
and refusals as tool errors that say how to fix the call."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from api.auth import new_key
from core.processes import free_port, stop_process
from core.settings import PROJECT_ROOT
from testkit.api_server import server_env
from testkit.balancer import wait_http
from testkit.fake_openai import FakeOpenAI

MCP = [sys.executable, "-c", "from api.cli.main import app; app()", "mcp"]
WORDS = ["cat", "dog", "moon", "river"]
REFINE = {"task": "Write a story.", "constraints": {"required_words": WORDS}}


async def refine_and_inspect(client: Client) -> dict[str, Any]:
    """`refine` a task with required words, then `thread` on its run: the refined output."""
    progress: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    result = await client.call_tool("refine", REFINE, progress_callback=on_progress)
    assert not result.is_error, result.content
    out = result.structured_content or {}
    assert all(word in out["answer"] for word in WORDS)
    assert out["stop_reason"] == "passed" and out["score"] >= 0.95
    assert out["config"] == "refine_default" and out["usage"]["calls"] > 1
    assert progress and progress[0].startswith("iteration 0: score ")

    thread = await client.call_tool("thread", {"thread_id": out["thread_id"]})
    assert not thread.is_error, thread.content
    shown = thread.structured_content or {}
    assert shown["status"] == "done" and shown["answer"] == out["answer"]
    assert shown["task"] == REFINE["task"]
    return out


async def refused(client: Client, name: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(name, arguments)
    assert result.is_error
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_refine_over_stdio(api_fake_llm: FakeOpenAI, redis_url: str, tmp_path: Path) -> None:
    env = server_env(api_fake_llm, redis_url, tmp_path)
    params = StdioServerParameters(command=MCP[0], args=MCP[1:], env=env, cwd=PROJECT_ROOT)
    with (tmp_path / "mcp.log").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert set(tools) == {"refine", "thread"}
            schema = tools["refine"].input_schema
            assert schema["required"] == ["task"]
            assert schema["properties"]["task"]["maxLength"] == 4000
            assert "refine_default" in schema["properties"]["preset"]["enum"]

            await refine_and_inspect(client)

            unknown = await refused(client, "refine", {"task": "Hi.", "preset": "nope"})
            assert "preset" in unknown
            blank = await refused(client, "refine", {"task": "   "})
            assert "write what the answer should do" in blank
            missing = await refused(client, "thread", {"thread_id": "not-a-thread"})
            assert "no thread 'not-a-thread'" in missing


@dataclass
class McpHttp:
    url: str
    keys: dict[str, str]

    def client(self, who: str) -> Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300))
        return Client(streamable_http_client(self.url, http_client=http))


@pytest.fixture(scope="module")
def mcp_http(api_fake_llm: FakeOpenAI, redis_url: str) -> Iterator[McpHttp]:
    """`refinery mcp --http` on a free loopback port, with two API keys."""
    workdir = Path(tempfile.mkdtemp(prefix="refinery-mcp-"))
    keys = {name: new_key() for name in ("alice", "bob")}
    (workdir / "keys").write_text("".join(f"{d} {name}\n" for name, (_, d) in keys.items()))
    env = server_env(api_fake_llm, redis_url, workdir, REFINERY_API_KEYS_FILE=str(workdir / "keys"))
    port, log = free_port(), workdir / "mcp.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*MCP, "--http", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_http(url, process, 120, log)  # a 401 (no key) says it listens
        yield McpHttp(url, {name: key for name, (key, _) in keys.items()})
    finally:
        stop_process(process)
        shutil.rmtree(workdir, ignore_errors=True)


async def test_refine_over_streamable_http(mcp_http: McpHttp) -> None:
    async with mcp_http.client("alice") as client:
        out = await refine_and_inspect(client)
    async with mcp_http.client("bob") as client:  # a thread is its own key's only
        hidden = await refused(client, "thread", {"thread_id": out["thread_id"]})
        assert "no thread" in hidden


def test_http_without_a_known_key_is_refused_before_mcp(mcp_http: McpHttp) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    for headers in ({}, {"Authorization": "Bearer rf_not_a_key"}):
        response = httpx.post(mcp_http.url, json=initialize, headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["type"] == "unauthorized"
