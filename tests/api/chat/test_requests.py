"""Chat messages read as a refinement: the last user message is the task, system and developer
messages its standing instructions, other turns its context (the oldest left out first when
they do not fit), and the request's model, tier, user and extension mapped onto the native
request."""

from __future__ import annotations

import pytest

from api.chat.requests import EARLIER, NOW, read_conversation, refinement_request
from api.chat.schemas import ChatCompletionRequest, ChatMessage
from api.errors import ApiError
from api.schemas import MAX_TASK_CHARS


def messages(*pairs: tuple[str, str]) -> list[ChatMessage]:
    return [ChatMessage(role=role, content=content) for role, content in pairs]


def test_one_user_message_is_the_task_as_it_is() -> None:
    conversation = read_conversation(messages(("user", " Write a haiku. ")))
    assert conversation.task == "Write a haiku."
    assert (conversation.context_messages, conversation.dropped_messages) == (0, 0)


def test_instructions_then_the_turns_then_the_request() -> None:
    conversation = read_conversation(
        messages(
            ("system", "Answer in English."),
            ("user", "Write a poem."),
            ("assistant", "Roses are red."),
            ("developer", "Keep it short."),
            ("user", "Now a story."),
        )
    )
    assert conversation.task == (
        "Answer in English.\n\nKeep it short.\n\n"
        f"{EARLIER}\nUser: Write a poem.\nAssistant: Roses are red.\n\n{NOW}\nNow a story."
    )
    assert conversation.context_messages == 2


def test_blank_messages_say_nothing_and_are_left_out() -> None:
    conversation = read_conversation(
        messages(("system", " "), ("user", "Write a poem."), ("assistant", "\t"), ("user", "\n"))
    )
    assert conversation.task == "Write a poem."
    parts = [{"type": "text", "text": " "}, {"type": "text", "text": "\n"}]
    for content in (" ", parts):
        body = {"model": "refinery", "messages": [{"role": "user", "content": content}]}
        with pytest.raises(ValueError, match="no user message with text"):
            ChatCompletionRequest.model_validate(body)


def test_the_oldest_turns_are_left_out_to_fit_the_task_limit() -> None:
    turns = [("user", f"turn {i} " + "x" * 900) for i in range(10)]
    conversation = read_conversation(messages(*turns, ("user", "The request.")))
    assert len(conversation.task) <= MAX_TASK_CHARS
    assert conversation.context_messages == 4 and conversation.dropped_messages == 6
    assert "turn 6 " in conversation.task and "turn 5 " not in conversation.task
    assert conversation.task.endswith("The request.")


def test_instructions_and_request_that_cannot_fit_are_refused() -> None:
    with pytest.raises(ApiError) as caught:
        read_conversation(messages(("system", "x" * 3000), ("user", "y" * 1001)))
    assert caught.value.status == 400 and caught.value.body.type == "context_length_exceeded"
    assert caught.value.body.details[0].field == "messages"


def test_model_tier_user_and_extension_map_onto_the_native_request() -> None:
    body = ChatCompletionRequest.model_validate(
        {
            "model": "refinery-single_pass",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi."}]}],
            "service_tier": "priority",
            "user": "u-42",
            "refinery": {
                "constraints": {"required_words": ["sun"]},
                "documents": [{"id": "d1", "text": "The sun is a star."}],
            },
        }
    )
    request = refinement_request(body, "single_pass", read_conversation(body.messages))
    assert request.graph_input() == {
        "task": "Hi.",
        "config": "single_pass",
        "priority": "high",
        "constraints": {"required_words": ["sun"], "instructions": []},
        "documents": [{"id": "d1", "text": "The sun is a star."}],
    }
    assert request.user_id == "u-42"
    default = refinement_request(body, None, read_conversation(body.messages))
    assert "config" not in default.model_fields_set  # an experiment may assign its variant
