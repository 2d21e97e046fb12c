"""The local fleet's limits: no instance starts that the machine's memory would not hold, and
the balancers it joins are every role's pool of the group (`core.llm.factory.balancers`)."""

from __future__ import annotations

from core.llm.factory import balancers, chat_model
from core.run_config import RoleModel
from core.scaling.fleet import LocalFleet
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
