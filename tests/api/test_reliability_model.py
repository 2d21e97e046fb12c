"""Model faults through a real server: with every model endpoint failing, a request fails fast
(on its first failing model call: no retry, no further node, no wait for a timeout) with a clear
502 that names its thread and how to resume it, and the resume completes once the model is
back."""

from __future__ import annotations

import time

from core.settings import Settings
from testkit.api_server import ApiServer


def test_a_dead_model_fails_fast_and_the_thread_resumes(api_server: ApiServer) -> None:
    api_server.fake.fault_cycle = ["500"]
    calls = api_server.fake.calls
    try:
        with api_server.client() as client:
            started = time.monotonic()
            failed = client.post("/v1/refinements", json={"task": "Say hi."})
            took = time.monotonic() - started
        failing_calls = api_server.fake.calls - calls
    finally:
        api_server.fake.fault_cycle = None
    assert failed.status_code == 502, failed.text
    error = failed.json()["error"]
    assert error["type"] == "model_unavailable"
    assert f"/v1/threads/{error['thread_id']}/resume" in error["fix"]
    # fast, counted: the draft's one call failed and nothing called the model again (the server
    # runs with REFINERY_LLM_MAX_RETRIES=0); the clock is only a guard against waiting for a
    # call timeout, far above what a loaded machine needs
    assert failing_calls == 1, f"{failing_calls} model calls before the 502"
    assert took < Settings().llm_timeout_s, f"failed after {took:.1f} s: it waited for a timeout"
    with api_server.client() as client:
        resumed = client.post(f"/v1/threads/{error['thread_id']}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["answer"]
