"""Token accounting: turns the `usage_metadata` of model replies into the state's `Usage`."""

from __future__ import annotations

from collections.abc import Iterable

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field

from core.state import ModelUsage, Usage, empty_usage, merge_usage


def usage_of(node: str, model: str, messages: Iterable[BaseMessage]) -> Usage:
    """The usage of `messages` (replies from `model`) booked to `node`."""
    total = empty_usage()
    for message in messages:
        meta = getattr(message, "usage_metadata", None) or {}
        cached = bool((getattr(message, "response_metadata", None) or {}).get("cache_hit"))
        one: ModelUsage = {
            "input_tokens": int(meta.get("input_tokens", 0)),
            "output_tokens": int(meta.get("output_tokens", 0)),
            "calls": 0 if cached else 1,  # a cache hit is no model call
        }
        total = merge_usage(total, {**one, "by_node": {node: one}, "by_model": {model: one}})
    return total


class TokenUsage(BaseModel):
    """A run's `Usage` at the boundaries (CLI results, API responses, evaluation rows)."""

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    by_node: dict[str, dict[str, int]] = Field(default_factory=dict)
    by_model: dict[str, dict[str, int]] = Field(default_factory=dict)
