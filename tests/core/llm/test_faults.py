"""Fault injection: a fake model server on loopback answers 429, 500, malformed bodies and hangs
on a schedule; every request still completes through retries or fallbacks, the retry delays
grow exponentially up to the cap, and the counters say what happened."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.llm.factory import chat_model, complete
from core.llm.stats import llm_stats
from core.run_config import RoleModel
from testkit.fake_openai import UNRECOGNISED, FakeOpenAI
from testkit.llm import Configure

ROLE = RoleModel(temperature=0.0, max_tokens=32)
INITIAL, CAP, JITTER = 0.08, 0.3, 0.02
HANG_TIMEOUT_S = 4.0
"""The per-call timeout where a hang must be noticed: far above what an answered call takes
on loopback even on a starved machine (a shorter one timed out real answers and broke the
exact counts), so only the scheduled hangs time out."""


@pytest.fixture
def fakes() -> Iterator[list[FakeOpenAI]]:
    servers: list[FakeOpenAI] = []
    yield servers
    for server in servers:
        server.stop()


def serve(fakes: list[FakeOpenAI], **kwargs: object) -> FakeOpenAI:
    fake = FakeOpenAI(**kwargs).serve()  # type: ignore[arg-type]
    fakes.append(fake)
    return fake


def retry_settings(**extra: object) -> dict[str, object]:
    return {
        "llm_cache": False,
        "llm_retry_initial_s": INITIAL,
        "llm_retry_max_s": CAP,
        "llm_retry_jitter_s": JITTER,
        "llm_retry_exp_base": 2.0,
        "llm_eject_after": 100,
        **extra,
    }


async def test_delays_grow_exponentially_and_stop_at_the_cap(
    llm_settings: Configure, fakes: list[FakeOpenAI]
) -> None:
    schedule = {1: "429", 2: "500", 3: "malformed", 4: "429", 5: "500"}
    fake = serve(fakes, faults=schedule)
    llm_settings(**retry_settings(openai_base_url=fake.base_url, llm_max_retries=6))

    [text], usage = await complete("test", ROLE, ["Say something."], "system")

    assert text == UNRECOGNISED and usage["calls"] == 1
    assert fake.calls == 6 and fake.served == 1
    expected = [min(INITIAL * 2**i, CAP) for i in range(5)]  # 0.08 0.16 0.3 0.3 0.3
    stats = llm_stats().snapshot()
    for scheduled, base in zip(stats.retry_delays_s, expected, strict=True):
        assert base - 1e-6 <= scheduled <= min(base + JITTER, CAP) + 1e-6
    delays = stats.retry_delays_s
    assert delays[1] > 1.5 * delays[0] and delays[2] > 1.5 * delays[1]  # doubling...
    assert max(delays) <= CAP + 1e-6  # ...until the cap
    # the server saw each retry no sooner than its delay (an upper bound would time the machine)
    gaps = [b - a for a, b in zip(fake.call_times, fake.call_times[1:], strict=False)]
    for gap, scheduled in zip(gaps, delays, strict=True):
        assert gap >= scheduled - 0.01
    assert stats.failures == {"http_429": 2, "http_500": 2, "malformed": 1}
    assert stats.retries == stats.failures
    assert stats.calls == {fake.base_url: 6}


async def test_a_hang_times_out_and_is_retried(
    llm_settings: Configure, fakes: list[FakeOpenAI]
) -> None:
    fake = serve(fakes, faults={1: "hang"})
    llm_settings(**retry_settings(openai_base_url=fake.base_url, llm_timeout_s=HANG_TIMEOUT_S))

    [text], _ = await complete("test", ROLE, ["Say something."], "system")

    assert text == UNRECOGNISED
    assert fake.call_times[1] - fake.call_times[0] >= HANG_TIMEOUT_S
    assert llm_stats().snapshot().failures == {"timeout": 1}


CONFIGURED_TIMEOUT_S = 60.0


def adaptive_settings(fake: FakeOpenAI) -> dict[str, object]:
    """A timeout of 4 x the calls' p99, at least the hang guard, at most the configured 60 s."""
    return retry_settings(
        openai_base_url=fake.base_url,
        llm_timeout_s=CONFIGURED_TIMEOUT_S,
        llm_timeout_multiple=4.0,
        llm_timeout_floor_s=HANG_TIMEOUT_S,
    )


async def test_once_calls_are_fast_a_hang_is_cut_at_the_timeout_they_set_not_the_configured(
    llm_settings: Configure, fakes: list[FakeOpenAI]
) -> None:
    fake = serve(fakes, faults={21: "hang"})
    llm_settings(**adaptive_settings(fake))
    for _ in range(20):  # loopback answers: 4 x their p99 is under the floor
        await complete("test", ROLE, ["Say something."], "system")

    [text], _ = await complete("test", ROLE, ["Say something."], "system")

    assert text == UNRECOGNISED
    waited = fake.call_times[21] - fake.call_times[20]
    assert HANG_TIMEOUT_S <= waited < CONFIGURED_TIMEOUT_S  # the floor, not the configured 60 s
    assert llm_stats().snapshot().failures == {"timeout": 1}


async def test_a_stream_that_hangs_is_cut_at_the_timeout_the_streams_before_it_set(
    llm_settings: Configure, fakes: list[FakeOpenAI]
) -> None:
    fake = serve(fakes, faults={21: "hang"})
    llm_settings(**adaptive_settings(fake))
    model = chat_model(ROLE)
    for _ in range(20):
        assert [c async for c in model.astream("Stream, please.")]

    chunks = [c.content async for c in model.astream("Stream, please.")]

    assert "".join(str(c) for c in chunks) == UNRECOGNISED
    waited = fake.call_times[21] - fake.call_times[20]
    assert HANG_TIMEOUT_S <= waited < CONFIGURED_TIMEOUT_S
    assert llm_stats().snapshot().failures == {"timeout": 1}


async def test_every_request_completes_under_a_fault_schedule(
    llm_settings: Configure, fakes: list[FakeOpenAI]
) -> None:
    cycle = ["429", None, "500", None, "malformed", None, "hang", None, None]
    fake = serve(fakes, fault_cycle=cycle)
    llm_settings(
        **retry_settings(
            openai_base_url=fake.base_url, llm_max_retries=8, llm_timeout_s=HANG_TIMEOUT_S
        )
    )
    prompts = [f"Request {i}." for i in range(24)]

    texts, usage = await complete("test", ROLE, prompts, "system")

    assert texts == [UNRECOGNISED] * 24 and usage["calls"] == 24
    stats = llm_stats().snapshot()
    assert fake.served == 24
    causes = {"429": "http_429", "500": "http_500", "malformed": "malformed", "hang": "timeout"}
    failed = {causes[fault]: n for fault, n in fake.failed.items()}
    assert set(failed) == set(causes.values())  # each kind of fault happened
    assert stats.failures == failed
    assert stats.retries_total == sum(failed.values()) == fake.calls - 24
    assert stats.calls == {fake.base_url: fake.calls}


async def test_a_failing_primary_falls_back_and_is_cooled_down(
    llm_settings: Configure, fakes: list[FakeOpenAI]
) -> None:
    primary = serve(fakes, fault_cycle=["500"])
    secondary = serve(fakes)
    endpoints = [
        {"base_url": primary.base_url, "tier": 0},
        {"base_url": secondary.base_url, "tier": 1},
    ]
    llm_settings(
        **retry_settings(
            llm_endpoints=endpoints,
            llm_local_fallback=False,
            llm_max_retries=2,
            llm_eject_after=3,
            llm_cooldown_s=60,
        )
    )

    for i in range(6):
        [text], _ = await complete("test", ROLE, [f"Request {i}."], "system")
        assert text == UNRECOGNISED

    stats = llm_stats().snapshot()
    # Request 0: three attempts on the primary eject it; then the secondary answers.
    # Requests 1-5 go straight to the secondary: the primary is cooling down, not hammered.
    assert primary.calls == 3 and secondary.served == 6
    assert stats.ejections == {primary.base_url: 1}
    assert stats.fallbacks == {"tier1": 6}


async def test_a_stream_failing_before_its_first_token_falls_back(
    llm_settings: Configure, fakes: list[FakeOpenAI]
) -> None:
    primary = serve(fakes, fault_cycle=["429"])
    secondary = serve(fakes)
    endpoints = [
        {"base_url": primary.base_url, "tier": 0},
        {"base_url": secondary.base_url, "tier": 1},
    ]
    llm_settings(
        **retry_settings(llm_endpoints=endpoints, llm_local_fallback=False, llm_max_retries=1)
    )

    chunks = [c.content async for c in chat_model(ROLE).astream("Stream, please.")]

    assert "".join(str(c) for c in chunks) == UNRECOGNISED
    assert len([c for c in chunks if c]) == len(UNRECOGNISED.split())  # word by word, not whole
    assert primary.calls == 2 and secondary.served == 1
    stats = llm_stats().snapshot()
    assert stats.retries == {"http_429": 1} and stats.fallbacks == {"tier1": 1}


async def test_weighted_balancing_ejects_an_unhealthy_endpoint(
    llm_settings: Configure, fakes: list[FakeOpenAI]
) -> None:
    heavy, light = serve(fakes), serve(fakes)
    endpoints = [
        {"base_url": heavy.base_url, "weight": 3},
        {"base_url": light.base_url, "weight": 1},
    ]
    llm_settings(
        **retry_settings(
            llm_endpoints=endpoints, llm_local_fallback=False, llm_eject_after=2, llm_cooldown_s=60
        )
    )

    await complete("test", ROLE, [f"Request {i}." for i in range(8)], "system")
    assert (heavy.served, light.served) == (6, 2)

    heavy.fault_cycle = ["500"]
    for i in range(8):
        [text], _ = await complete("test", ROLE, [f"More {i}."], "system")
        assert text == UNRECOGNISED
    assert heavy.calls == 6 + 2  # two failures eject it; the light one serves the rest
    assert light.served == 2 + 8
    assert llm_stats().snapshot().ejections == {heavy.base_url: 1}
