"""The response cache: a repeated identical request is answered from Redis with zero model
tokens, across two processes; only deterministic calls are cached, keyed by their parameters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from core.llm.factory import complete
from core.llm.stats import llm_stats
from core.run_config import RoleModel
from core.settings import PROJECT_ROOT
from testkit.fake_openai import UNRECOGNISED, FakeOpenAI
from testkit.llm import Configure

ASK = """
import asyncio, json
from core.llm.factory import complete
from core.llm.stats import llm_stats
from core.run_config import RoleModel

texts, usage = asyncio.run(complete("draft", RoleModel(temperature=0.0), ["Name a colour."], "s"))
print(json.dumps({"texts": texts, "usage": usage, "stats": llm_stats().snapshot().model_dump()}))
"""


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().serve()
    yield server
    server.stop()


def ask_in_a_new_process(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", ASK],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_repeated_request_is_served_from_redis_in_another_process(
    fake: FakeOpenAI, redis_url: str
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "REFINERY_OPENAI_BASE_URL": fake.base_url,
        "REFINERY_REDIS_URL": redis_url,
        "REFINERY_REDIS_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
    }

    first = ask_in_a_new_process(env)
    second = ask_in_a_new_process(env)

    assert first["texts"] == second["texts"] == [UNRECOGNISED]
    assert first["usage"]["input_tokens"] > 0 and first["usage"]["calls"] == 1
    assert second["usage"]["input_tokens"] == second["usage"]["output_tokens"] == 0
    assert second["usage"]["calls"] == 0
    assert second["stats"]["cache_hits"] == {"redis": 1}
    assert second["stats"]["saved_input_tokens"] == first["usage"]["input_tokens"]
    assert second["stats"]["saved_output_tokens"] == first["usage"]["output_tokens"]
    assert fake.served == 1  # the second process never reached the model


async def test_only_deterministic_calls_are_cached_and_keys_hold_the_seed(
    llm_settings: Configure, fake: FakeOpenAI
) -> None:
    llm_settings(openai_base_url=fake.base_url, llm_cache_redis=False)
    warm_unseeded = RoleModel(temperature=0.7, seed=None)
    for _ in range(2):
        await complete("draft", warm_unseeded, ["Tell a story."], "s")
    assert fake.served == 2  # sampling without a seed is never replayed

    for seed in (1, 2, 1):
        await complete("draft", RoleModel(temperature=0.7, seed=seed), ["Tell a story."], "s")
    assert fake.served == 4  # seed 1 twice: one model call, one hit
    assert llm_stats().snapshot().cache_hits == {"memory": 1}


async def test_the_in_process_layer_is_a_bounded_lru(
    llm_settings: Configure, fake: FakeOpenAI
) -> None:
    llm_settings(openai_base_url=fake.base_url, llm_cache_redis=False, llm_cache_entries=2)
    role = RoleModel()
    for prompt in ("a", "b", "a", "c", "a", "b"):  # "b" is the least recently used when "c" comes
        await complete("critique", role, [prompt], "s")
    assert fake.served == 4  # a, b, c, then b again
    assert llm_stats().snapshot().cache_hits == {"memory": 2}


async def test_redis_down_means_a_miss_not_a_failure(
    llm_settings: Configure, fake: FakeOpenAI
) -> None:
    llm_settings(
        openai_base_url=fake.base_url, redis_url="redis://127.0.0.1:9/0", redis_pool_timeout_s=0.2
    )
    [text], usage = await complete("critique", RoleModel(), ["Hello."], "s")
    assert text == UNRECOGNISED and usage["calls"] == 1
    stats = llm_stats().snapshot()
    assert stats.cache_errors == 2 and stats.cache_misses == 1  # lookup and store failed
