"""Model faults through a real server: with every model endpoint failing, a request fails fast
with a clear 502 that names its thread and how to resume it, and the resume completes once the
model is back."""

from __future__ import annotations

import time

from testkit.api_server import ApiServer


def test_a_dead_model_fails_fast_and_the_thread_resumes(api_server: ApiServer) -> None:
    api_server.fake.fault_cycle = ["500"]
    try:
        with api_server.client() as client:
            started = time.monotonic()
            failed = client.post("/v1/refinements", json={"task": "Say hi."})
            took = time.monotonic() - started
    finally:
        api_server.fake.fault_cycle = None
    assert failed.status_code == 502, failed.text
    error = failed.json()["error"]
    assert error["type"] == "model_unavailable"
    assert f"/v1/threads/{error['thread_id']}/resume" in error["fix"]
    print(f"failed in {took:.2f} s")
    with api_server.client() as client:
        resumed = client.post(f"/v1/threads/{error['thread_id']}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["answer"]
