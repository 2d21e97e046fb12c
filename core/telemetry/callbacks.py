"""A LangChain callback handler that times each graph node and counts node errors; pass it in a
run's `config["callbacks"]`."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from core.telemetry.metrics import ERRORS, NODE_LATENCY

__all__ = ["NodeTimer"]


class NodeTimer(BaseCallbackHandler):
    """Observes `refinery_node_seconds{node}` for every LangGraph node run."""

    run_inline = True  # cheap bookkeeping: no thread hop on the event loop
    # Chain events only. A handler that takes chat-model events but does not implement
    # `on_chat_model_start` gets `on_llm_start` instead, with every prompt rendered to a
    # string first, and every streamed token is dispatched to it: work for nothing here.
    ignore_llm = True
    ignore_chat_model = True
    ignore_retry = True
    ignore_retriever = True
    ignore_agent = True
    ignore_custom_event = True

    def __init__(self) -> None:
        self._started: dict[UUID, tuple[str, float]] = {}

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        node = (metadata or {}).get("langgraph_node")
        if node and kwargs.get("name") == node:
            self._started[run_id] = (node, time.perf_counter())

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        started = self._started.pop(run_id, None)
        if started:
            NODE_LATENCY.labels(started[0]).observe(time.perf_counter() - started[1])

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        started = self._started.pop(run_id, None)
        if started:
            NODE_LATENCY.labels(started[0]).observe(time.perf_counter() - started[1])
            ERRORS.labels(type(error).__name__, f"node:{started[0]}").inc()
