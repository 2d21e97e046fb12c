"""Alerts: delivered to the log and to a webhook, deduplicated and cooled down through Redis so
that several replicas seeing one condition raise one alert; open alerts are listed from there."""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

import httpx
import redis.asyncio as aredis
from pydantic import BaseModel, Field
from redis.exceptions import RedisError

from core.settings import Settings, get_settings
from core.telemetry.metrics import ALERTS

__all__ = ["Alert", "AlertManager"]

log = logging.getLogger("refinery.alerts")

Rule = Literal["error_rate", "service_unready", "anomaly", "drift", "review_or_retrain"]


class Alert(BaseModel):
    """One alerting condition; `condition` names it, and deduplication is per condition."""

    condition: str
    rule: Rule
    severity: Literal["critical", "warning"]
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)
    first_seen: float = 0.0
    last_seen: float = 0.0
    count: int = 1
    """How many times the condition was seen while the alert was open."""


class AlertManager:
    """Raises and resolves alerts; the first replica to claim a condition's cooldown delivers."""

    def __init__(
        self,
        redis: aredis.Redis,
        prefix: str,
        settings: Settings | None = None,
        replica: str = "local",
    ) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:alerts"
        self.settings = settings or get_settings()
        self.replica = replica
        self._http: httpx.AsyncClient | None = None
        self._local_cooldown: dict[str, float] = {}
        """Used only while Redis is unreachable: better two replicas alert than none."""

    async def fire(self, alert: Alert) -> bool:
        """Record `alert` as open; deliver it unless its condition is cooling down.
        Returns whether this call delivered it."""
        now = time.time()
        alert = alert.model_copy(update={"last_seen": now})
        try:
            claimed = await self._record(alert, now)
        except RedisError as exc:
            log.warning("alert state unavailable, deciding locally", extra={"error": str(exc)})
            claimed = self._claim_locally(alert.condition, now)
        if not claimed:
            return False
        delivered = await self._deliver(alert)
        if not delivered:
            # Give the claim back so a later evaluation retries the webhook.
            try:
                await self.redis.delete(self._cooldown_key(alert.condition))
            except RedisError:
                self._local_cooldown.pop(alert.condition, None)
        return delivered

    async def resolve(self, key: str) -> None:
        """Close the alert for `key` (its cooldown stays, so a flapping condition stays quiet)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for field in ("open", "first", "seen", "count"):
                pipe.hdel(f"{self.prefix}:{field}", key)
            await pipe.execute()

    async def open_alerts(self) -> list[Alert]:
        """Open alerts, newest first; event-like ones not seen for a cooldown are closed here."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for field in ("open", "first", "seen", "count"):
                pipe.hgetall(f"{self.prefix}:{field}")
            opened, first, seen, count = await pipe.execute()
        stale_after = max(self.settings.alert_cooldown_s, self.settings.alert_eval_interval_s * 4)
        now, alerts, stale = time.time(), [], []
        for key, body in opened.items():
            alert = Alert.model_validate_json(body)
            alert.first_seen = float(first.get(key, alert.last_seen))
            alert.last_seen = float(seen.get(key, alert.last_seen))
            alert.count = int(count.get(key, 1))
            if alert.rule in ("anomaly", "drift") and now - alert.last_seen > stale_after:
                stale.append(key.decode() if isinstance(key, bytes) else key)
                continue
            alerts.append(alert)
        for key in stale:
            await self.resolve(key)
        return sorted(alerts, key=lambda a: a.last_seen, reverse=True)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- internals -----------------------------------------------------------------------------

    def _cooldown_key(self, key: str) -> str:
        return f"{self.prefix}:cooldown:{key}"

    async def _record(self, alert: Alert, now: float) -> bool:
        cooldown_ms = int(self.settings.alert_cooldown_s * 1000)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(f"{self.prefix}:open", alert.condition, alert.model_dump_json())
            pipe.hsetnx(f"{self.prefix}:first", alert.condition, repr(now))
            pipe.hset(f"{self.prefix}:seen", alert.condition, repr(now))
            pipe.hincrby(f"{self.prefix}:count", alert.condition, 1)
            if cooldown_ms > 0:
                pipe.set(self._cooldown_key(alert.condition), self.replica, nx=True, px=cooldown_ms)
            replies = await pipe.execute()
        return bool(replies[-1]) if cooldown_ms > 0 else True

    def _claim_locally(self, key: str, now: float) -> bool:
        until = self._local_cooldown.get(key, 0.0)
        if now < until:
            return False
        self._local_cooldown[key] = now + self.settings.alert_cooldown_s
        return True

    async def _deliver(self, alert: Alert) -> bool:
        level = logging.CRITICAL if alert.severity == "critical" else logging.WARNING
        log.log(level, "alert: %s", alert.summary, extra={"alert": alert.model_dump()})
        ALERTS.labels(alert.rule).inc()
        url = self.settings.alert_webhook_url
        if not url:
            return True
        payload = {
            "source": "refinery",
            "replica": self.replica,
            "text": f"[{alert.severity}] {alert.summary}",
            "alert": alert.model_dump(),
        }
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.settings.alert_webhook_timeout_s)
        try:
            response = await self._http.post(url, json=payload)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.error(
                "alert webhook failed", extra={"error": str(exc), "condition": alert.condition}
            )
            return False
        return True
