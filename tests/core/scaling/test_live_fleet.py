"""Live on loopback: a load ramp through the real balancer makes the scaling loop (its decision
through Redis) start a second model instance (the fake OpenAI-protocol server as its own
process, and then a real `llama-server`), which then serves calls; after the ramp the loop
drains it and stops it, and every call sent is answered. The scaler's clock is injected: the
cool-down passes without a sleep."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aredis
from langchain_core.messages import HumanMessage
from prometheus_client.parser import text_string_to_metric_families

from core.llm.endpoints import HealthBoard
from core.llm.local_model import COHERENCE_MODEL, assemble
from core.llm.local_server import LocalModelServer
from core.llm.pooled import PooledChatModel, Target
from core.scaling.fleet import LocalFleet, llama_server_fleet, python_command
from core.scaling.service import ScalingService
from core.settings import Settings
from core.telemetry.timeline import Timeline
from testkit.fake_openai import FakeOpenAI

LATENCY_MS = 400
POLICY = {
    "min_instances": 1,
    "max_instances": 2,
    "slots_per_instance": 2,
    # no band here (the band is the unit tests'): 2 in flight fit on one instance exactly
    "target_utilisation": 1.0,
    "scale_down_utilisation": 1.0,
    "startup_s": 1.0,
    "scale_up_cooldown_s": 0.0,
    "scale_down_cooldown_s": 60.0,
    "scale_down_window_s": 0.0,
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def until(check: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Wait for a condition the calls under way bring about (bounded; not what is measured)."""
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110 - counters of the pool, no event to wait on
            await asyncio.sleep(0.01)
    assert check(), what


@pytest.fixture
async def base() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI(latency_s=LATENCY_MS / 1000, parallel=2).serve()
    yield fake
    fake.stop()


def scaling_settings(redis_url: str, **extra: object) -> Settings:
    return Settings(
        redis_url=redis_url,
        redis_key_prefix=f"scale-{uuid.uuid4().hex[:8]}",
        scaling_enabled=True,
        scaling_predictive=False,
        scaling_policy=POLICY,
        **extra,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def scaled(
    settings: Settings, model: PooledChatModel, fleet: LocalFleet
) -> AsyncIterator[tuple[ScalingService, Clock]]:
    """The scaling loop of one replica over `fleet`, its load `model`'s calls in flight; the
    fleet stopped afterwards."""
    client = aredis.from_url(settings.redis_url)
    clock = Clock()
    service = ScalingService(
        client,
        settings,
        "replica-a",
        load=lambda: (0, model.in_flight()),
        timeline=Timeline(client, f"{settings.redis_key_prefix}:telemetry", settings),
        fleet=fleet,
        clock=clock,
    )
    try:
        yield service, clock
    finally:
        await fleet.aclose()
        await client.aclose()


@pytest.fixture
async def rig(redis_url: str, base: FakeOpenAI) -> AsyncIterator[tuple]:
    settings = scaling_settings(redis_url)
    model = PooledChatModel(
        model_name="fake",
        static_targets=[Target(base_url=base.base_url)],
        board=HealthBoard(),
        slots=2,
        timeout_s=30,
        max_tokens=32,
    )
    fleet = LocalFleet(
        "local",
        python_command("testkit.fake_openai", "--latency-ms", str(LATENCY_MS), "--parallel", "2"),
        lambda: [model],
        base=1,
        ready_path="/v1/models",
        start_timeout_s=30,
        drain_timeout_s=30,
    )
    async with scaled(settings, model, fleet) as (service, clock):
        yield model, fleet, service, clock


async def ask(model: PooledChatModel, n: int) -> str:
    reply = await model.ainvoke([HumanMessage(f"Say hello number {n}.")])
    return str(reply.content)


async def scale_down(service: ScalingService, clock: Clock, fleet: LocalFleet) -> None:
    """After the ramp: the cool-down holds the first wish to scale down, the tick after it lets
    the second instance go, and the fleet drains it."""
    clock.now += 30
    assert (await service.tick()).decision.reason == "down wanted, cooling down"
    clock.now += 30
    decision = (await service.tick()).decision
    assert (decision.current, decision.desired) == (2, 1)
    await until(lambda: fleet.count("draining") == 1, "the second instance draining")


async def test_a_load_ramp_starts_a_second_instance_that_serves_then_drains_it(
    rig: tuple, base: FakeOpenAI
) -> None:
    model, fleet, service, clock = rig

    # the ramp: 8 calls on one instance of 2 slots
    first = [asyncio.create_task(ask(model, n)) for n in range(8)]
    await until(lambda: model.in_flight() == 8, "8 calls in flight")
    decision = (await service.tick()).decision
    assert (decision.current, decision.desired, decision.reason) == (1, 2, "up: load")
    await fleet.settled(timeout_s=30)
    assert fleet.count("serving") == 1
    assert (await service.status())["local_instances"]["slots"] == 2  # one slot a unit here
    instance = fleet.instances[0]
    assert model._pool.members() == [model.static_targets[0].base_url, instance.base_url]

    # the ramp goes on: new calls are balanced over both instances
    second = [asyncio.create_task(ask(model, n)) for n in range(8, 16)]
    answers = await asyncio.gather(*first, *second)
    async with httpx.AsyncClient() as http:
        stats = (await http.get(f"http://127.0.0.1:{instance.port}/_fake/stats")).json()
    assert stats["served"] == 4  # every other call of the second wave

    # after the ramp: two slow calls in flight, one on each instance, when the scaler lets one go
    base.latency_s = 3.0
    async with httpx.AsyncClient() as http:
        await http.post(f"http://127.0.0.1:{instance.port}/_fake/config", json={"latency_ms": 3000})
    last = [asyncio.create_task(ask(model, n)) for n in range(16, 18)]
    await until(lambda: model.in_flight(instance.base_url) == 1, "a call on the second instance")
    await scale_down(service, clock, fleet)
    assert model._pool.members() == [model.static_targets[0].base_url]
    assert model.in_flight(instance.base_url) == 1 and instance.process.poll() is None
    answers += await asyncio.gather(*last)
    await fleet.settled(timeout_s=30)

    assert instance.process.returncode is not None  # stopped, after its last call ended
    assert fleet.instances == []
    assert model._pool.urls == [model.static_targets[0].base_url]
    assert len(answers) == 18 and all(answers)  # no call lost
    assert model.in_flight() == 0


# --- the embedded model's own actuator: `llama-server` instances -----------------------------


@pytest.fixture
def llama_settings(redis_url: str, tmp_path: Path) -> Settings:
    """Two slots a server on one thread each, on the 0.5B model: two servers on two cores load
    and answer in seconds (the actuator runs the 1.5B default the same way)."""
    small = assemble(COHERENCE_MODEL, Settings().data_dir / "models")
    return scaling_settings(
        redis_url, data_dir=tmp_path / "data", model_path=small, local_parallel=2,
        local_threads=1, local_context=1024,
    )  # fmt: skip


@pytest.fixture
def llama_base(llama_settings: Settings) -> Iterator[LocalModelServer]:
    server = LocalModelServer(llama_settings, shared=False)
    server.start()
    yield server
    server.stop()


def llama_pool(server: LocalModelServer, max_tokens: int) -> PooledChatModel:
    return PooledChatModel(
        model_name=server.model_name, tier="local", max_tokens=max_tokens,
        legacy_max_tokens=True, slots=2, timeout_s=300, board=HealthBoard(),
        static_targets=[Target(base_url=server.base_url, api_key="local")],
    )  # fmt: skip


async def generated_tokens(root_url: str) -> float:
    """Tokens a `llama-server` has generated, by its own Prometheus counter."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{root_url}/metrics")).text
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return samples["llamacpp:tokens_predicted_total"]


@pytest.mark.model
async def test_a_load_ramp_starts_a_second_llama_server_that_serves_then_drains_it(
    llama_settings: Settings, llama_base: LocalModelServer
) -> None:
    """`llama_server_fleet`, the actuator `refinery serve` uses on the embedded model: the
    second instance is a `llama-server` process on the same model file, ready by its `/health`,
    joining the balancer with its slots, and stopped only once its last call has ended."""
    model = llama_pool(llama_base, max_tokens=32)  # the ramp outlasts the first tick
    long = llama_pool(llama_base, max_tokens=200)  # another role's calls: the drain waits for one
    fleet = llama_server_fleet(llama_settings, lambda: [model, long])
    async with scaled(llama_settings, model, fleet) as (service, clock):
        first = [asyncio.create_task(ask(model, n)) for n in range(6)]
        await until(lambda: model.in_flight() == 6, "6 calls in flight", 60)
        decision = (await service.tick()).decision
        assert (decision.current, decision.desired, decision.reason) == (1, 2, "up: load")
        await fleet.settled(timeout_s=180)
        [instance] = fleet.instances
        assert instance.state == "serving" and instance.slots == 2
        assert model._pool.members() == [llama_base.base_url, instance.base_url]
        assert long._pool.members() == [llama_base.base_url, instance.base_url]

        second = [asyncio.create_task(ask(model, n)) for n in range(6, 12)]
        answers = await asyncio.gather(*first, *second)
        root = instance.base_url.removesuffix("/v1")
        assert await generated_tokens(root) > 0  # the new server answered some of them

        stories = [
            asyncio.create_task(long.ainvoke([HumanMessage("Write a long story about a harbour.")]))
            for _ in range(2)
        ]
        await until(lambda: long.in_flight(instance.base_url) >= 1, "a call on the second", 60)
        await scale_down(service, clock, fleet)
        assert long._pool.members() == [llama_base.base_url]
        assert long.in_flight(instance.base_url) >= 1 and instance.process.poll() is None
        replies = await asyncio.gather(*stories)
        await fleet.settled(timeout_s=120)

        assert instance.process.returncode is not None  # stopped, after its last call ended
        assert fleet.instances == [] and model._pool.urls == [llama_base.base_url]
        assert len(answers) == 12 and all(answers) and all(r.content for r in replies)
