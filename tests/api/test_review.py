"""A person in the loop through the API, against a real server, Redis and the fake model: a run
asked to be reviewed pauses (the stream ends with `review`, the thread shows `awaiting_review`,
no lease is held), and POST /v1/threads/{id}/resume answers it with each reviewer action; a
second answer, another key's, a malformed one and a stale one are refused; the reviews are
counted in the metrics and exported as preference pairs."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import redis

from testkit.api_server import ApiServer, iter_sse

WORDS = ["dog", "snow", "piano", "wine"]
REQUEST: dict[str, Any] = {
    "task": "Write a short text.",
    "constraints": {"required_words": WORDS},
    "review": {"when": "always"},
}
CLI = [sys.executable, "-c", "from api.cli.main import app; app()"]
EDIT = "The dog ran through the snow. Later it heard the piano and smelled the wine."


def pause(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    """A run that paused for review: its result (no answer yet, the review to answer)."""
    response = client.post("/v1/refinements", json=REQUEST | extra)
    assert response.status_code == 200, response.text
    paused = response.json()
    assert paused["answer"] is None and paused["review"]["round"] == 1
    return paused


def resume(client: httpx.Client, thread_id: str, review: Any, **extra: Any) -> httpx.Response:
    return client.post(f"/v1/threads/{thread_id}/resume", json={"review": review, **extra})


def test_a_paused_thread_awaits_review_holding_no_lease(api_server: ApiServer) -> None:
    with api_server.client() as client:
        paused = pause(client)
        thread = client.get(f"/v1/threads/{paused['thread_id']}").json()
    assert thread["status"] == "awaiting_review"
    assert thread["review"] == paused["review"]
    review = thread["review"]
    assert review["draft"] == max(paused["history"], key=lambda h: h["score"])["draft"]
    assert review["scores"] == [h["score"] for h in paused["history"]]
    assert review["confidence"] == paused["confidence"]
    assert review["findings"] is not None and review["review_id"]
    client = redis.Redis.from_url(api_server.env["REDIS_URL"])
    assert not client.keys(f"{api_server.prefix}:api:lease:{paused['thread_id']}*"), (
        "a paused run holds no lease"
    )


def test_approve_finishes_with_the_draft_shown(api_server: ApiServer) -> None:
    with api_server.client() as client:
        paused = pause(client)
        thread_id = paused["thread_id"]
        done = resume(client, thread_id, {"action": "approve", "comment": "good"})
        thread = client.get(f"/v1/threads/{thread_id}").json()
    assert done.status_code == 200, done.text
    assert done.json()["answer"] == paused["review"]["draft"]
    assert "review" not in done.json()
    assert thread["status"] == "done"
    [record] = thread["reviews"]
    assert (record["action"], record["comment"]) == ("approve", "good")
    assert record["waited_s"] >= 0 and record["draft"] == paused["review"]["draft"]


def test_an_edit_is_scored_and_is_the_answer(api_server: ApiServer) -> None:
    with api_server.client() as client:
        paused = pause(client)
        done = resume(client, paused["thread_id"], {"action": "edit", "text": EDIT}).json()
    assert done["answer"] == EDIT and done["stop_reason"] == "edited"
    assert done["history"][-1]["draft"] == EDIT
    assert done["score"] == done["history"][-1]["score"]
    assert done["reviews"][0]["corrected"] == EDIT


def test_feedback_refines_again_and_pauses_again_then_reject(api_server: ApiServer) -> None:
    note = 'Add the sentence "The dog slept by the piano."'
    with api_server.client() as client:
        paused = pause(client)
        thread_id = paused["thread_id"]
        again = resume(client, thread_id, {"action": "feedback", "changes": [note]}).json()
        assert again["answer"] is None
        assert again["review"]["round"] == 2
        assert again["review"]["draft"].endswith("The dog slept by the piano.")
        assert len(again["history"]) == len(paused["history"]) + 1
        rejected = resume(client, thread_id, {"action": "reject", "reason": "still too short"})
    done = rejected.json()
    assert done["stop_reason"] == "rejected"
    assert [r["action"] for r in done["reviews"]] == ["feedback", "reject"]
    assert done["reviews"][1]["reason"] == "still too short"


def test_the_stream_ends_with_review_and_resume_stream_continues(api_server: ApiServer) -> None:
    with api_server.client() as client:
        with client.stream("POST", "/v1/refinements/stream", json=REQUEST) as response:
            assert response.status_code == 200
            thread_id = response.headers["x-thread-id"]
            events = [e for e in iter_sse(response) if e.name != ":"]
        assert events[-1].name == "review"
        assert "result" not in [e.name for e in events]
        review = events[-1].data
        assert review["review_id"] and review["draft"]
        body = {"review": {"action": "edit", "text": EDIT}, "review_id": review["review_id"]}
        with client.stream("POST", f"/v1/threads/{thread_id}/resume/stream", json=body) as again:
            assert again.status_code == 200
            continued = [e for e in iter_sse(again) if e.name != ":"]
        names = [e.name for e in continued]
        assert names[-1] == "result" and "score" in names
        assert continued[-1].data["answer"] == EDIT
        # the thread's event log holds both runs, the pause first: replayable from anywhere
        with client.stream("GET", f"/v1/threads/{thread_id}/events") as log:
            replayed = [e.name for e in iter_sse(log) if e.name != ":"]
    assert replayed.index("review") < replayed.index("result")


def test_a_second_resume_is_409(api_server: ApiServer) -> None:
    with api_server.client() as client:
        paused = pause(client)
        first = resume(client, paused["thread_id"], {"action": "approve"})
        second = resume(client, paused["thread_id"], {"action": "reject"})
    assert first.status_code == 200
    assert second.status_code == 409, second.text
    error = second.json()["error"]
    assert error["type"] == "not_awaiting_review"
    assert "it has finished" in error["message"]


def test_a_stale_review_id_is_409(api_server: ApiServer) -> None:
    with api_server.client() as client:
        paused = pause(client)
        thread_id = paused["thread_id"]
        note = {"action": "feedback", "text": "Shorter."}
        again = resume(client, thread_id, note, review_id=paused["review"]["review_id"]).json()
        assert again["review"]["round"] == 2
        stale = resume(client, thread_id, {"action": "approve"}, review_id="not-this-one")
    assert stale.status_code == 409
    assert stale.json()["error"]["type"] == "not_awaiting_review"


def test_another_keys_resume_is_404(api_server: ApiServer) -> None:
    with api_server.client("alice") as alice:
        paused = pause(alice)
    thread_id = paused["thread_id"]
    with api_server.client("bob") as bob:
        refused = resume(bob, thread_id, {"action": "approve"})
        streamed = bob.post(
            f"/v1/threads/{thread_id}/resume/stream", json={"review": {"action": "approve"}}
        )
        looked = bob.get(f"/v1/threads/{thread_id}")
    for response in (refused, streamed, looked):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "thread_not_found"
    with api_server.client("alice") as alice:
        assert alice.get(f"/v1/threads/{thread_id}").json()["status"] == "awaiting_review"


def test_malformed_reviews_are_422_saying_what_to_send(api_server: ApiServer) -> None:
    with api_server.client() as client:
        paused = pause(client)
        thread_id = paused["thread_id"]
        cases = {
            "no text": {"action": "edit"},
            "unknown action": {"action": "maybe"},
            "empty feedback": {"action": "feedback"},
            "too long": {"action": "approve", "comment": "x" * 4_001},
            "extra field": {"action": "approve", "score": 1},
        }
        answers = {name: resume(client, thread_id, value) for name, value in cases.items()}
        missing = client.post(f"/v1/threads/{thread_id}/resume", json={})
        status = client.get(f"/v1/threads/{thread_id}").json()["status"]
    for name, response in answers.items():
        assert response.status_code == 422, (name, response.text)
        assert response.json()["error"]["details"], name
    fields = {name: r.json()["error"]["details"][0]["field"] for name, r in answers.items()}
    assert fields["no text"].endswith("text")
    assert "feedback needs" in answers["empty feedback"].text
    assert missing.status_code == 422
    assert missing.json()["error"]["type"] == "review_required"
    assert '"action": "approve"' in missing.json()["error"]["fix"]
    assert status == "awaiting_review", "nothing malformed moved the thread"


def test_a_review_for_a_thread_never_paused_is_409(api_server: ApiServer) -> None:
    with api_server.client() as client:
        plain = client.post("/v1/refinements", json={"task": "Say hello."}).json()
        refused = resume(client, plain["thread_id"], {"action": "approve"})
        thread = client.get(f"/v1/threads/{plain['thread_id']}").json()
    assert "review" not in plain and "reviews" not in plain
    assert "review" not in thread and "reviews" not in thread and thread["status"] == "done"
    assert refused.status_code == 409
    assert refused.json()["error"]["type"] == "not_awaiting_review"


def test_reviews_are_counted_and_exported_as_preference_pairs(api_server: ApiServer) -> None:
    with api_server.client() as client:
        before = _metrics(client)
        edited = pause(client)
        resume(client, edited["thread_id"], {"action": "edit", "text": EDIT})
        fed = pause(client)
        note = 'Add the sentence "The wine was red."'
        again = resume(client, fed["thread_id"], {"action": "feedback", "changes": [note]}).json()
        resume(client, fed["thread_id"], {"action": "approve"})
        after = _metrics(client)
    assert after["requested"] - before["requested"] == 3  # two runs, one paused twice
    assert after["edit"] - before["edit"] == 1
    assert after["feedback"] - before["feedback"] == 1
    assert after["approve"] - before["approve"] == 1
    assert after["waits"] - before["waits"] == 3

    exported = subprocess.run(
        [*CLI, "feedback", "export", "--reviews"],
        env=api_server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert exported.returncode == 0, exported.stderr
    pairs = [json.loads(line) for line in exported.stdout.splitlines()]
    mine = {p["run_id"]: p for p in pairs if p["run_id"] in (edited["thread_id"], fed["thread_id"])}
    assert mine[edited["thread_id"]] | {"config": None} == {
        "prompt": REQUEST["task"],
        "chosen": EDIT,
        "rejected": edited["review"]["draft"],
        "kind": "edit",
        "round": 1,
        "run_id": edited["thread_id"],
        "config": None,
    }
    feedback = mine[fed["thread_id"]]
    assert (feedback["kind"], feedback["rejected"], feedback["chosen"]) == (
        "feedback",
        fed["review"]["draft"],
        again["review"]["draft"],
    )
    assert feedback["notes"] == [note]


def _metrics(client: httpx.Client) -> dict[str, float]:
    """The review counters summed over their labels."""
    text = client.get("/metrics").text
    sums = {"requested": 0.0, "waits": 0.0, "approve": 0.0, "edit": 0.0, "feedback": 0.0}
    for line in text.splitlines():
        if line.startswith("refinery_reviews_requested_total"):
            sums["requested"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("refinery_review_wait_seconds_count"):
            sums["waits"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("refinery_reviews_total{"):
            action = line.split('action="', 1)[1].split('"', 1)[0]
            if action in sums:
                sums[action] += float(line.rsplit(" ", 1)[1])
    return sums
