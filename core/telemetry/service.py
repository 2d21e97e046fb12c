"""The monitoring service of one process: what the request path reports to (`observe_request`,
`observe_run`), the loop that probes readiness and evaluates the alert rules, and the summary the
dashboard draws. State shared between replicas lives in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import redis.asyncio as aredis
from pydantic import ConfigDict
from redis.exceptions import RedisError

from core.feedback.experiments import (
    ExperimentStore,
    UnknownExperimentError,
    enabled_experiments,
    load_experiment,
)
from core.feedback.store import FeedbackStore, RunRecord
from core.llm.stats import llm_stats
from core.outcome import RunOutcome
from core.redis.server import async_client
from core.settings import Settings, get_settings
from core.telemetry import metrics as m
from core.telemetry.alerts import Alert, AlertManager
from core.telemetry.anomaly import Anomaly, AnomalyDetectors
from core.telemetry.drift import DriftMonitor
from core.telemetry.timeline import LATENCY_EDGES, Timeline, latency_field, quantile

__all__ = ["ObservedRun", "Telemetry", "UnknownExperimentError", "get_telemetry", "request_type"]

log = logging.getLogger("refinery.telemetry")

ReadinessProbe = Callable[[], Awaitable[bool]]


def request_type(request: Mapping[str, Any]) -> str:
    """The request's type for thresholds and breakdowns: `grounded` (has documents),
    `constrained` (has checkable constraints) or `open`."""
    if request.get("documents"):
        return "grounded"
    if request.get("constraints"):
        return "constrained"
    return "open"


class ObservedRun(RunOutcome):
    """What monitoring needs of a finished run: its outcome, plus the thread, wall time and
    error (`graph.runner.TaskResult` converts as is)."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)

    thread_id: str | None = None
    wall_s: float = 0.0
    error: str | None = None

    @classmethod
    def of(cls, result: Any) -> ObservedRun:
        if isinstance(result, ObservedRun):
            return result
        if isinstance(result, Mapping):
            return cls.model_validate(dict(result))
        return cls.model_validate(result, from_attributes=True)

    @property
    def tokens(self) -> int:
        return self.usage.input_tokens + self.usage.output_tokens

    @property
    def error_type(self) -> str:
        return (self.error or "").split(":", 1)[0].strip() or "Error"


class Telemetry:
    """Metrics, timeline, anomalies, drift, alerts, feedback and experiments of one process."""

    def __init__(
        self,
        redis: aredis.Redis | None = None,
        settings: Settings | None = None,
        replica: str | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.redis = redis if redis is not None else async_client(settings=self.settings)
        self.replica = replica or f"{socket.gethostname()}:{os.getpid()}"
        prefix = f"{self.settings.redis_key_prefix}:telemetry"
        self.timeline = Timeline(self.redis, prefix, self.settings)
        self.alerts = AlertManager(self.redis, prefix, self.settings, self.replica)
        self.drift = DriftMonitor(self.redis, prefix, self.settings)
        self.feedback = FeedbackStore(self.redis, prefix, self.settings)
        self.experiments = ExperimentStore(self.redis, prefix, self.feedback)
        self.anomalies = AnomalyDetectors(self.settings)
        self._pending: Counter[str] = Counter()
        self._pending_lock = threading.Lock()
        self._cache_seen = (0, 0)
        self._unready_since: float | None = None
        self.clock: Callable[[], float] = time.monotonic
        """What times how long the service has been unready (tests set their own)."""
        self._loop_task: asyncio.Task[None] | None = None

    # --- the request path ----------------------------------------------------------------------

    def observe_request(self, route: str, method: str, status: int, latency_s: float) -> None:
        """One HTTP request answered (cheap and synchronous: for a middleware)."""
        m.REQUESTS.labels(route, method, str(status)).inc()
        m.REQUEST_LATENCY.labels(route).observe(latency_s)
        with self._pending_lock:
            self._pending["http_requests"] += 1
            self._pending["http_latency_sum"] += latency_s
            if status >= 500:
                self._pending["http_5xx"] += 1

    async def observe_run(
        self,
        result: Any,
        *,
        request_type: str = "open",
        task: str | None = None,
        config: str | None = None,
        experiment: str | None = None,
        variant: str | None = None,
        at: float | None = None,
    ) -> list[Alert]:
        """One finished run (a `TaskResult`) at time `at` (now); returns the alerts this call
        delivered. Give `task` to make the run ratable and exportable; Redis trouble is logged,
        not raised."""
        outcome = ObservedRun.of(result)
        self._count_run(outcome, request_type, variant)
        try:
            await self.timeline.add(
                self._run_fields(outcome, request_type) | self._take_pending(), at
            )
            await self._store_run(outcome, request_type, task, config, experiment, variant)
            found = self.anomalies.observe(
                request_type,
                latency_s=outcome.wall_s,
                tokens=outcome.tokens,
                error=outcome.error is not None,
            )
            delivered = [a for a in map(_anomaly_alert, found) if await self.alerts.fire(a)]
            if outcome.error is not None:
                delivered += await self.check_error_rate()
        except RedisError as exc:
            log.warning("monitoring state unavailable", extra={"error": str(exc)})
            return []
        return delivered

    def _count_run(self, o: ObservedRun, rtype: str, variant: str | None) -> None:
        label = variant or "-"
        m.RUNS.labels(rtype, label, "error" if o.error else "ok").inc()
        if o.error:
            m.ERRORS.labels(o.error_type, "run").inc()
            return
        m.RUN_LATENCY.labels(rtype).observe(o.wall_s)
        if o.iterations is not None:
            m.ITERATIONS.labels(rtype, label).observe(o.iterations)
        if o.score is not None:
            m.SCORES.labels(rtype, label).observe(o.score)
        models = list(o.usage.by_model)
        model = models[0] if len(models) == 1 else "mixed"
        for role, usage in o.usage.by_node.items():
            m.TOKENS.labels(model, role, rtype, "in").inc(usage.get("input_tokens", 0))
            m.TOKENS.labels(model, role, rtype, "out").inc(usage.get("output_tokens", 0))

    async def _store_run(
        self,
        o: ObservedRun,
        rtype: str,
        task: str | None,
        config: str | None,
        experiment: str | None,
        variant: str | None,
    ) -> None:
        if o.error is None:
            await self.drift.record(
                {
                    "score": o.score,
                    "confidence": o.confidence,
                    "iterations": o.iterations,
                    "answer_length": len(o.answer.split()) if o.answer else None,
                }
            )
        if experiment and variant:
            await self.experiments.record(
                experiment,
                variant,
                score=o.score,
                latency_s=o.wall_s,
                tokens=o.tokens,
                error=o.error is not None,
            )
        if task is not None and o.answer and o.thread_id:
            await self.feedback.remember_run(
                RunRecord(
                    run_id=o.thread_id,
                    task=task,
                    answer=o.answer,
                    score=o.score,
                    request_type=rtype,
                    config=config,
                    experiment=experiment,
                    variant=variant,
                )
            )

    @staticmethod
    def _run_fields(o: ObservedRun, rtype: str) -> dict[str, float]:
        # runs per request type: the demand series capacity scaling forecasts (core/scaling)
        fields: dict[str, float] = {"runs": 1, f"runs:{rtype}": 1}
        if o.error:
            return fields | {"errors": 1}
        fields |= {"lat_sum": o.wall_s, "lat_n": 1, latency_field(o.wall_s): 1}
        fields |= {
            f"tok:{rtype}:in": o.usage.input_tokens,
            f"tok:{rtype}:out": o.usage.output_tokens,
        }
        for name, value in (("score", o.score), ("iter", o.iterations), ("conf", o.confidence)):
            if value is not None:
                fields |= {f"{name}_sum": float(value), f"{name}_n": 1}
        return fields

    def _take_pending(self) -> dict[str, float]:
        """Request counters since the last write, and the model cache's hits and misses."""
        m.sync_llm_stats()
        snapshot = llm_stats().snapshot()
        with self._pending_lock:
            pending, self._pending = dict(self._pending), Counter()
            seen = (snapshot.cache_hits_total, snapshot.cache_misses)
            hits, misses = seen[0] - self._cache_seen[0], seen[1] - self._cache_seen[1]
            self._cache_seen = seen
        return pending | {"cache_hit": max(hits, 0), "cache_miss": max(misses, 0)}

    # --- rules ---------------------------------------------------------------------------------

    async def check_error_rate(self) -> list[Alert]:
        """The seeds' rule: the error rate of runs above `alert_error_rate` over the window."""
        s = self.settings
        window = await self.timeline.window(s.alert_error_window_s)
        runs, errors = window.get("runs", 0.0), window.get("errors", 0.0)
        if runs < s.alert_min_runs:
            return []
        rate = errors / runs
        if rate <= s.alert_error_rate:
            await self.alerts.resolve("error_rate")
            return []
        alert = Alert(
            condition="error_rate",
            rule="error_rate",
            severity="critical",
            summary=f"error rate {rate:.0%} over the last {s.alert_error_window_s:.0f} s "
            f"({errors:.0f} of {runs:.0f} runs failed; threshold {s.alert_error_rate:.0%})",
            details={"error_rate": round(rate, 4), "errors": errors, "runs": runs},
        )
        return [alert] if await self.alerts.fire(alert) else []

    def note_readiness(self, ready: bool) -> None:
        """What the readiness probe said just now."""
        if ready:
            self._unready_since = None
        elif self._unready_since is None:
            self._unready_since = self.clock()

    async def check_readiness(self) -> list[Alert]:
        """The seeds' rule: the service unready for longer than `alert_unready_s`."""
        if self._unready_since is None:
            with contextlib.suppress(RedisError):
                await self.alerts.resolve("service_unready")
            return []
        down_s = self.clock() - self._unready_since
        if down_s <= self.settings.alert_unready_s:
            return []
        alert = Alert(
            condition="service_unready",
            rule="service_unready",
            severity="critical",
            summary=f"service unready for {down_s:.0f} s (replica {self.replica})",
            details={"unready_s": round(down_s, 1), "replica": self.replica},
        )
        return [alert] if await self.alerts.fire(alert) else []

    async def check_drift(self) -> list[Alert]:
        """Drift of each metric, and the "review or retrain" rule on the mean score."""
        report = await self.drift.check()
        delivered: list[Alert] = []
        for result in report.metrics:
            condition = f"drift:{result.metric}"
            if not result.drifted:
                await self.alerts.resolve(condition)
                continue
            alert = Alert(
                condition=condition,
                rule="drift",
                severity="warning",
                summary=f"{result.metric} drifted: PSI {result.psi:.2f}, "
                f"KS p={result.ks_pvalue:.1e} "
                f"(mean {result.baseline_mean:g} -> {result.recent_mean:g})",
                details=result.model_dump(),
            )
            delivered += [alert] if await self.alerts.fire(alert) else []
        if report.quality_drop is not None and not report.review_or_retrain:
            await self.alerts.resolve("review_or_retrain")
        if report.review_or_retrain:
            alert = Alert(
                condition="review_or_retrain",
                rule="review_or_retrain",
                severity="critical",
                summary=f"mean quality score dropped {report.quality_drop:.1%} against the "
                "baseline: review or retrain",
                details={"quality_drop": report.quality_drop},
            )
            delivered += [alert] if await self.alerts.fire(alert) else []
        return delivered

    async def evaluate(self) -> list[Alert]:
        """Every rule once; returns the alerts this call delivered."""
        delivered = await self.check_readiness()
        try:
            await self.flush()
            delivered += await self.check_error_rate()
            delivered += await self.check_drift()
        except RedisError as exc:
            log.warning("alert rules skipped: Redis unavailable", extra={"error": str(exc)})
        return delivered

    async def flush(self) -> None:
        """Write the pending request and cache counters to the timeline."""
        await self.timeline.add(self._take_pending())

    # --- the monitor loop ----------------------------------------------------------------------

    def start(self, probe: ReadinessProbe | None = None) -> None:
        """Start the loop that probes readiness and evaluates the rules (in the running loop)."""
        if self._loop_task is None:
            self._loop_task = asyncio.get_running_loop().create_task(self._monitor(probe))

    async def _monitor(self, probe: ReadinessProbe | None) -> None:
        while True:
            await asyncio.sleep(self.settings.alert_eval_interval_s)
            try:
                if probe is not None:
                    self.note_readiness(await _safely(probe))
                await self.evaluate()
            except Exception:  # the monitor must outlive any one bad evaluation
                log.exception("monitor evaluation failed")

    async def aclose(self) -> None:
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            # shutdown must not wait on a monitor stuck in I/O: give it a moment, then move on.
            # `asyncio.wait` neither raises the monitor's CancelledError nor swallows ours.
            await asyncio.wait({task}, timeout=5)
        await self.alerts.aclose()

    # --- the dashboard -------------------------------------------------------------------------

    async def summary(self, span_s: float = 3600) -> dict[str, Any]:
        """Everything the dashboard draws: series over `span_s`, totals, alerts, experiments."""
        await self.flush()
        rows = await self.timeline.series(span_s)
        series = [_point(start, row) for start, row in rows]
        total: dict[str, float] = {}
        for _, row in rows:
            for key, value in row.items():
                total[key] = total.get(key, 0.0) + value
        experiments = []
        for experiment in enabled_experiments():
            results = await self.experiments.results(experiment)
            experiments.append(results.model_dump())
        return {
            "generated_at": time.time(),
            "span_s": span_s,
            "bucket_s": self.settings.timeline_bucket_s,
            "totals": _point(0, total),
            "request_types": sorted({k.split(":")[1] for k in total if k.startswith("tok:")}),
            "series": series,
            "alerts": [a.model_dump() for a in await self.alerts.open_alerts()],
            "experiments": experiments,
        }

    async def experiment_results(self, name: str) -> dict[str, Any]:
        """One experiment's results; raises `UnknownExperimentError`."""
        experiment = load_experiment(name)
        return (await self.experiments.results(experiment)).model_dump()


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _point(start: int, row: dict[str, float]) -> dict[str, Any]:
    counts = [row.get(f"lat_le_{i}", 0.0) for i in range(len(LATENCY_EDGES))]
    p95 = quantile(counts, 0.95)
    p50 = quantile(counts, 0.5)
    return {
        "t": start,
        "runs": row.get("runs", 0.0),
        "errors": row.get("errors", 0.0),
        "error_rate": _ratio(row.get("errors", 0.0), row.get("runs", 0.0)),
        "latency_mean": _ratio(row.get("lat_sum", 0.0), row.get("lat_n", 0.0)),
        "latency_p50": round(p50, 3) if p50 is not None else None,
        "latency_p95": round(p95, 3) if p95 is not None else None,
        "score_mean": _ratio(row.get("score_sum", 0.0), row.get("score_n", 0.0)),
        "iterations_mean": _ratio(row.get("iter_sum", 0.0), row.get("iter_n", 0.0)),
        "confidence_mean": _ratio(row.get("conf_sum", 0.0), row.get("conf_n", 0.0)),
        "cache_hit_rate": _ratio(
            row.get("cache_hit", 0.0), row.get("cache_hit", 0.0) + row.get("cache_miss", 0.0)
        ),
        "requests": row.get("http_requests", 0.0),
        "http_5xx": row.get("http_5xx", 0.0),
        "tokens": {
            key.split(":")[1]: row.get(f"tok:{key.split(':')[1]}:in", 0.0)
            + row.get(f"tok:{key.split(':')[1]}:out", 0.0)
            for key in row
            if key.startswith("tok:")
        },
    }


def _anomaly_alert(anomaly: Anomaly) -> Alert:
    return Alert(
        condition=f"anomaly:{anomaly.request_type}:{anomaly.metric}",
        rule="anomaly",
        severity="warning",
        summary=f"{anomaly.metric} anomaly on {anomaly.request_type} requests: {anomaly.value:g} "
        f"against {anomaly.expected:g} expected (z={anomaly.score:g} > {anomaly.threshold:g})",
        details=anomaly.model_dump(),
    )


async def _safely(probe: ReadinessProbe) -> bool:
    try:
        return bool(await probe())
    except Exception:
        return False


_telemetry: Telemetry | None = None


def get_telemetry() -> Telemetry:
    """The process's monitoring service (created on first use, in the serving event loop)."""
    global _telemetry
    if _telemetry is None:
        _telemetry = Telemetry()
    return _telemetry
