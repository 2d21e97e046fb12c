"""The pooled chat model across event loops: each `asyncio.run` in one process (a CLI command,
a script, a test) gets working connections, not the first loop's pool."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from core.llm.factory import complete
from core.run_config import RoleModel
from testkit.fake_openai import UNRECOGNISED, FakeOpenAI
from testkit.llm import Configure

ROLE = RoleModel(temperature=0.0, max_tokens=32)


@pytest.fixture
def fake(llm_settings: Configure) -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().serve()
    llm_settings(openai_base_url=server.base_url, llm_cache=False, llm_max_retries=0)
    yield server
    server.stop()


def test_a_second_event_loop_in_the_process_gets_answers(fake: FakeOpenAI) -> None:
    async def one_call(n: int) -> str:
        [text], _ = await complete("test", ROLE, [f"Say something, {n}."], "system")
        return text

    first = asyncio.run(one_call(1))
    second = asyncio.run(one_call(2))  # same models, same endpoint, a new loop
    assert [first, second] == [UNRECOGNISED, UNRECOGNISED]
    assert fake.served == 2 and fake.calls == 2, "no call failed and was retried"
