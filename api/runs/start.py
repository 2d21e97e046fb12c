"""A new run for a request, as every face starts one (the native endpoints, the
OpenAI-compatible chat endpoint, the MCP tool): admitted by the scheduler at its priority, given
an A/B variant when it names no configuration, and its new thread recorded as the caller's."""

from __future__ import annotations

import uuid
from dataclasses import replace

from api.auth import ApiKey
from api.runs.execute import RunSpec, admit
from api.runs.scheduler import Ticket
from api.schemas import RefinementRequest
from api.services import Services
from core.feedback.experiments import assign_variant
from core.run_config import DEFAULT_CONFIG, load_config

NO_REVIEW = {"when": "never"}


def assign(
    services: Services, body: RefinementRequest, unit: str | None, thread_id: str
) -> RunSpec:
    """The run of a new thread; a request that names no config while an experiment runs gets
    the variant of its user or session id (sticky), or of its thread (random) without one."""
    spec = RunSpec(thread_id=thread_id, key_id="", request=body.graph_input())
    if "config" in body.model_fields_set or not services.experiments:
        return spec
    experiment = services.experiments[0]
    variant = assign_variant(experiment, body.user_id or unit or thread_id)
    request = spec.request | {"config": variant.config}
    return replace(spec, request=request, experiment=experiment.name, variant=variant.name)


def unreviewed(spec: RunSpec) -> RunSpec:
    """The run with no review point, for a face that cannot pause for a person (the
    OpenAI-compatible chat, the MCP tool) where its preset would ask for one."""
    if load_config(spec.config or DEFAULT_CONFIG).review.when == "never":
        return spec
    return replace(spec, request=spec.request | {"review": NO_REVIEW})


async def start_run(
    services: Services,
    key: ApiKey,
    body: RefinementRequest,
    unit: str | None,
    *,
    reviewable: bool = True,
) -> tuple[RunSpec, Ticket]:
    """Admit the request (`OverloadedError` if no room) and record its new thread as `key`'s;
    with `reviewable` False the run never pauses for review, whatever its preset says."""
    ticket = admit(services, body.priority)
    spec = replace(assign(services, body, unit, uuid.uuid4().hex), key_id=key.id)
    if not reviewable:
        spec = unreviewed(spec)
    try:
        await services.threads.claim(
            spec.thread_id, key, spec.request, experiment=spec.experiment, variant=spec.variant
        )
    except BaseException:
        ticket.release()
        raise
    return spec, ticket
