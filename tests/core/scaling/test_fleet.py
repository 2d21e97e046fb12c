"""The local fleet's limits: no instance starts that the machine's memory would not hold, and
the balancers it joins are every role's pool of the group (`core.llm.factory.balancers`); an
instance let go while it starts never joins, and a draining one is taken back before a new one
starts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from langchain_core.messages import HumanMessage

from core.llm.endpoints import HealthBoard
from core.llm.factory import balancers, chat_model
from core.llm.pooled import PooledChatModel, Target
from core.run_config import RoleModel
from core.scaling.fleet import LocalFleet, python_command
from testkit.fake_openai import FakeOpenAI
from testkit.llm import Configure

GB = 1024**3


def refuse(port: int) -> list[str]:
    raise AssertionError(f"no instance should start (port {port})")


async def test_an_instance_the_memory_would_not_hold_is_not_started() -> None:
    fleet = LocalFleet(
        "local",
        refuse,
        lambda: [],
        base=1,
        instance_bytes=4 * GB,
        reserve_bytes=2 * GB,
        memory=lambda: 5 * GB,  # 5 - 2 reserved leaves 3: one 4 GB instance does not fit
    )
    await fleet.apply(2)
    assert fleet.refused_for_memory == 1
    assert fleet.instances == [] and fleet.current() == 1


async def test_the_base_instance_is_never_stopped() -> None:
    fleet = LocalFleet("local", refuse, lambda: [], base=1)
    await fleet.apply(0)
    assert fleet.current() == 1 and fleet.instances == []


def test_every_role_s_pool_of_a_tier_is_a_balancer_of_its_group(llm_settings: Configure) -> None:
    llm_settings(openai_base_url="http://127.0.0.1:9/v1", llm_cache=False)
    drafter = chat_model(RoleModel(temperature=0.7, max_tokens=64))
    critic = chat_model(RoleModel(temperature=0.0, max_tokens=32))
    found = balancers("tier0")
    assert any(m is drafter.primary for m in found) and any(m is critic.primary for m in found)
    assert all(m.tier == "tier0" for m in found)


@pytest.fixture
async def pooled() -> AsyncIterator[tuple[PooledChatModel, FakeOpenAI]]:
    fake = FakeOpenAI(latency_s=0.0).serve()
    model = PooledChatModel(
        model_name="fake",
        static_targets=[Target(base_url=fake.base_url)],
        board=HealthBoard(),
        timeout_s=30,
    )
    yield model, fake
    fake.stop()


def fleet_of(model: PooledChatModel, latency_ms: int = 0) -> LocalFleet:
    command = python_command("testkit.fake_openai", "--latency-ms", str(latency_ms))
    return LocalFleet(
        "local", command, lambda: [model], ready_path="/v1/models", start_timeout_s=30
    )


async def test_an_instance_let_go_while_it_starts_never_joins(pooled: tuple) -> None:
    model, _ = pooled
    assert (await model.ainvoke([HumanMessage("Say hello.")])).content
    fleet = fleet_of(model)
    await fleet.apply(2)
    (instance,) = fleet.instances
    await fleet.apply(1)
    await fleet.settled(timeout_s=30)
    assert instance.process.returncode is not None
    assert fleet.instances == [] and model._pool.urls == [model.static_targets[0].base_url]


async def test_a_draining_instance_serves_again_before_a_new_one_starts(pooled: tuple) -> None:
    model, _ = pooled
    fleet = fleet_of(model, latency_ms=1500)
    await fleet.apply(2)
    await fleet.settled(timeout_s=30)
    (instance,) = fleet.instances
    model._pool.drain(model.static_targets[0].base_url)  # the next call goes to the instance
    call = asyncio.create_task(model.ainvoke([HumanMessage("Say hello.")]))
    async with asyncio.timeout(10):
        while model.in_flight(instance.base_url) == 0:  # noqa: ASYNC110 - a pool counter
            await asyncio.sleep(0.01)
    model._pool.add(model.static_targets[0].base_url)
    await fleet.apply(1)
    await asyncio.sleep(0)  # the drain task marks it draining
    assert instance.state == "draining"
    await fleet.apply(2)
    assert fleet.instances == [instance] and instance.state == "serving"
    assert (await call).content
    await fleet.settled(timeout_s=30)
    assert instance.process.poll() is None and instance.base_url in model._pool.members()
    await fleet.aclose()
    assert instance.process.returncode is not None
