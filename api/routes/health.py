"""GET /healthz (the process answers), GET /readyz (Redis and the model endpoint answer) and
GET /v1/configs (the run configuration presets a request may name) and GET /v1/instructions
(the kinds of verifiable instruction a request may give)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.schemas import ConfigOut, Health, InstructionKindOut
from api.services import Services
from core.instructions import SPECS
from core.run_config import load_config, preset_names

router = APIRouter()
PROBE_TIMEOUT_S = 2.0


@router.get("/healthz", response_model=Health, tags=["health"])
async def healthz() -> Health:
    """Alive: the process answers."""
    return Health(status="ok")


async def _redis_check(services: Services) -> str:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await services.redis.ping()
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


async def _model_check() -> str:
    from core.llm.factory import default_endpoint
    from core.llm.local_server import running_server

    server = running_server()
    if server is not None and not server.state.ready:  # the supervisor says why
        return f"not ready: {server.state.reason} (restarts: {server.state.restarts})"
    try:
        # The embedded model starts on first use; a probe must not wait for that.
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            endpoint = await asyncio.shield(asyncio.to_thread(default_endpoint))
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
            response = await client.get(f"{endpoint.base_url.rstrip('/')}/models")
    except TimeoutError:
        return "starting or not answering"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok" if response.status_code == 200 else f"answered {response.status_code}"


async def readiness(services: Services) -> dict[str, str]:
    """Each dependency's state: `ok`, or what is wrong with it."""
    redis_state, model_state = await asyncio.gather(_redis_check(services), _model_check())
    return {"redis": redis_state, "model": model_state}


async def is_ready(services: Services) -> bool:
    """The readiness probe of the monitor loop (the unready-for-too-long alert)."""
    return all(state == "ok" for state in (await readiness(services)).values())


@router.get(
    "/readyz",
    response_model=Health,
    tags=["health"],
    responses={503: {"model": Health, "description": "A dependency is not answering."}},
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """Ready: Redis answers PING and the model endpoint lists its models."""
    checks = await readiness(services)
    ok = all(value == "ok" for value in checks.values())
    health = Health(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(health.model_dump(), status_code=200 if ok else 503)


@router.get("/v1/configs", response_model=list[ConfigOut], tags=["refinements"])
async def configs() -> list[ConfigOut]:
    """The run configuration presets a request's `config` may name."""
    out = []
    for name in preset_names():
        config = load_config(name)
        out.append(
            ConfigOut(
                name=name,
                description=config.description,
                max_iterations=config.max_iterations,
                score_threshold=config.score_threshold,
            )
        )
    return out


@router.get("/v1/instructions", response_model=list[InstructionKindOut], tags=["refinements"])
async def instruction_kinds() -> list[InstructionKindOut]:
    """Every kind `constraints.instructions` may give, with its fields."""
    out = []
    for kind, spec in SPECS.items():
        schema = spec.model_json_schema()
        fields = {k: v for k, v in schema.get("properties", {}).items() if k != "kind"}
        summary = " ".join((spec.__doc__ or "").split()).split(". ")[0].rstrip(".") + "."
        required = [f for f in schema.get("required", []) if f != "kind"]
        out.append(InstructionKindOut(kind=kind, checks=summary, fields=fields, required=required))
    return out
