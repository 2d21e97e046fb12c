"""Plain runs, threads, batch and feedback against a real server."""

from __future__ import annotations

import json

import redis

from tests.support.api_server import ApiServer

REQUEST = {"task": "Write a story.", "constraints": {"required_words": ["lamp", "storm"]}}


def test_refinement_returns_the_result_and_its_thread(api_server: ApiServer) -> None:
    with api_server.client() as client:
        response = client.post("/v1/refinements", json=REQUEST)
        assert response.status_code == 200, response.text
        result = response.json()
        assert {"lamp", "storm"} <= set(result["answer"].lower().replace(".", "").split())
        assert result["usage"]["calls"] >= 2 and result["iterations"] >= 1
        thread = client.get(f"/v1/threads/{result['thread_id']}").json()
        assert thread["status"] == "done" and thread["next"] == []
        assert thread["answer"] == result["answer"] and thread["task"] == REQUEST["task"]
        history = client.get(f"/v1/threads/{result['thread_id']}/history").json()
    assert [i["score"] for i in history["iterations"]] == [h["score"] for h in result["history"]]
    steps = [c["step"] for c in history["checkpoints"]]
    assert steps == sorted(steps, reverse=True) and len(steps) > 5
    assert history["checkpoints"][0]["nodes"] == ["finalize"]


def test_batch_runs_every_task_in_order(api_server: ApiServer) -> None:
    tasks = [{"task": f"Write about {w}.", "constraints": {"required_words": [w]}}
             for w in ("apples", "boats", "clouds")]  # fmt: skip
    with api_server.client() as client:
        response = client.post("/v1/refinements/batch", json={"tasks": tasks, "concurrency": 2})
        assert response.status_code == 200, response.text
        batch = response.json()
        assert batch["succeeded"] == 3 and batch["failed"] == 0
        assert [item["index"] for item in batch["items"]] == [0, 1, 2]
        for item, word in zip(batch["items"], ("apples", "boats", "clouds"), strict=True):
            assert word in item["result"]["answer"]
            assert client.get(f"/v1/threads/{item['result']['thread_id']}").status_code == 200
    with api_server.client("bob") as bob:
        assert bob.get(f"/v1/threads/{batch['items'][0]['result']['thread_id']}").status_code == 404


def test_feedback_is_stored_by_thread_and_key(api_server: ApiServer, redis_url: str) -> None:
    with api_server.client() as client:
        result = client.post("/v1/refinements", json=REQUEST).json()
        thread_id, run_id = result["thread_id"], result["run_id"]
        rating = {"thread_id": thread_id, "run_id": run_id, "kind": "rating", "rating": 1,
                  "comment": "clear and complete"}  # fmt: skip
        assert client.post("/v1/feedback", json=rating).status_code == 201
        copied = client.post("/v1/feedback", json={"thread_id": thread_id, "kind": "copied"})
        assert copied.status_code == 201
        missing = client.post("/v1/feedback", json={"thread_id": thread_id, "kind": "rating"})
        assert missing.status_code == 422
        assert "thumbs up" in missing.json()["error"]["fix"]
        events = client.get(f"/v1/threads/{thread_id}/feedback").json()
    assert [(e["kind"], e.get("rating")) for e in events] == [("rating", 1), ("copied", None)]
    assert events[0]["comment"] == "clear and complete" and events[0]["run_id"] == run_id

    store = redis.Redis.from_url(redis_url)
    base = f"{api_server.prefix}:api:feedback"
    by_thread = [json.loads(x) for x in store.lrange(f"{base}:thread:{thread_id}", 0, -1)]
    key_id = by_thread[0]["key_id"]
    by_key = [json.loads(x) for x in store.lrange(f"{base}:key:{key_id}", 0, -1)]
    assert {e["id"] for e in by_thread} <= {e["id"] for e in by_key}
    assert int(store.hget(f"{base}:counts", "rating:up")) >= 1
    assert store.xlen(f"{base}:events") >= 2

    with api_server.client("bob") as bob:
        assert bob.post("/v1/feedback", json=rating).status_code == 404
