"""Members joining and draining a pool while it serves (what the capacity scaler's fleet does)."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import HumanMessage

from core.llm.endpoints import EndpointPool, HealthBoard, NoHealthyEndpointError
from core.llm.pooled import PooledChatModel, Target
from testkit.fake_openai import FakeOpenAI


def pool(*urls: str) -> EndpointPool:
    return EndpointPool(list(urls), [1.0] * len(urls), HealthBoard())


def test_a_joined_member_takes_its_weighted_share_of_the_next_picks() -> None:
    p = pool("a")
    p.add("b", 3.0)
    picks = [p.pick() for _ in range(8)]
    assert picks.count("b") == 6 and picks.count("a") == 2


def test_a_draining_member_gets_no_new_call_and_its_calls_in_flight_are_counted() -> None:
    p = pool("a", "b")
    first, second = p.pick(), p.pick()
    assert {first, second} == {"a", "b"}
    p.drain("b")
    assert [p.pick() for _ in range(4)] == ["a"] * 4
    assert p.in_flight("b") == 1
    p.release("b")
    assert p.in_flight("b") == 0
    assert p.members() == ["a"]
    p.remove("b")
    assert p.urls == ["a"] and p.in_flight() == 5


def test_the_last_serving_member_cannot_be_drained() -> None:
    p = pool("a", "b")
    p.drain("a")
    with pytest.raises(ValueError, match="last serving member"):
        p.drain("b")
    assert p.pick() == "b"


def test_a_drained_member_joins_again_when_added() -> None:
    p = pool("a", "b")
    p.drain("b")
    p.add("b")
    assert sorted(p.pick() for _ in range(2)) == ["a", "b"]


def test_draining_never_falls_back_to_a_draining_member_in_panic_mode() -> None:
    board = HealthBoard(eject_after=1)
    p = EndpointPool(["a", "b"], [1.0, 1.0], board, panic=False)
    p.drain("b")
    board.failure("a", "timeout")
    with pytest.raises(NoHealthyEndpointError):
        p.pick()
    p.panic = True
    assert p.pick() == "a"


async def _fan_out(model: PooledChatModel, calls: int) -> None:
    await asyncio.gather(*(model.ainvoke([HumanMessage("Say hello.")]) for _ in range(calls)))


async def test_a_joined_endpoint_s_own_slots_bound_its_calls_and_a_rejoin_takes_new_ones() -> None:
    first, joined = FakeOpenAI(latency_s=0.3).serve(), FakeOpenAI(latency_s=0.3).serve()
    model = PooledChatModel(
        model_name="fake",
        static_targets=[Target(base_url=first.base_url)],
        board=HealthBoard(),
        timeout_s=30,
    )  # no pool-wide slot limit: only the joined endpoint's own
    try:
        model.join(Target(base_url=joined.base_url, slots=2))
        model.drain(first.base_url)
        await _fan_out(model, 4)
        assert joined.max_active == 2 and first.calls == 0
        # the same address again (a new server on a freed port) with another slot count
        model.join(Target(base_url=first.base_url))
        model.drain(joined.base_url)
        model.leave(joined.base_url)
        model.join(Target(base_url=joined.base_url, slots=3))
        model.drain(first.base_url)
        joined.max_active = 0
        await _fan_out(model, 6)
        assert joined.max_active == 3
    finally:
        first.stop()
        joined.stop()
