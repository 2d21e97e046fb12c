"""The MCP server's two transports: stdio (the agent starts `refinery mcp` itself) and
streamable HTTP (`refinery mcp --http`), the latter behind the API's keys: a request without a
known key is refused with the API's 401 before any MCP message is read, and the caller's key
rides in the request scope to the tools (`api.mcp.server.KEY_SCOPE`). Like `refinery serve`, an
HTTP server without keys listens on loopback only."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import KeyRing
from api.deps import key_of
from api.errors import ApiError, respond
from api.mcp.server import KEY_SCOPE, create_server
from core.settings import Settings, get_settings

MCP_PATH = "/mcp"


class KeyGate:
    """ASGI middleware: every HTTP request names a known API key (any caller when none is
    configured); the key goes into the scope for the tools."""

    def __init__(self, app: ASGIApp, keys: KeyRing, rate_per_minute: int) -> None:
        self.app = app
        self.keys = keys
        self.rate_per_minute = rate_per_minute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            authorization = dict(scope.get("headers") or []).get(b"authorization", b"")
            try:
                key = key_of(authorization.decode("latin-1"), self.keys, self.rate_per_minute)
            except ApiError as refused:
                await respond(refused.status, refused.body, refused.headers)(scope, receive, send)
                return
            scope[KEY_SCOPE] = key
        await self.app(scope, receive, send)


def http_app(settings: Settings, host: str = "127.0.0.1") -> ASGIApp:
    """The streamable HTTP app at `/mcp`, behind the key gate (DNS-rebinding protection on
    when it listens on loopback)."""
    server = create_server(settings)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        max_request_body_size=settings.api_max_body_bytes,
        host=host,
    )
    return KeyGate(app, KeyRing.from_settings(settings), settings.api_rate_per_minute)


def serve_stdio(settings: Settings | None = None) -> None:
    """Serve MCP on stdin/stdout until the client closes them (logs go to stderr)."""
    from core.telemetry.logs import configure_logging

    settings = settings or get_settings()
    configure_logging(settings)
    create_server(settings).run("stdio")


def serve_http(host: str, port: int, settings: Settings | None = None) -> None:
    """Serve MCP over streamable HTTP at `http://host:port/mcp` until interrupted."""
    import uvicorn

    from api.server import check_bind
    from core.telemetry.logs import configure_logging

    settings = settings or get_settings()
    check_bind(host, settings)
    configure_logging(settings)
    uvicorn.run(
        http_app(settings, host),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,
        timeout_graceful_shutdown=10,
    )
