"""Prompts are fitted to the context window offline: untouched when they fit, near-duplicate
sentences dropped first, then the oldest text trimmed (the system message always stays)."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage

from core.llm.context_window import estimate, fit_to_window
from core.llm.stats import llm_stats

SYSTEM = SystemMessage("You are a careful writer.")


async def test_a_prompt_that_fits_is_left_alone() -> None:
    messages = [SYSTEM, HumanMessage("Write one sentence about snow.")]
    assert await fit_to_window(messages, window=512, reply_tokens=100) is messages


async def test_near_duplicates_go_before_anything_is_cut() -> None:
    llm_stats().reset()
    repeated = " ".join(["The bridge opened in 1932 after six years of work."] * 12)
    messages = [SYSTEM, HumanMessage(f"{repeated}\nQuestion: when did the bridge open?")]
    fitted = await fit_to_window(messages, window=estimate(messages) - 40, reply_tokens=16)
    assert fitted[0] == SYSTEM
    assert fitted[1].text.count("The bridge opened in 1932") == 1
    assert fitted[1].text.endswith("Question: when did the bridge open?")
    assert llm_stats().snapshot().prompts_compressed == 1
    assert llm_stats().snapshot().prompts_truncated == 0


async def test_an_oversized_prompt_keeps_the_system_and_the_latest_text() -> None:
    lines = [f"Fact {i}: the value of item {i} is {i * 7} units of weight." for i in range(60)]
    messages = [SYSTEM, HumanMessage("\n".join([*lines, "Question: what is item 59 worth?"]))]
    fitted = await fit_to_window(messages, window=300, reply_tokens=64)
    assert fitted[0] == SYSTEM
    assert fitted[-1].text.endswith("Question: what is item 59 worth?")
    assert "Fact 0:" not in fitted[-1].text and "Fact 59:" in fitted[-1].text
    assert estimate(fitted) <= 300 - 64 - 32
