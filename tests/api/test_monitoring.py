"""The API and monitoring together, on a real server with an A/B experiment enabled: variants
assigned sticky by user or session id, runs in /metrics (request and node latency, iterations,
tokens by model, role and type, queue depth), feedback in `refinery feedback export` and in the
experiment's results, and JSON logs carrying run and thread ids without keys or full texts."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.auth import new_key
from core.feedback.experiments import Experiment, assign_variant
from testkit.api_server import ApiServer, iter_sse, server_env, serving
from testkit.fake_openai import FakeOpenAI

TRIAL = {
    "description": "one pass against the refinement loop",
    "enabled": True,
    "variants": [
        {"name": "control", "config": "refine_default", "share": 1},
        {"name": "single", "config": "single_pass", "share": 1},
    ],
    "min_samples": 2,
}
TAIL = "zanzibar-quokka-tail"
"""The end of a long task: past the log excerpt, so it must never reach the log."""
TASK = "Write a short story. " + "It is set by the sea, " * 20 + TAIL
REQUEST = {"task": TASK, "constraints": {"required_words": ["lamp", "storm"]}}


def user_of(variant: str) -> str:
    """A user id the trial assigns to `variant`."""
    experiment = Experiment.model_validate({"name": "trial", **TRIAL})
    return next(
        u for i in range(100) if assign_variant(experiment, u := f"user-{i}").name == variant
    )


@pytest.fixture(scope="module")
def trial_server(api_fake_llm: FakeOpenAI, redis_url: str) -> Iterator[ApiServer]:
    """`refinery serve` with the `trial` experiment enabled, INFO logs, keys alice and bob."""
    workdir = Path(tempfile.mkdtemp(prefix="refinery-trial-"))
    (workdir / "experiments").mkdir()
    (workdir / "experiments" / "trial.json").write_text(json.dumps(TRIAL))
    keys = {name: new_key() for name in ("alice", "bob")}
    (workdir / "keys").write_text("".join(f"{k[1]} {n} 100000 1000\n" for n, k in keys.items()))
    env = server_env(
        api_fake_llm,
        redis_url,
        workdir,
        REFINERY_API_KEYS_FILE=str(workdir / "keys"),
        REFINERY_EXPERIMENTS_DIR=str(workdir / "experiments"),
        REFINERY_LOG_LEVEL="INFO",
        REFINERY_ALERT_EVAL_INTERVAL_S="1",
    )
    yield from serving(env, keys, api_fake_llm, workdir)


def _samples(metrics: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _stream(client: httpx.Client, body: dict, headers: dict[str, str]) -> dict:
    with client.stream("POST", "/v1/refinements/stream", json=body, headers=headers) as response:
        assert response.status_code == 200
        return next(e for e in iter_sse(response) if e.name == "result").data


def _runs(server: ApiServer) -> dict[str, dict]:
    """Requests of every kind; returns their results by name."""
    control, single = user_of("control"), user_of("single")
    named = REQUEST | {"config": "refine_default"}
    with server.client() as client:
        runs = {
            "first": client.post("/v1/refinements", json=REQUEST | {"user_id": control}).json(),
            "again": client.post("/v1/refinements", json=REQUEST | {"user_id": control}).json(),
            "header": _stream(client, REQUEST, {"X-User-Id": single}),
            "named": client.post("/v1/refinements", json=named).json(),
        }
        batch = client.post(
            "/v1/refinements/batch",
            headers={"X-Session-Id": single},
            json={"tasks": [REQUEST, REQUEST], "concurrency": 2},
        ).json()
    runs |= {f"batch{i}": item["result"] for i, item in enumerate(batch["items"])}
    return runs


def test_variants_metrics_feedback_and_logs(trial_server: ApiServer) -> None:
    runs = _runs(trial_server)
    assigned = {name: (r["experiment"], r["variant"], r["config"]) for name, r in runs.items()}
    print(assigned)
    assert assigned["first"] == assigned["again"] == ("trial", "control", "refine_default")
    assert assigned["header"] == ("trial", "single", "single_pass"), "the header is sticky too"
    assert assigned["batch0"] == assigned["batch1"] == ("trial", "single", "single_pass")
    assert assigned["named"] == (None, None, "refine_default"), "a named config is not assigned"

    first = runs["first"]
    with trial_server.client() as alice:
        rated = alice.post(
            "/v1/feedback",
            json={
                "thread_id": first["thread_id"],
                "kind": "rating",
                "rating": 1,
                "comment": "lovely",
            },
        )
        assert rated.status_code == 201 and rated.json()["variant"] == "control"
        signal = {"thread_id": runs["header"]["thread_id"], "kind": "copied"}
        assert alice.post("/v1/feedback", json=signal).status_code == 201
        with trial_server.client("bob") as bob:
            assert bob.post("/v1/feedback", json=signal).status_code == 404
        results = alice.get("/v1/experiments/trial").json()
        metrics = _samples(alice.get("/metrics").text)
    with trial_server.client(None) as anonymous:
        assert anonymous.get("/v1/experiments/trial").status_code == 401
        assert anonymous.get("/dashboard").status_code == 200, "the page asks for a key itself"

    variants = {v["name"]: v for v in results["variants"]}
    print({name: (v["runs"], v["ratings_up"], v["signals"]) for name, v in variants.items()})
    assert (variants["control"]["runs"], variants["single"]["runs"]) == (2, 3)
    assert variants["control"]["ratings_up"] == 1 and variants["single"]["signals"] == {"copied": 1}

    # `refinery feedback export` on the server's Redis and prefix: the rated pair, and only it.
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "feedback", "export"],
        env=trial_server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    pairs = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(p["run_id"], p["task"], p["answer"], p["variant"]) for p in pairs] == [
        (first["thread_id"], TASK, first["answer"], "control")
    ]

    _check_metrics(metrics)
    _check_logs(trial_server, first)


def _check_metrics(metrics: dict[str, list[tuple[dict[str, str], float]]]) -> None:
    def total(name: str, **labels: str) -> float:
        return sum(v for found, v in metrics.get(name, []) if labels.items() <= found.items())

    assert total("refinery_http_request_seconds_count", route="/v1/refinements") == 3
    assert total("refinery_http_request_seconds_count", route="/v1/refinements/stream") == 1
    for node in ("draft", "score", "finalize"):
        assert total("refinery_node_seconds_count", node=node) >= 6, node
    assert total("refinery_run_iterations_count", request_type="constrained", variant="single") == 3
    tokens = [labels for labels, v in metrics["refinery_tokens_total"] if v > 0]
    assert {(t["role"], t["request_type"], t["direction"]) for t in tokens} >= {
        ("draft", "constrained", "in"),
        ("draft", "constrained", "out"),
    }
    assert all(t["model"] not in ("", "mixed") for t in tokens)
    assert {labels["priority"] for labels, _ in metrics["refinery_queue_depth"]} == {
        "high",
        "normal",
        "low",
    }
    assert total("refinery_runs_in_flight") == 0
    limit = total("refinery_admission_limit")
    assert limit >= 1 and limit <= 8  # at least the floor, at most the default ceiling (8)


def _check_logs(server: ApiServer, first: dict) -> None:
    text = server.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    run_line = next(
        e for e in lines if e.get("run_id") == first["run_id"] and e["msg"].startswith("run ")
    )
    assert run_line["thread_id"] == first["thread_id"] and run_line["variant"] == "control"
    assert run_line["status"] == "ok" and run_line["task"].endswith("chars]")
    request_line = next(
        e
        for e in lines
        if e.get("route") == "/v1/refinements" and e.get("run_id") == first["run_id"]
    )
    assert request_line["status"] == 200 and request_line["thread_id"] == first["thread_id"]
    assert TAIL not in text, "request text beyond the excerpt reached the log"
    assert all(key not in text for key in server.keys.values())
