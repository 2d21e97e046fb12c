"""The saver against LangGraph's shared conformance suite, every capability, on both servers."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import (
    ALL_CAPABILITIES,
    BASE_CAPABILITIES,
    EXTENDED_CAPABILITIES,
)
from langgraph.checkpoint.conformance.report import CapabilityReport

from core.checkpoint import RedisSaver


def _counts(report: CapabilityReport, caps: frozenset) -> tuple[int, int]:
    results = [report.results[c.value] for c in caps]
    passed = sum(r.tests_passed for r in results)
    return passed, passed + sum(r.tests_failed for r in results)


@pytest.mark.parametrize("server", ["redis_url", "embedded_url"])
async def test_conformance_every_capability(server: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    # A fresh prefix per run, so suites on a shared server never see each other's keys.
    prefix = f"conformance-{uuid.uuid4().hex[:8]}"

    @checkpointer_test(name=f"RedisSaver on {server}")
    async def redis_checkpointer() -> AsyncIterator[RedisSaver]:
        async with RedisSaver.from_conn_string(url, key_prefix=prefix) as saver:
            yield saver

    report = await validate(redis_checkpointer)
    report.print_report()
    base, extended = _counts(report, BASE_CAPABILITIES), _counts(report, EXTENDED_CAPABILITIES)
    print(f"base {base[0]}/{base[1]}, optional {extended[0]}/{extended[1]}")
    print(json.dumps(report.to_dict(), indent=1))

    assert report.passed_all_base(), report.to_dict()
    assert report.passed_all(), report.to_dict()
    assert all(report.results[c.value].detected for c in ALL_CAPABILITIES)
    assert base[0] == base[1] > 0 and extended[0] == extended[1] > 0
