"""`refinery serve`: uvicorn on the app, refusing any address but loopback when no API key is
configured (an open server must not be reachable from the network); logs are JSON lines."""

from __future__ import annotations

import ipaddress
import socket

from api.auth import KeyRing
from core.settings import Settings, get_settings


class UnsafeBindError(ValueError):
    """No API keys are configured and the address is not loopback."""


def is_loopback(host: str) -> bool:
    """True when every address `host` resolves to is a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_bind(host: str, settings: Settings) -> None:
    """Raise `UnsafeBindError` for a non-loopback `host` on a server without keys."""
    if KeyRing.from_settings(settings).open and not is_loopback(host):
        raise UnsafeBindError(
            f"refusing to listen on {host!r} without API keys: configure REFINERY_API_KEYS "
            "or REFINERY_API_KEYS_FILE (SHA-256 digests; `python -m api.auth new` makes "
            "one), or listen on 127.0.0.1"
        )


def serve(host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None) -> None:
    """Run the API under uvicorn until interrupted."""
    import uvicorn

    from api.app import create_app
    from core.telemetry.logs import configure_logging
    from core.telemetry.tracing import configure_tracing

    settings = settings or get_settings()
    check_bind(host, settings)
    configure_logging(settings)
    configure_tracing(settings)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's records go through the JSON formatter too
        access_log=False,  # the request middleware logs each request, with its run ids
        timeout_graceful_shutdown=10,
    )
