"""Limits against a real server: body size (413), validation (422, saying how to fix it), and
capacity (503 + Retry-After, more urgent requests shedding less urgent waiters)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from testkit.api_server import MAX_BODY_BYTES, ApiServer

GUARD_S = 60.0
"""How long an answer may take before the test fails (never reached when it works)."""

INVALID = {
    "empty task": ({"task": ""}, "body.task", "at least 1"),
    "blank task": ({"task": "   "}, "body.task", "write what"),
    "task too long": ({"task": "x" * 4001}, "body.task", "at most 4000"),
    "unknown config": ({"task": "t", "config": "nope"}, "body.config", "refine_default"),
    "bad priority": ({"task": "t", "priority": "urgent"}, "body.priority", "'high'"),
    "too many words": (
        {"task": "t", "constraints": {"required_words": [f"w{i}" for i in range(51)]}},
        "body.constraints.required_words",
        "at most 50",
    ),
    "extra field": ({"task": "t", "temperature": 2}, "body.temperature", "remove this field"),
    "bad document id": (
        {"task": "t", "documents": [{"id": "a b", "text": "x"}]},
        "body.documents.0.id",
        "letters, digits",
    ),
    "unknown instruction kind": (
        {"task": "t", "constraints": {"instructions": [{"kind": "rhyme"}]}},
        "body.constraints.instructions.0",
        "word_count",
    ),
    "instruction without a kind": (
        {"task": "t", "constraints": {"instructions": [{"at_most": 3}]}},
        "body.constraints.instructions.0",
        "give each instruction a `kind`",
    ),
    "instruction missing a field": (
        {"task": "t", "constraints": {"instructions": [{"kind": "end_phrase"}]}},
        "body.constraints.instructions.0.end_phrase.phrase",
        "add this field",
    ),
    "instruction count out of range": (
        {"task": "t", "constraints": {"instructions": [{"kind": "word_count", "at_most": -1}]}},
        "body.constraints.instructions.0.word_count.at_most",
        "bound",
    ),
    "instruction with two relations": (
        {
            "task": "t",
            "constraints": {"instructions": [{"kind": "word_count", "exactly": 3, "at_most": 9}]},
        },
        "body.constraints.instructions.0.word_count",
        "give `exactly` alone",
    ),
    "too many instructions": (
        {"task": "t", "constraints": {"instructions": [{"kind": "no_commas"}] * 21}},
        "body.constraints.instructions",
        "at most 20",
    ),
    "too many documents": (
        {"task": "t", "documents": [{"id": f"d{i}", "text": "x"} for i in range(201)]},
        "body.documents",
        "at most 200",
    ),
}


@pytest.mark.parametrize("case", INVALID, ids=list(INVALID))
def test_invalid_requests_get_422_saying_how_to_fix_them(api_server: ApiServer, case: str) -> None:
    body, field, fix = INVALID[case]
    with api_server.client() as client:
        response = client.post("/v1/refinements", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request"
    assert error["details"][0]["field"] == field
    assert fix in error["details"][0]["fix"]


def test_instruction_kinds_are_listed_with_their_fields(api_server: ApiServer) -> None:
    with api_server.client() as client:
        kinds = {k["kind"]: k for k in client.get("/v1/instructions").json()}
    assert kinds["end_phrase"]["required"] == ["phrase"]
    assert set(kinds["word_count"]["fields"]) == {"at_least", "at_most", "exactly"}
    assert len(kinds) >= 75


def test_malformed_json_gets_422(api_server: ApiServer) -> None:
    with api_server.client() as client:
        response = client.post(
            "/v1/refinements", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 422
    assert "valid JSON" in response.json()["error"]["fix"]


def test_a_body_over_the_limit_gets_413(api_server: ApiServer) -> None:
    body = {"task": "t", "documents": [{"id": "big", "text": "word " * (MAX_BODY_BYTES // 5)}]}
    with api_server.client() as client:
        response = client.post("/v1/refinements", json=body)
        chunked = client.post(
            "/v1/refinements",
            content=iter([b'{"task": "' + b"x" * 30_000]),
            headers={"Content-Type": "application/json"},
        )
    for answer in (response, chunked):
        assert answer.status_code == 413
        error = answer.json()["error"]
        assert error["type"] == "body_too_large" and str(MAX_BODY_BYTES) in error["message"]


async def test_overload_gets_503_and_urgent_requests_shed_waiters(api_server: ApiServer) -> None:
    """Capacity is 2 running + 2 waiting: of 5 normal requests one is refused at once; a high
    one then sheds the newest normal waiter and still runs; a low one is refused. The model
    holds every call until the end, so no run finishes and frees a place meanwhile."""
    body = {"task": "Say hello."}

    async def first_answer(
        tasks: set[asyncio.Task[httpx.Response]],
    ) -> tuple[asyncio.Task[httpx.Response], httpx.Response]:
        """The first of `tasks` to be answered, and its answer (the others go on)."""
        done, _ = await asyncio.wait(tasks, timeout=GUARD_S, return_when=asyncio.FIRST_COMPLETED)
        assert done, f"no answer within {GUARD_S} s"
        [answered] = done
        tasks.discard(answered)
        return answered, answered.result()

    api_server.fake.hold()
    try:
        async with httpx.AsyncClient(
            base_url=api_server.base_url, timeout=GUARD_S, headers=api_server.auth("alice")
        ) as client:
            normal = [
                asyncio.create_task(client.post("/v1/refinements", json=body)) for _ in range(5)
            ]
            waiting = set(normal)
            _, full = await first_answer(waiting)  # refused: the other four hold every place
            assert full.status_code == 503, full.text
            high = asyncio.create_task(
                client.post("/v1/refinements", json=body | {"priority": "high"})
            )
            # The newest normal waiter makes room for it.
            answered, shed = await first_answer(waiting | {high})
            assert answered is not high, f"the high request was answered first: {shed.text}"
            waiting.discard(answered)
            assert shed.status_code == 503, shed.text
            low = await client.post("/v1/refinements", json=body | {"priority": "low"})
            api_server.fake.hold(False)
            answers = await asyncio.gather(*normal)
            high_answer = await high
    finally:
        api_server.fake.hold(False)

    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 200, 200, 503, 503], [a.text for a in answers]
    refused = [a for a in answers if a.status_code == 503]
    for answer in refused:
        assert int(answer.headers["retry-after"]) >= 1
        assert answer.json()["error"]["type"] == "overloaded"
    assert any("shed" in a.json()["error"]["message"] for a in refused)
    assert high_answer.status_code == 200
    assert low.status_code == 503 and "queue full" in low.json()["error"]["message"]
