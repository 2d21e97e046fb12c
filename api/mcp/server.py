"""`refinery mcp`: the engine as Model Context Protocol tools, on stdio or streamable HTTP,
built on the official `mcp` SDK's `MCPServer`. `refine` refines a task (optional constraints,
documents and preset) and `thread` shows a past run by its thread id. Each call takes the
native run path: the API's request models validate the arguments, the caller is charged to its
rate limit, the scheduler admits the run, the thread is the caller's (`api.runs.start`,
`api.runs.execute`, `api.runs.thread_view`). Over HTTP the API's keys apply (a 401 before any
MCP message, `api.mcp.http`); on stdio the caller is the local user, as on a server without
keys. Refusals reach the agent as tool errors that say how to fix the call."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from api.app import serving
from api.auth import LOCAL, ApiKey
from api.deps import charge
from api.errors import details_of, error_of
from api.runs.execute import execute
from api.runs.start import start_run
from api.runs.thread_view import describe_thread
from api.schemas import (
    MAX_DOCUMENTS,
    MAX_TASK_CHARS,
    ConstraintsIn,
    DocumentIn,
    ErrorDetail,
    RefinementRequest,
    ThreadId,
    ThreadOut,
)
from api.services import Services
from core.run_config import DEFAULT_CONFIG, preset_names
from core.settings import Settings
from core.usage import TokenUsage
from graph.events import Event

KEY_SCOPE = "refinery.api_key"
"""Where the HTTP transport's key gate leaves the caller's `ApiKey` in the request scope."""

INSTRUCTIONS = """refinery refines answers: a drafter writes, validators and a critic score,
a refiner improves, until the answer passes its checks. Call `refine` with the task (and any
required words, length limits, verifiable instructions or source documents); it returns the
answer with its score, confidence and thread id. `thread` shows a past run by its thread id."""


def _preset_enum(schema: dict[str, Any]) -> None:
    schema["enum"] = preset_names()


Task = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TASK_CHARS, description="What to write or answer."),
]
Documents = Annotated[
    list[DocumentIn],
    Field(
        max_length=MAX_DOCUMENTS,
        description="Source documents the answer must be grounded in (cited as `[id]`).",
    ),
]
Preset = Annotated[
    str,
    Field(
        description="The run configuration (`single_pass`: one draft, no refinement).",
        json_schema_extra=_preset_enum,
    ),
]


class RefineOutput(BaseModel):
    """A finished refinement: the answer and how far it can be trusted."""

    answer: str | None = None
    score: float | None = Field(None, description="The answer's combined score, 0-1.")
    confidence: float | None = Field(None, description="P(the answer is right), 0-1.")
    iterations: int | None = None
    stop_reason: str | None = None
    thread_id: str = Field(description="The run's thread: `thread` shows it later.")
    config: str | None = Field(None, description="The preset it ran.")
    instructions: list[dict[str, Any]] = Field(
        default_factory=list, description="The checks the run made (given, and read from the task)."
    )
    failing: list[str] = Field(default_factory=list, description="Instructions still failed.")
    usage: TokenUsage = Field(default_factory=TokenUsage)


def _problem(detail: ErrorDetail, names: dict[str, str]) -> str:
    field = names.get(detail.field, detail.field)
    problem = detail.problem.removeprefix("Value error, ")
    return f"{field}: {problem}" + ("" if detail.fix in problem else f"; fix: {detail.fix}")


@contextlib.contextmanager
def _tool_errors(names: dict[str, str] | None = None) -> Iterator[None]:
    """A refused or failed call as the tool error the agent reads: what, and how to fix it
    (`names`: the tool's names of the request's fields)."""
    try:
        yield
    except ValidationError as exc:
        problems = [_problem(d, names or {}) for d in details_of(exc.errors())]
        raise ToolError(f"invalid arguments: {' | '.join(problems)}") from exc
    except Exception as exc:
        body = error_of(exc).body
        wait = f" (retry after {body.retry_after_s} s)" if body.retry_after_s else ""
        raise ToolError(f"{body.message}; fix: {body.fix}{wait}") from exc


async def _caller(ctx: Context) -> tuple[Services, ApiKey]:
    """The process's services and the caller (charged one request to its rate limit)."""
    services: Services = ctx.request_context.lifespan_context
    request = ctx.request_context.request
    key = getattr(request, "scope", {}).get(KEY_SCOPE)
    if key is None:  # stdio: the local user
        key = ApiKey(id=LOCAL, name=LOCAL, rate_per_minute=services.settings.api_rate_per_minute)
    with _tool_errors():
        await charge(services, key)
    return services, key


async def refine(
    task: Task,
    ctx: Context,
    constraints: ConstraintsIn | None = None,
    documents: Documents | None = None,
    preset: Preset = DEFAULT_CONFIG,
) -> RefineOutput:
    """Refine an answer to `task` until it passes its checks: required words, length limits
    and verifiable instructions in `constraints` (and those the task's own words state), and
    grounding in `documents`. Returns the answer, its score and confidence, and its thread id."""
    services, key = await _caller(ctx)

    async def progress(event: Event) -> None:
        name, data = event
        if name == "score":
            message = f"iteration {data['iteration']}: score {data['score']:.3f}"
            await ctx.report_progress(data["iteration"] + 1, None, message)

    with _tool_errors(names={"config": "preset"}):
        body = RefinementRequest(
            task=task, constraints=constraints, documents=documents or [], config=preset
        )
        spec, ticket = await start_run(services, key, body, None, reviewable=False)
        result = await execute(services, ticket, spec, emit=progress, tokens=False)
    return RefineOutput.model_validate(result.model_dump(include=set(RefineOutput.model_fields)))


async def thread(thread_id: ThreadId, ctx: Context) -> ThreadOut:
    """A past run by its thread id (one `refine` returned to this caller): its status, task,
    preset, latest draft and score, and the answer once it finished."""
    services, key = await _caller(ctx)
    with _tool_errors():
        return await describe_thread(services, key, thread_id)


def create_server(settings: Settings) -> MCPServer[Services]:
    """The MCP server; its services live from the first session to the last (one lifespan)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: MCPServer[Services]) -> AsyncIterator[Services]:
        async with serving(settings) as services:
            yield services

    server: MCPServer[Services] = MCPServer(
        "refinery",
        title="refinery",
        instructions=INSTRUCTIONS,
        version="1.0.0",
        lifespan=lifespan,
        log_level=settings.log_level.upper(),  # type: ignore[arg-type]
    )
    server.add_tool(
        refine, annotations=ToolAnnotations(read_only_hint=False, open_world_hint=False)
    )
    server.add_tool(thread, annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    return server
