"""What a model request carries on the wire: each role's output cap, in the field the server
reads (llama-cpp-python's server ignores `max_completion_tokens`, so a cap sent only there let
a looping draft run to the end of the context)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.llm.endpoints import HealthBoard
from core.llm.factory import complete, tiers
from core.llm.pooled import PooledChatModel, Target
from core.run_config import RoleModel
from core.settings import Settings
from nodes.critique import VERDICT_FORMAT, read_verdict
from testkit.fake_openai import FakeOpenAI
from testkit.llm import Configure

ROLE = RoleModel(temperature=0.0, max_tokens=32)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().serve()
    yield server
    server.stop()


async def test_an_endpoint_gets_the_cap_as_max_completion_tokens(
    llm_settings: Configure, fake: FakeOpenAI
) -> None:
    llm_settings(openai_base_url=fake.base_url, llm_cache=False)
    await complete("test", ROLE, ["Say something."], "system")
    assert fake.caps == [{"max_completion_tokens": 32}]


async def test_a_legacy_endpoint_gets_the_cap_in_both_fields(
    llm_settings: Configure, fake: FakeOpenAI
) -> None:
    llm_settings(openai_base_url=fake.base_url, llm_cache=False, openai_legacy_max_tokens=True)
    await complete("test", ROLE, ["Say something."], "system")
    assert fake.caps == [{"max_tokens": 32, "max_completion_tokens": 32}]


def test_the_embedded_model_always_gets_the_legacy_field() -> None:
    [local] = tiers(Settings(openai_base_url=None, llm_endpoints=[]))
    assert local.name == "local" and local.legacy_max_tokens


def test_the_embedded_model_reuses_prompt_prefixes_unless_told_not_to() -> None:
    [local] = tiers(Settings(openai_base_url=None, llm_endpoints=[]))
    assert local.request_body == {}
    [local] = tiers(Settings(openai_base_url=None, llm_endpoints=[], local_prompt_reuse=False))
    assert local.request_body == {"cache_prompt": False}


async def test_a_tier_s_own_fields_travel_in_every_request_body(fake: FakeOpenAI) -> None:
    """Plain calls and calls with a JSON schema alike: the schema's body must not replace
    them (`PooledChatModel._shaped` merges the two)."""
    model = PooledChatModel(
        model_name="fake", max_tokens=8, legacy_max_tokens=True, structured_output="json_schema",
        request_body={"cache_prompt": False}, static_targets=[Target(base_url=fake.base_url)],
        board=HealthBoard(),
    )  # fmt: skip
    await model.ainvoke("Say something.")
    await model.ainvoke("Review this.", response_format=VERDICT_FORMAT)
    model.invoke("Say something else.")
    assert [body.get("cache_prompt") for body in fake.bodies] == [False, False, False]
    assert [body.get("max_tokens") for body in fake.bodies] == [8, 8, 8]
    assert fake.formats == [None, VERDICT_FORMAT, None]


def rambling(messages: list[dict[str, Any]]) -> str:
    return '{"score": 7, "feedback": [' + ", ".join(['"more detail"'] * 40) + "]}"


async def test_a_json_schema_reply_cut_at_its_cap_comes_back_as_text_not_an_error() -> None:
    """The schema goes in the body as `response_format`, where the server reads it; a reply cut
    at the cap (finish reason `length`) is returned for the lenient reader, where the SDK's
    `parse` path raised `LengthFinishReasonError` and failed the run."""
    server = FakeOpenAI(responder=rambling).serve()
    try:
        model = PooledChatModel(
            model_name="fake", max_tokens=10, structured_output="json_schema",
            static_targets=[Target(base_url=server.base_url)], board=HealthBoard(),
        )  # fmt: skip
        reply = await model.ainvoke("Review this.", response_format=VERDICT_FORMAT)
        assert reply.content == '{"score": 7, "feedback": ["more detail", "more detail", ' + (
            '"more detail", "more'
        )
        assert server.formats == [VERDICT_FORMAT]
        assert read_verdict(str(reply.content)) == {
            "score": 7.0, "feedback": [], "parsed": False,
        }  # fmt: skip
    finally:
        server.stop()


GRAMMAR = 'root ::= "yes" | "no"'


async def test_a_grammar_travels_in_the_body_only_to_servers_that_take_one(
    fake: FakeOpenAI,
) -> None:
    """llama.cpp servers read a GBNF `grammar` beside the tier's own fields; any other endpoint
    gets the call without it (an unknown field is an error there), its prompt unchanged."""

    def pool(grammars: bool) -> PooledChatModel:
        return PooledChatModel(
            model_name="fake", max_tokens=8, tokenizer=grammars,
            request_body={"cache_prompt": False}, static_targets=[Target(base_url=fake.base_url)],
            board=HealthBoard(),
        )  # fmt: skip

    await pool(grammars=True).ainvoke("Answer yes or no.", grammar=GRAMMAR)
    await pool(grammars=False).ainvoke("Answer yes or no.", grammar=GRAMMAR)
    await pool(grammars=True).ainvoke("Say something.")
    assert [body.get("grammar") for body in fake.bodies] == [GRAMMAR, None, None]
    assert [body.get("cache_prompt") for body in fake.bodies] == [False, False, False]
    assert fake.unrecognised.count("Answer yes or no.") == 2


def test_the_embedded_model_and_llama_cpp_endpoints_take_grammars() -> None:
    [local] = tiers(Settings(openai_base_url=None, llm_endpoints=[]))
    assert local.grammars
    [openai_like] = tiers(Settings(openai_base_url="http://127.0.0.1:9/v1", llm_endpoints=[]))
    assert not openai_like.grammars
    endpoints = [{"base_url": "http://127.0.0.1:9/v1", "tokenizer": True}]
    llama_cpp, *_ = tiers(Settings(openai_base_url=None, llm_endpoints=endpoints))
    assert llama_cpp.grammars
