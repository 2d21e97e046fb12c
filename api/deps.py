"""Request dependencies: who is calling (API key, or the loopback `local` caller when no keys
are configured), whether their rate limit lets them in, and the user or session id a request
names for experiment assignment."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from api.auth import LOCAL, ApiKey, KeyRing
from api.errors import ApiError
from api.schemas import UnitId
from api.services import Services, get_services


def presented_key(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, if it holds one."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def key_of(authorization: str | None, keys: KeyRing, rate_per_minute: int) -> ApiKey:
    """The caller of a request with this `Authorization` header; 401 when keys are configured
    and none (or an unknown one) was sent. With no keys, everyone is the loopback `local`."""
    if keys.open:
        return ApiKey(id=LOCAL, name=LOCAL, rate_per_minute=rate_per_minute)
    presented = presented_key(authorization)
    key = keys.lookup(presented) if presented else None
    if key is None:
        raise ApiError(
            401,
            "unauthorized",
            "missing or unknown API key" if presented is None else "unknown API key",
            "send `Authorization: Bearer <your API key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


def authenticate(request: Request, services: Services) -> ApiKey:
    """The caller's key; 401 when keys are configured and none (or an unknown one) was sent."""
    authorization = request.headers.get("authorization")
    return key_of(authorization, services.keys, services.settings.api_rate_per_minute)


async def charge(services: Services, key: ApiKey, cost: int = 1) -> None:
    """Spend `cost` of the key's rate budget; 429 with Retry-After when it is spent."""
    verdict = await services.limiter.charge(key.id, key.rate_per_minute, cost, key.burst)
    if not verdict.allowed:
        raise ApiError(
            429,
            "rate_limited",
            f"this API key's rate limit ({key.rate_per_minute} requests a minute) is spent",
            "wait Retry-After seconds before the next request, or send fewer",
            retry_after_s=verdict.retry_after_s,
        )


async def caller(request: Request, services: Annotated[Services, Depends(get_services)]) -> ApiKey:
    """FastAPI dependency: the authenticated key, charged one request."""
    key = authenticate(request, services)
    await charge(services, key)
    return key


Caller = Annotated[ApiKey, Depends(caller)]
ServicesDep = Annotated[Services, Depends(get_services)]


async def operator(
    request: Request, services: Annotated[Services, Depends(get_services)]
) -> ApiKey:
    """FastAPI dependency of the monitoring data (metrics, alerts, experiments): any known key,
    not charged to its rate (a scraper polls)."""
    return authenticate(request, services)


async def unit_id(
    x_user_id: Annotated[
        UnitId | None, Header(description="A user id, for sticky experiment assignment.")
    ] = None,
    x_session_id: Annotated[
        UnitId | None, Header(description="A session id, when there is no user id.")
    ] = None,
) -> str | None:
    """FastAPI dependency: the user (else session) id the request's headers name, if any."""
    return x_user_id or x_session_id


UnitIdHeader = Annotated[str | None, Depends(unit_id)]
