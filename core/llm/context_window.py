"""Fits a prompt to the model's context window before it is sent: counted offline (the llama.cpp
server's own tokenizer where there is one, else a conservative estimate), then, only if it does
not fit, near-duplicate sentences are dropped and `trim_messages` cuts the oldest text."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import httpx
from langchain_core.messages import BaseMessage, trim_messages
from langchain_core.messages.utils import count_tokens_approximately

from core.llm.stats import llm_stats
from core.text.compress import drop_near_duplicates

log = logging.getLogger(__name__)

MESSAGE_OVERHEAD = 8
"""Tokens of chat-template framing per message (role markers, separators)."""
SAFETY_MARGIN = 32
"""Tokens kept free of the window beyond the reply's budget."""


def estimate(messages: Sequence[BaseMessage]) -> int:
    """A conservative token count (about 3 characters a token, plus framing per message)."""
    return count_tokens_approximately(
        messages, chars_per_token=3.0, extra_tokens_per_message=MESSAGE_OVERHEAD
    )


async def server_count(base_url: str, messages: Sequence[BaseMessage]) -> int | None:
    """The exact count from a llama.cpp server's tokenizer (`llama-server`'s `/tokenize`, or
    llama-cpp-python's `/extras/tokenize/count`), or None if it fails."""
    root = base_url.removesuffix("/").removesuffix("/v1")
    total = 0
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for message in messages:
                total += await _count(client, root, message.text) + MESSAGE_OVERHEAD
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        log.debug("token count from %s failed: %s", root, exc)
        return None
    return total


async def _count(client: httpx.AsyncClient, root: str, text: str) -> int:
    reply = await client.post(f"{root}/tokenize", json={"content": text})
    if reply.status_code == 404:  # llama-cpp-python's server
        reply = await client.post(f"{root}/extras/tokenize/count", json={"input": text})
        reply.raise_for_status()
        return int(reply.json()["count"])
    reply.raise_for_status()
    return len(reply.json()["tokens"])


async def fit_to_window(
    messages: list[BaseMessage],
    window: int,
    reply_tokens: int,
    tokenizer_url: str | None = None,
) -> list[BaseMessage]:
    """`messages` unchanged if they fit `window` with room for the reply; else compressed,
    then trimmed from the oldest text on (the system message and the latest text stay)."""
    budget = window - reply_tokens - SAFETY_MARGIN
    if estimate(messages) <= budget:
        return messages
    exact = await server_count(tokenizer_url, messages) if tokenizer_url else None
    if exact is not None and exact <= budget:
        return messages
    llm_stats().add("prompts_compressed")
    compressed = [
        m if m.type == "system" else m.model_copy(update={"content": drop_near_duplicates(m.text)})
        for m in messages
    ]
    if estimate(compressed) <= budget:
        return compressed
    llm_stats().add("prompts_truncated")
    log.warning("prompt of ~%d tokens trimmed to the %d-token budget", estimate(messages), budget)
    return trim_messages(
        compressed,
        max_tokens=budget,
        token_counter=estimate,
        strategy="last",
        include_system=True,
        allow_partial=True,
        text_splitter=_split_lines,
    )


def _split_lines(text: str) -> list[str]:
    """Pieces `trim_messages` may drop one at a time (it drops from the front)."""
    return text.splitlines(keepends=True) if "\n" in text else re.split(r"(?<=\. )", text)
