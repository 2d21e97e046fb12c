"""`GET /v1/scaling` and the desired-instances metric on a real `refinery serve` with capacity
scaling on (publish only, as for an external autoscaler); 404 where scaling is off."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis

from testkit.api_server import ApiServer, keyed_server
from testkit.fake_openai import FakeOpenAI

POLICY = {"min_instances": 1, "max_instances": 3, "slots_per_instance": 2}


@pytest.fixture(scope="module")
def scaled_server(api_fake_llm: FakeOpenAI, redis_url: str) -> Iterator[ApiServer]:
    yield from keyed_server(
        api_fake_llm,
        redis_url,
        ("alice",),
        "refinery-scaling-",
        REFINERY_SCALING_ENABLED="true",
        REFINERY_SCALING_GROUP="tier0",
        REFINERY_SCALING_INTERVAL_S="0.2",
        REFINERY_SCALING_POLICY=json.dumps(POLICY),
    )


def test_the_desired_count_is_served_as_json_and_as_a_metric(scaled_server: ApiServer) -> None:
    with scaled_server.client("alice") as client:
        body = {"task": "Say hello.", "config": "single_pass"}
        answer = client.post("/v1/refinements", json=body)
        assert answer.status_code == 200
        deadline = time.monotonic() + 10
        while (status := client.get("/v1/scaling").json())["desired"] is None:
            assert time.monotonic() < deadline, "no decision within 10 s"
            time.sleep(0.1)
        metrics = client.get("/metrics").text
    assert status["group"] == "tier0"
    assert status["desired"] == 1  # one quiet client: the minimum
    assert status["policy"]["max_instances"] == 3
    assert status["decided_by"]
    assert 'refinery_scaling_desired_instances{group="tier0"} 1.0' in metrics
    # the run was counted by request type: the demand series the forecast reads
    r = redis.Redis.from_url(scaled_server.env["REDIS_URL"])
    prefix = f"{scaled_server.prefix}:telemetry:timeline:*"
    fields = {f.decode() for key in r.scan_iter(prefix) for f in r.hkeys(key)}
    assert "runs:open" in fields


def test_without_a_key_the_scaling_state_is_not_shown(scaled_server: ApiServer) -> None:
    with scaled_server.client(None) as client:
        assert client.get("/v1/scaling").status_code == 401


def test_where_scaling_is_off_the_endpoint_says_how_to_turn_it_on(api_server: ApiServer) -> None:
    with api_server.client("alice") as client:
        reply = client.get("/v1/scaling")
    assert reply.status_code == 404
    assert "REFINERY_SCALING_ENABLED" in json.dumps(reply.json())
