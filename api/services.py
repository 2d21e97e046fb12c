"""What the API's request handlers share, built once per app at start-up: the graph on the
process's checkpointer, a Redis client, the key ring, the limiter, the scheduler and stores."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis.asyncio as aredis
from fastapi import Request
from langgraph.graph.state import CompiledStateGraph

from api.auth import KeyRing
from api.feedback import FeedbackStore
from api.ratelimit import RateLimiter
from api.scheduler import Scheduler
from api.thread_store import ThreadStore
from core.settings import Settings

if TYPE_CHECKING:
    from api.runs import RunRecord


@dataclass
class Services:
    settings: Settings
    graph: CompiledStateGraph
    redis: aredis.Redis
    keys: KeyRing
    limiter: RateLimiter
    scheduler: Scheduler
    threads: ThreadStore
    feedback: FeedbackStore
    running: dict[str, str] = field(default_factory=dict)
    """Thread id -> run id of the runs executing in this process now."""
    run_listeners: list[Callable[[RunRecord], None]] = field(default_factory=list)
    """Called with each run's `RunRecord` when it ends (the monitoring hook)."""
    background: set[Any] = field(default_factory=set)
    """Tasks that must outlive their request (a stream's run, until it stops); kept referenced."""


async def build_services(settings: Settings) -> Services:
    """Everything the handlers need; starts the embedded Redis if no URL is configured."""
    from core.checkpointer import aget_checkpointer
    from core.redis_server import async_client, resolve_redis_url
    from graph.builder import build_graph

    checkpointer = await aget_checkpointer()
    url = await asyncio.to_thread(resolve_redis_url, settings)
    client = async_client(url, settings)
    prefix = settings.redis_key_prefix
    return Services(
        settings=settings,
        graph=build_graph(checkpointer=checkpointer),
        redis=client,
        keys=KeyRing.from_settings(settings),
        limiter=RateLimiter(client, prefix, settings.api_rate_burst),
        scheduler=Scheduler(settings.api_max_running, settings.api_max_queue),
        threads=ThreadStore(client, prefix, settings.checkpoint_ttl_s),
        feedback=FeedbackStore(client, prefix),
    )


def services(request: Request) -> Services:
    """FastAPI dependency: the app's services."""
    return request.app.state.services
