"""The stand-in model server: it generates at most `parallel` calls at once, as a real server's
slots do, and counts the prompts no template made."""

from __future__ import annotations

import asyncio

import httpx

from nodes import prompts
from testkit.fake_openai import FakeOpenAI


async def test_at_most_parallel_calls_generate_at_once() -> None:
    fake = FakeOpenAI(latency_s=0.3, parallel=2).serve()  # calls overlap: 6 sent at once
    ask = prompts.DRAFT_FREE.format(task="Say hi.")
    body = {"model": "fake", "messages": [{"role": "user", "content": ask}]}
    try:
        async with httpx.AsyncClient(base_url=fake.base_url, timeout=60) as client:
            replies = await asyncio.gather(
                *(client.post("/chat/completions", json=body) for _ in range(6))
            )
    finally:
        fake.stop()
    assert [r.status_code for r in replies] == [200] * 6 and fake.served == 6
    assert fake.max_active == 2  # the limit was reached and never passed
    assert fake.unrecognised == []


def test_a_prompt_no_template_made_is_counted() -> None:
    fake = FakeOpenAI().serve()
    body = {"model": "fake", "messages": [{"role": "user", "content": "Tell me a joke."}]}
    try:
        reply = httpx.post(f"{fake.base_url}/chat/completions", json=body, timeout=60)
        stats = httpx.get(f"http://127.0.0.1:{fake.port}/_fake/stats", timeout=60).json()
    finally:
        fake.stop()
    assert reply.json()["choices"][0]["message"]["content"] == "No template made this prompt."
    assert fake.unrecognised == ["Tell me a joke."] and stats["unrecognised"] == 1
