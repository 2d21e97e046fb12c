"""The server as a whole: health and readiness, the OpenAPI document, and the refusal to
listen beyond loopback without API keys."""

from __future__ import annotations

import subprocess

from api.streaming import EVENTS
from testkit.api_server import SERVE, ApiServer


def test_health_and_readiness(api_server: ApiServer) -> None:
    with api_server.client(None) as client:
        assert client.get("/healthz").json() == {"status": "ok", "checks": {}}
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"redis": "ok", "model": "ok"}


def test_openapi_documents_every_endpoint_and_error(api_server: ApiServer) -> None:
    with api_server.client(None) as client:
        spec = client.get("/openapi.json").json()
        unknown = client.get("/v1/nothing-here")
    paths = spec["paths"]
    expected = [
        "/v1/refinements",
        "/v1/refinements/stream",
        "/v1/refinements/batch",
        "/v1/threads/{thread_id}",
        "/v1/threads/{thread_id}/history",
        "/v1/threads/{thread_id}/resume",
        "/v1/feedback",
        "/healthz",
        "/readyz",
    ]
    for path in expected:
        assert path in paths, path
    stream = paths["/v1/refinements/stream"]["post"]["responses"]
    assert "text/event-stream" in stream["200"]["content"]
    # the published event list names every event a stream carries, and the schema lists them
    description = stream["200"]["description"]
    for name in EVENTS:
        assert f"- `{name}`:" in description, name
    item = stream["200"]["content"]["text/event-stream"]["itemSchema"]
    assert item["properties"]["event"]["enum"] == list(EVENTS)
    for code in ("401", "413", "422", "429", "503"):
        assert code in paths["/v1/refinements"]["post"]["responses"]
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found"


def test_without_keys_the_server_refuses_a_public_address(api_server: ApiServer) -> None:
    env = {k: v for k, v in api_server.env.items() if k != "REFINERY_API_KEYS_FILE"}
    done = subprocess.run(
        [*SERVE, "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "refusing to listen on '0.0.0.0' without API keys" in " ".join(done.stderr.split())
