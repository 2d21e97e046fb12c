"""Test-wide set-up: every library stays off the network; fixtures come from tests/support."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import pytest_asyncio

for _name, _value in {
    "RAGAS_DO_NOT_TRACK": "true",
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "1",
    "LANGSMITH_TEST_TRACKING": "false",
    "LANGSMITH_TRACING": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)

pytest_plugins = [
    "testkit.redis",
    "testkit.webhook",
    "testkit.llm",
    "testkit.api_server",
]


@pytest_asyncio.fixture(scope="session", autouse=True, loop_scope="session")
async def _no_task_outlives_the_session() -> AsyncIterator[None]:
    """At the end of the session, cancel what tests left running in the shared event loop and
    name any task that ignores cancellation (with its stack): the loop's own shutdown would
    otherwise wait on it without a word."""
    yield
    current = asyncio.current_task()
    left = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    for task in left:
        task.cancel()
    if not left:
        return
    _, stuck = await asyncio.wait(left, timeout=10)
    for task in stuck:  # uncaptured: the loop's shutdown may hang before pytest reports
        print(f"\ntask still running 10 s after cancel: {task.get_name()}", file=sys.__stderr__)
        task.print_stack(file=sys.__stderr__)
    assert not stuck, f"{len(stuck)} task(s) ignore cancellation (stacks above)"
