"""The local fleet's limits: no instance starts that the machine's memory would not hold, and
the balancers it joins are every role's pool of the group (`core.llm.factory.balancers`); an
instance let go while it starts never joins, and a draining one is taken back before a new one
starts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from core.llm.endpoints import HealthBoard
from core.llm.factory import balancers, chat_model
from core.llm.pooled import PooledChatModel, Target
from core.run_config import RoleModel
from core.scaling.fleet import (
    Command,
    LocalFleet,
    llama_server_command,
    llama_server_fleet,
    llama_server_memory,
    llama_server_slot_bytes,
    python_command,
)
from core.settings import Settings
from testkit.fake_openai import FakeOpenAI
from testkit.llm import Configure

GB = 1024**3


def refuse(port: int, slots: int) -> list[str]:
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


# --- instances sized in slots -------------------------------------------------------------------


def sleeper(started: list[int]) -> Command:
    """A command that records each instance's slots and starts a process that never answers."""

    def command(port: int, slots: int) -> list[str]:
        started.append(slots)
        return ["sleep", "60"]

    return command


def sized_fleet(started: list[int], **memory: Any) -> LocalFleet:
    """Units of 4 slots, new instances of 2 to 8, the base's one server of 4."""
    return LocalFleet(
        "local", sleeper(started), lambda: [], unit_slots=4, slot_range=(2, 8), base_slots=4,
        **memory,
    )  # fmt: skip


async def test_a_new_instance_gets_the_slots_the_group_lacks_within_the_range() -> None:
    started: list[int] = []
    fleet = sized_fleet(started)
    await fleet.apply(3)  # 12 slots wanted, the base has 4: one instance of 8, not two of 4
    assert started == [8] and fleet.current_slots() == 12 and fleet.current() == 2
    await fleet.apply(4)  # 4 more
    await fleet.apply(6)  # 8 more
    assert started == [8, 4, 8]
    await fleet.apply(7)  # 4 more
    await fleet.apply(7)  # nothing lacking
    assert started == [8, 4, 8, 4] and fleet.current_slots() == 28
    await fleet.aclose()
    assert fleet.instances == []


async def test_fewer_slots_start_where_the_memory_holds_no_more_and_none_below_the_fewest() -> None:
    started: list[int] = []
    fleet = sized_fleet(
        started,
        instance_bytes=4 * GB,
        slot_bytes=GB,
        reserve_bytes=GB,
        memory=lambda: 10 * GB,  # 10 - 1 reserved - 4 for the model leaves 5 slots
    )
    await fleet.apply(3)
    # 5 of the 8 lacking; the 3 still lacking do not fit beside the one starting (not resident)
    assert started == [5] and fleet.refused_for_memory == 1
    await fleet.aclose()


async def test_scaling_down_stops_only_instances_that_fit_in_the_surplus() -> None:
    started: list[int] = []
    fleet = sized_fleet(started)
    await fleet.apply(3)  # 8 slots
    await fleet.apply(4)  # and 4
    big, small = fleet.instances
    await fleet.apply(2)  # 8 wanted, 16 there: the newest (4) fits in the surplus, 8 no more
    async with asyncio.timeout(30):
        while fleet.instances != [big]:  # noqa: ASYNC110 - the fleet's own list
            await asyncio.sleep(0.01)
    assert big.state == "starting" and fleet.current_slots() == 12
    assert small.process.returncode is not None
    await fleet.apply(1)  # 4 wanted: the 8 goes, the base's 4 stay
    async with asyncio.timeout(30):
        while fleet.instances:  # noqa: ASYNC110 - the fleet's own list
            await asyncio.sleep(0.01)
    assert fleet.current_slots() == 4 and big.process.returncode is not None
    await fleet.settled(timeout_s=30)


async def test_closing_stops_every_instance_where_a_unit_holds_more_than_the_base() -> None:
    started: list[int] = []
    fleet = LocalFleet(
        "local", sleeper(started), lambda: [], unit_slots=4, slot_range=(1, 8), base_slots=2
    )
    await fleet.apply(1)  # one unit is 4 slots, the base has 2
    assert started == [2]
    await fleet.aclose()
    assert fleet.instances == [] and fleet.current_slots() == 2


def test_a_slot_range_is_ordered() -> None:
    with pytest.raises(ValueError, match="slot range"):
        LocalFleet("local", refuse, lambda: [], slot_range=(4, 2))


async def test_a_sized_instance_joins_with_a_weight_and_a_slot_limit_for_its_slots(
    pooled: tuple,
) -> None:
    model, _ = pooled
    assert (await model.ainvoke([HumanMessage("Say hello.")])).content
    fleet = LocalFleet(
        "local",
        python_command("testkit.fake_openai", slots_flag="--parallel"),
        lambda: [model],
        ready_path="/v1/models",
        start_timeout_s=30,
        unit_slots=2,
        slot_range=(3, 3),
        base_slots=2,
    )
    await fleet.apply(2)  # 4 wanted, the base has 2: one instance, of the range's 3
    await fleet.settled(timeout_s=30)
    (instance,) = fleet.instances
    assert instance.state == "serving" and instance.process.args[-2:] == ["--parallel", "3"]
    target = model._targets[instance.base_url]
    assert (target.weight, target.slots) == (1.5, 3)  # 3 slots where a unit of 2 weighs 1
    assert model._pool.weights == [1.0, 1.5]
    await fleet.aclose()
    assert model._pool.urls == [model.static_targets[0].base_url]


def test_without_a_range_every_instance_has_the_unit_s_slots_and_the_pool_s_limit() -> None:
    fleet = LocalFleet("local", refuse, lambda: [], unit_slots=4)
    assert fleet._size(1) == fleet._size(12) == 4 and fleet.current_slots() == 4


# --- the embedded model's instances --------------------------------------------------------------


@pytest.fixture
def model_settings(tmp_path: Path) -> Callable[..., Settings]:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"\0" * 1000)

    def make(**policy: int) -> Settings:
        return Settings(
            model_path=path,
            data_dir=tmp_path,
            local_context=1024,
            local_parallel=2,
            scaling_policy=policy,
            scaling_memory_reserve_mb=0,
        )

    return make


def test_a_llama_server_command_and_memory_take_the_instance_s_slots(
    model_settings: Callable[..., Settings],
) -> None:
    settings = model_settings()
    args = llama_server_command(settings)(8123, 5)
    assert args[args.index("--parallel") + 1] == "5"
    assert args[args.index("--ctx-size") + 1] == str(5 * 1024)  # every slot its own context
    assert args[args.index("--port") + 1] == "8123"
    slot = llama_server_slot_bytes(settings)
    assert slot == 1024 * 28 * 1024
    assert llama_server_memory(settings, 5) == 1000 + 5 * slot
    assert llama_server_memory(settings) == 1000 + 2 * slot  # the local server's own slots


def test_the_embedded_fleet_counts_instances_unless_the_policy_sizes_them(
    model_settings: Callable[..., Settings],
) -> None:
    fixed = llama_server_fleet(model_settings(slots_per_instance=4), lambda: [])
    # as before: every instance has the local server's 2 slots, one decision's instance each
    assert (fixed.unit_slots, fixed.slot_range, fixed.base_slots, fixed.weight) == (2, None, 2, 1.0)
    assert fixed.instance_bytes + 2 * fixed.slot_bytes == 1000 + 2 * 1024 * 28 * 1024
    sized = llama_server_fleet(
        model_settings(slots_per_instance=4, min_slots_per_instance=2, max_slots_per_instance=8),
        lambda: [],
    )
    assert (sized.unit_slots, sized.slot_range, sized.base_slots) == (4, (2, 8), 2)
    assert sized.weight * 8 / sized.unit_slots == 4.0  # 8 slots weigh 4x the local server's 2
