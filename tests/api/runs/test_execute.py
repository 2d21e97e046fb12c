"""Plain runs, threads, batch and feedback against a real server."""

from __future__ import annotations

from testkit.api_server import ApiServer

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
    tasks = [
        {"task": f"Write about {w}.", "constraints": {"required_words": [w]}}
        for w in ("apples", "boats", "clouds")
    ]
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


def test_feedback_lands_on_the_run_and_only_its_owner_may_give_it(api_server: ApiServer) -> None:
    with api_server.client() as client:
        result = client.post("/v1/refinements", json=REQUEST).json()
        thread_id, run_id = result["thread_id"], result["run_id"]
        rating = {
            "thread_id": thread_id,
            "run_id": run_id,
            "kind": "rating",
            "rating": 1,
            "comment": "clear and complete",
        }
        sent = client.post("/v1/feedback", json=rating)
        assert sent.status_code == 201, sent.text
        assert (sent.json()["rating"], sent.json()["run_id"]) == (1, run_id)
        copied = client.post("/v1/feedback", json={"thread_id": thread_id, "kind": "copied"})
        assert copied.status_code == 201 and copied.json()["signals"] == {"copied": 1}
        missing = client.post("/v1/feedback", json={"thread_id": thread_id, "kind": "rating"})
        assert missing.status_code == 422
        assert "thumbs up" in missing.json()["error"]["fix"]
        stale = client.post("/v1/feedback", json=rating | {"run_id": "an-earlier-run"})
        assert stale.status_code == 409 and stale.json()["error"]["type"] == "stale_run"
        held = client.get(f"/v1/threads/{thread_id}/feedback").json()
    assert (held["rating"], held["comment"], held["signals"]) == (
        1,
        "clear and complete",
        {"copied": 1},
    )

    with api_server.client("bob") as bob:
        assert bob.post("/v1/feedback", json=rating).status_code == 404
        assert bob.post("/v1/feedback", json=rating | {"rating": -1}).status_code == 404
    with api_server.client() as client:
        assert client.get(f"/v1/threads/{thread_id}/feedback").json()["rating"] == 1
