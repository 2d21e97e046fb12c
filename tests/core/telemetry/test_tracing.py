"""Tracing: LangSmith only with both its key and `LANGSMITH_TRACING`; with the switch alone, a
real model call opens no connection but the one to the model endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from testkit.fake_openai import FakeOpenAI

SCRIPT = """
import json, sys
connections = []
def audit(event, args):
    if event == "socket.connect":
        connections.append(str(args[1]))
sys.addaudithook(audit)
import langsmith.utils
from core.telemetry.tracing import configure_tracing
on = configure_tracing()
report = {"on": on, "enabled": bool(langsmith.utils.tracing_is_enabled())}
if len(sys.argv) > 1:
    from langchain_openai import ChatOpenAI
    model = ChatOpenAI(base_url=sys.argv[1], api_key="none", model="fake", max_retries=0)
    report["reply"] = model.invoke("Say hello.").content
    from langchain_core.tracers.langchain import wait_for_all_tracers
    wait_for_all_tracers()
report["connections"] = connections
print(json.dumps(report))
"""


def _run(env: dict[str, str], *args: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_switch_without_key_stays_off_and_offline() -> None:
    fake = FakeOpenAI().serve()
    try:
        report = _run({"LANGSMITH_TRACING": "true", "LANGCHAIN_TRACING_V2": "true"}, fake.base_url)
    finally:
        fake.stop()
    print(report)
    assert report["on"] is False and report["enabled"] is False
    assert report["reply"]
    assert report["connections"] and all(
        c == f"('127.0.0.1', {fake.port})"
        for c in report["connections"]  # type: ignore[union-attr]
    )


def test_key_and_switch_turn_it_on() -> None:
    report = _run({"LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "lsv2_pt_test"})
    assert report["on"] is True and report["enabled"] is True
    assert report["connections"] == []
    assert _run({"LANGSMITH_API_KEY": "lsv2_pt_test"})["on"] is False  # a key alone: off
