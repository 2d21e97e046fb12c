"""The retrieval node is pure, so LangGraph's node cache answers it for a repeated request."""

from __future__ import annotations

from typing import Any

from graph.builder import build_graph
from testkit.fake_openai import FakeOpenAI
from testkit.llm import Configure

REQUEST = {
    "task": "When was the bridge opened?",
    "documents": [
        {"id": "bridge", "text": "The bridge was opened in 1932 after six years of work."},
        {"id": "river", "text": "The river is 300 km long and flows into the sea."},
    ],
}


async def retrieve_updates(graph: Any) -> list[dict[str, Any]]:
    seen = []
    async for update in graph.astream(REQUEST, stream_mode="updates"):
        if "retrieve" in update:
            seen.append(update)
    return seen


async def test_a_repeated_request_reuses_the_retrieval(llm_settings: Configure) -> None:
    fake = FakeOpenAI().serve()
    try:
        llm_settings(openai_base_url=fake.base_url, llm_cache=False)
        graph = build_graph(None)
        [first] = await retrieve_updates(graph)
        [second] = await retrieve_updates(graph)
    finally:
        fake.stop()
    assert "__metadata__" not in first
    assert second["__metadata__"] == {"cached": True}
    assert second["retrieve"] == first["retrieve"]
    assert first["retrieve"]["passages"][0]["doc_id"] == "bridge"
