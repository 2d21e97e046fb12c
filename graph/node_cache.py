"""LangGraph's node cache for pure nodes (same input, same output, no model call): the cache
the graph is compiled with, and the retrieval node's policy, keyed by what retrieval reads."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from langgraph.cache.memory import InMemoryCache
from langgraph.types import CachePolicy

RETRIEVAL_TTL_S = 3600
"""Retrieval depends only on the request, so an hour is safe; it bounds the cache's growth."""


def retrieval_key(state: dict[str, Any]) -> str:
    """The retrieval node's inputs: the task, the documents and the run configuration."""
    relevant = [state.get("task"), state.get("documents") or [], state.get("config")]
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


RETRIEVAL_CACHE = CachePolicy(key_func=retrieval_key, ttl=RETRIEVAL_TTL_S)
"""`add_node("retrieve", retrieve, cache_policy=RETRIEVAL_CACHE)`."""


@lru_cache(maxsize=1)
def node_cache() -> InMemoryCache:
    """The process's node cache (`compile(cache=node_cache())`)."""
    return InMemoryCache()
