"""The OpenAI-compatible endpoints against a running `refinery serve` (fake model behind it),
driven by the real `openai` client and LangChain's `ChatOpenAI`: completions streamed and not,
the whole loop's usage, the `refinery` extension, the same run as the native endpoint, errors
in OpenAI's shape (unknown model, refused features, validation), a rejected key, a spent rate
limit, and the raw stream's exact wire format."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from core.run_config import load_config, preset_names
from testkit.api_server import ApiServer

WORDS = ["cat", "dog", "moon", "river"]
TASK = "Write a story."
MESSAGES = [{"role": "user", "content": TASK}]
EXTENSION = {"refinery": {"constraints": {"required_words": WORDS}}}
"""The request's required words, in refinery's extension field (`extra_body`)."""


def openai_client(api_server: ApiServer, who: str = "alice") -> openai.OpenAI:
    key = api_server.keys.get(who, who)
    return openai.OpenAI(
        base_url=f"{api_server.base_url}/v1", api_key=key, max_retries=0, timeout=60
    )


def chat_model(api_server: ApiServer, who: str = "alice", **kwargs: object) -> ChatOpenAI:
    key = api_server.keys.get(who, who)
    return ChatOpenAI(
        model="refinery-refine_default",
        base_url=f"{api_server.base_url}/v1",
        api_key=key,
        max_retries=0,
        timeout=60,
        **kwargs,
    )


def test_models_lists_every_preset_as_an_openai_model(api_server: ApiServer) -> None:
    client = openai_client(api_server)
    models = client.models.list()
    ids = [model.id for model in models.data]
    assert ids == ["refinery", *(f"refinery-{name}" for name in preset_names())]
    assert {model.object for model in models.data} == {"model"}
    assert client.models.retrieve("refinery-single_pass").id == "refinery-single_pass"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_completion_is_the_native_run_with_its_usage_and_the_run_alongside(
    api_server: ApiServer,
) -> None:
    fake = api_server.fake
    calls_before = fake.calls
    completion = openai_client(api_server).chat.completions.create(
        model="refinery-refine_default", messages=MESSAGES, extra_body=EXTENSION
    )
    calls = fake.calls - calls_before

    assert completion.object == "chat.completion"
    assert completion.model == "refinery-refine_default"
    assert completion.system_fingerprint == load_config("refine_default").fingerprint()
    [choice] = completion.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    answer = choice.message.content or ""
    assert all(word in answer for word in WORDS)

    run = completion.model_extra["refinery"]
    assert completion.id == f"chatcmpl-{run['thread_id']}"
    assert run["stop_reason"] == "passed" and run["iterations"] >= 1
    assert 0 < run["confidence"] <= 1 and run["score"] >= 0.95
    assert run["config"] == "refine_default" and run["context_messages"] == 0

    # The usage is the whole loop's: every model call of the run, not the answer alone.
    usage = completion.usage
    assert usage is not None and run["usage"]["calls"] == calls > 1
    assert usage.prompt_tokens == run["usage"]["input_tokens"]
    assert usage.completion_tokens == run["usage"]["output_tokens"] >= len(answer.split())
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    # The same request on the native endpoint runs the same loop to the same answer, and the
    # chat run's thread is the caller's, like any other.
    body = {"task": TASK, "constraints": {"required_words": WORDS}}
    with api_server.client() as client:
        native = client.post("/v1/refinements", json=body).json()
        thread = client.get(f"/v1/threads/{run['thread_id']}").json()
    with api_server.client("bob") as client:
        assert client.get(f"/v1/threads/{run['thread_id']}").status_code == 404
    assert native["answer"] == answer and native["usage"]["calls"] == calls
    assert thread["status"] == "done" and thread["answer"] == answer


def test_stream_sends_the_answer_as_chunks_and_the_usage_last(api_server: ApiServer) -> None:
    stream = openai_client(api_server).chat.completions.create(
        model="refinery-refine_default",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        extra_body=EXTENSION,
    )
    chunks = list(stream)

    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert all(word in text for word in WORDS)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}

    *_, finish, last = chunks
    assert last.choices == [] and last.usage is not None
    run = finish.model_extra["refinery"]
    assert last.usage.total_tokens == sum(
        run["usage"][k] for k in ("input_tokens", "output_tokens")
    )
    assert chunks[0].id == f"chatcmpl-{run['thread_id']}"
    with api_server.client() as client:
        thread = client.get(f"/v1/threads/{run['thread_id']}").json()
    assert thread["answer"] == text


def test_stream_on_the_wire_is_data_lines_then_done(api_server: ApiServer) -> None:
    """OpenAI's exact framing: `data:` events only (no `event:` or `id:` lines, which some
    clients trip on), progress only in comments, `usage` only when asked for, `[DONE]` last."""
    api_server.fake.latency_s = 0.3  # a call longer than the heartbeat (0.2 s): comments come
    body = {"model": "refinery-single_pass", "messages": MESSAGES, "stream": True}
    try:
        with (
            api_server.client() as client,
            client.stream("POST", "/v1/chat/completions", json=body) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            raw = response.read().decode()
    finally:
        api_server.fake.latency_s = 0.0

    blocks = [block for block in raw.split("\n\n") if block]
    comments = [b for b in blocks if b.startswith(":")]
    data = [b.removeprefix("data: ") for b in blocks if not b.startswith(":")]
    assert all(b.startswith("data: ") for b in blocks if not b.startswith(":"))
    assert all("\n" not in b for b in blocks), "one line per event"
    assert data[-1] == "[DONE]"
    assert any(c.startswith(": refinery score ") for c in comments)
    assert ": heartbeat" in comments
    chunks = [json.loads(d) for d in data[:-1]]
    assert all("usage" not in chunk for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["refinery"]["config"] == "single_pass"
    assert chunks[-1]["refinery"]["iterations"] == 0


def test_langchain_chat_openai_invokes_and_streams(api_server: ApiServer) -> None:
    model = chat_model(api_server, stream_usage=True, extra_body=EXTENSION)
    messages = [SystemMessage("You write short stories."), HumanMessage(TASK)]

    reply = model.invoke(messages)
    assert all(word in str(reply.content) for word in WORDS)
    assert reply.usage_metadata and reply.usage_metadata["input_tokens"] > 0
    assert reply.response_metadata["model_name"] == "refinery-refine_default"

    chunks = list(model.stream(messages))
    assert "".join(str(c.content) for c in chunks) == reply.content
    streamed_usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert streamed_usage and streamed_usage[-1]["total_tokens"] > 0


def test_earlier_messages_are_the_context_of_the_last_user_message(
    api_server: ApiServer,
) -> None:
    messages = [
        {"role": "system", "content": "You write short stories."},
        {"role": "user", "content": "Write a poem."},
        {"role": "assistant", "content": "Roses are red."},
        {"role": "user", "content": TASK},
    ]
    completion = openai_client(api_server).chat.completions.create(
        model="refinery-single_pass", messages=messages
    )
    run = completion.model_extra["refinery"]
    assert run["context_messages"] == 2 and run["dropped_messages"] == 0
    with api_server.client() as client:
        task = client.get(f"/v1/threads/{run['thread_id']}").json()["task"]
    assert task.startswith("You write short stories.") and task.endswith(TASK)
    assert "Assistant: Roses are red." in task


@pytest.mark.parametrize(
    ("change", "param", "says"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools", "not supported"),
        ({"n": 2}, "n", "n > 1 is not supported"),
        ({"stop": ["\n"]}, "stop", "stop sequences are not supported"),
        ({"temperature": 3}, "temperature", "within the bound"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role", "not supported"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages", "no user message"),
        ({"messages": [{"role": "user", "content": "x" * 4001}]}, "messages", "at most 4000"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            "messages[0].content",
            "reads text only",
        ),
    ],
)
def test_invalid_requests_get_a_400_naming_the_field(
    api_server: ApiServer, change: dict[str, object], param: str, says: str
) -> None:
    body = {"model": "refinery", "messages": MESSAGES} | change
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(api_server).chat.completions.create(**body)  # type: ignore[call-overload]
    error = caught.value
    assert error.status_code == 400 and error.param == param
    assert error.type == "invalid_request_error" and says in error.message
    assert set(error.body) == {"message", "type", "param", "code"}  # type: ignore[arg-type]


def test_unknown_model_is_a_404_model_not_found(api_server: ApiServer) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client(api_server).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.code == "model_not_found" and caught.value.param == "model"
    assert "refinery-refine_default" in caught.value.message


def test_a_rejected_key_is_a_401_for_both_clients(api_server: ApiServer) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        openai_client(api_server, "rf_not_a_key").chat.completions.create(
            model="refinery", messages=MESSAGES
        )
    assert caught.value.code == "invalid_api_key"
    assert caught.value.type == "authentication_error"
    with pytest.raises(openai.AuthenticationError):
        openai_client(api_server, "rf_not_a_key").models.list()
    with pytest.raises(openai.AuthenticationError):
        chat_model(api_server, "rf_not_a_key").invoke(TASK)


def test_a_spent_rate_limit_is_a_429_with_retry_after(api_server: ApiServer) -> None:
    """A limited key (1 a minute, 2 at once) is charged per request, valid or not."""
    client = openai_client(api_server, "limited_chat")
    with pytest.raises(openai.RateLimitError) as caught:
        for _ in range(4):
            with pytest.raises(openai.BadRequestError):
                client.chat.completions.create(model="refinery", messages=MESSAGES, n=2)
    assert caught.value.code == "rate_limit_exceeded"
    assert int(caught.value.response.headers["retry-after"]) >= 1


def test_max_tokens_caps_the_answer_as_a_model_stops_at_its_cap(api_server: ApiServer) -> None:
    completion = openai_client(api_server).chat.completions.create(
        model="refinery-single_pass", messages=MESSAGES, max_tokens=3
    )
    [choice] = completion.choices
    assert choice.finish_reason == "length"
    assert 0 < len(choice.message.content or "") <= 12  # about 4 characters a token
    assert completion.usage is not None and completion.usage.completion_tokens > 3  # the loop's


def test_a_body_over_the_limit_is_a_413_in_openai_shape(api_server: ApiServer) -> None:
    long = [{"role": "user", "content": "x" * 19_000}] * 2
    with pytest.raises(openai.APIStatusError) as caught:
        openai_client(api_server).chat.completions.create(model="refinery", messages=long)
    assert caught.value.status_code == 413 and caught.value.code == "body_too_large"


def test_errors_elsewhere_keep_the_native_shape(api_server: ApiServer) -> None:
    with httpx.Client(base_url=api_server.base_url) as client:
        native = client.post("/v1/refinements", json={"task": TASK}).json()
        chat = client.post("/v1/chat/completions", json={"model": "refinery"}).json()
    assert set(native["error"]) >= {"type", "message", "fix"}
    assert set(chat["error"]) == {"message", "type", "param", "code"}
