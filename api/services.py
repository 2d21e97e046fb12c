"""What the API's request handlers share, built once per app at start-up: the graph on the
process's checkpointer, a Redis client, the key ring, the limiter, the adaptive scheduler, the
thread store, the run leases and event streams, the monitoring service (metrics, feedback,
experiments) and the A/B experiment that assigns variants, if one is enabled. What replicas
must agree on lives in Redis; only this replica's capacity (the scheduler) is its own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aredis
from fastapi import Request
from langgraph.graph.state import CompiledStateGraph

from api.auth import KeyRing
from api.ratelimit import RateLimiter
from api.runs.event_log import RunEvents
from api.runs.lease_keeper import LeaseKeeper
from api.runs.leases import Leases
from api.runs.scheduler import Scheduler
from api.runs.thread_store import ThreadStore
from core.feedback.experiments import Experiment, enabled_experiments
from core.settings import Settings
from core.telemetry.service import Telemetry


@dataclass
class Services:
    settings: Settings
    graph: CompiledStateGraph
    redis: aredis.Redis
    keys: KeyRing
    limiter: RateLimiter
    scheduler: Scheduler
    threads: ThreadStore
    leases: Leases
    """Which replica runs which thread now (and the runs whose replica died)."""
    events: RunEvents
    """Every streamed run's events, for replay on any replica."""
    telemetry: Telemetry
    """Monitoring: every request and run is reported to it; it holds the feedback store."""
    experiments: list[Experiment] = field(default_factory=list)
    """The enabled experiments, read at start-up; the first assigns variants."""
    background: set[Any] = field(default_factory=set)
    """Tasks that must outlive their request (a stream's run, until it stops); kept referenced."""
    scaling: Any = None
    """The capacity scaling loop (`core.scaling.service.ScalingService`), when enabled."""


def experiments_to_run() -> list[Experiment]:
    """The enabled experiments; every variant must name a known run configuration, and one
    whose roles name a local model (the promoted student) needs that model to exist."""
    from core.llm.promoted import named_local_model
    from core.run_config import Roles, load_config, preset_names

    known = set(preset_names())
    experiments = enabled_experiments()
    for experiment in experiments:
        unknown = [v.config for v in experiment.variants if v.config not in known]
        if unknown:
            raise ValueError(f"experiment {experiment.name!r} names unknown configs {unknown}")
        named = {
            getattr(load_config(variant.config).roles, role).model
            for variant in experiment.variants
            for role in Roles.model_fields
        }
        for name in named:
            named_local_model(name)  # raises if it is `promoted` and none is
    return experiments


async def build_services(settings: Settings) -> Services:
    """Everything the handlers need; starts the embedded Redis if no URL is configured."""
    from core.checkpoint.factory import aget_checkpointer
    from core.redis.server import async_client, resolve_redis_url, sync_client
    from graph.builder import build_graph

    checkpointer = await aget_checkpointer()
    url = await asyncio.to_thread(resolve_redis_url, settings)
    client = async_client(url, settings)
    prefix = settings.redis_key_prefix
    telemetry = Telemetry(client, settings)
    ttl_s = settings.api_lease_ttl_s
    keeper = LeaseKeeper(sync_client(url, settings), ttl_s, max_stall_s=max(30.0, 4 * ttl_s))
    return Services(
        settings=settings,
        graph=build_graph(checkpointer=checkpointer),
        redis=client,
        keys=KeyRing.from_settings(settings),
        limiter=RateLimiter(client, prefix, settings.api_rate_burst),
        scheduler=Scheduler.from_settings(settings),
        threads=ThreadStore(client, prefix, settings.checkpoint_ttl_s),
        leases=Leases(client, prefix, telemetry.replica, ttl_s, keeper),
        events=RunEvents(
            client,
            prefix,
            settings.api_events_ttl_s,
            settings.api_events_maxlen,
            settings.api_token_flush_ms / 1000,
        ),
        telemetry=telemetry,
        experiments=experiments_to_run(),
    )


async def get_services(request: Request) -> Services:
    """FastAPI dependency: the app's services."""
    return request.app.state.services
