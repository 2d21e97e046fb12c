"""Access against a real server: API keys, thread isolation between two keys, the per-key
rate limit in Redis (429 + Retry-After)."""

from __future__ import annotations

from testkit.api_server import ApiServer


def test_requests_without_a_known_key_get_401(api_server: ApiServer) -> None:
    with api_server.client(None) as anonymous:
        response = anonymous.post("/v1/refinements", json={"task": "Hi."})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in response.json()["error"]["fix"]
        wrong = anonymous.get("/v1/threads/x", headers={"Authorization": "Bearer rf_wrong"})
        assert wrong.status_code == 401


def test_another_keys_thread_is_404_everywhere(api_server: ApiServer) -> None:
    with api_server.client("alice") as alice:
        result = alice.post("/v1/refinements", json={"task": "Say hello."}).json()
    thread_id = result["thread_id"]
    with api_server.client("bob") as bob:
        for method, path in [
            ("GET", ""),
            ("GET", "/history"),
            ("GET", "/feedback"),
            ("POST", "/resume"),
            ("POST", "/resume/stream"),
        ]:
            response = bob.request(method, f"/v1/threads/{thread_id}{path}")
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["type"] == "thread_not_found"
        unknown = bob.get("/v1/threads/no-such-thread")
        assert unknown.json() == response.json() | {
            "error": response.json()["error"] | {"message": unknown.json()["error"]["message"]}
        }, "an unknown thread and another key's thread look the same"
    with api_server.client("alice") as alice:
        assert alice.get(f"/v1/threads/{thread_id}").status_code == 200


def test_rate_limit_answers_429_with_retry_after(api_server: ApiServer) -> None:
    # `limited`: 1 request a minute, a burst of 2.
    with api_server.client("limited") as client:
        codes = [client.get("/v1/threads/nothing").status_code for _ in range(3)]
        assert codes == [404, 404, 429]
        refused = client.get("/v1/threads/nothing")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) in range(1, 61)
    assert refused.json()["error"]["type"] == "rate_limited"
    with api_server.client("alice") as alice:  # other keys keep their own budget
        assert alice.get("/v1/threads/nothing").status_code == 404
