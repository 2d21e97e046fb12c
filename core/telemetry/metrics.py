"""The engine's Prometheus metrics, correct under several worker processes.

With `settings.prometheus_multiproc_dir` set, every process writes its samples to files there
and `exposition()` aggregates them (prometheus-client's multiprocess mode); the folder must be
set before the first metric exists, so this module sets it before importing the client.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from core.settings import get_settings


def _multiproc_dir() -> Path | None:
    directory = get_settings().prometheus_multiproc_dir
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    if "prometheus_client.values" in sys.modules and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        raise RuntimeError(
            "prometheus_client was imported before core.telemetry.metrics set its multiprocess "
            "folder; import core.telemetry first, or export PROMETHEUS_MULTIPROC_DIR"
        )
    # prometheus-client chooses its value store from this variable when it is first imported.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


MULTIPROC_DIR = _multiproc_dir()

from prometheus_client import (  # noqa: E402 - after the multiprocess folder is set
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from core.llm.stats import LLMStatsSnapshot, llm_stats  # noqa: E402

__all__ = [
    "CACHE_LOOKUPS",
    "CACHE_SAVED_TOKENS",
    "CONTENT_TYPE_LATEST",
    "ERRORS",
    "FALLBACKS",
    "IN_FLIGHT",
    "ITERATIONS",
    "QUEUE_DEPTH",
    "REQUESTS",
    "REQUEST_LATENCY",
    "RETRIES",
    "REVIEWS",
    "REVIEWS_REQUESTED",
    "REVIEW_WAIT",
    "RUNS",
    "RUN_LATENCY",
    "SCORES",
    "TOKENS",
    "exposition",
    "mark_process_dead",
    "sync_llm_stats",
]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
"""Seconds: from a cached HTTP answer to a long refinement on a slow CPU model."""

REQUESTS = Counter(
    "refinery_http_requests", "HTTP requests answered.", ["route", "method", "status"]
)
REQUEST_LATENCY = Histogram(
    "refinery_http_request_seconds", "HTTP request latency.", ["route"], buckets=LATENCY_BUCKETS
)
NODE_LATENCY = Histogram(
    "refinery_node_seconds", "Latency of one graph node.", ["node"], buckets=LATENCY_BUCKETS
)
RUNS = Counter("refinery_runs", "Finished refinement runs.", ["request_type", "variant", "outcome"])
RUN_LATENCY = Histogram(
    "refinery_run_seconds",
    "Wall time of a refinement run.",
    ["request_type"],
    buckets=LATENCY_BUCKETS,
)
ITERATIONS = Histogram(
    "refinery_run_iterations",
    "Refinement iterations of a run.",
    ["request_type", "variant"],
    buckets=(0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50),
)
SCORES = Histogram(
    "refinery_run_score",
    "Final combined score of a run.",
    ["request_type", "variant"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0),
)
TOKENS = Counter(
    "refinery_tokens", "Model tokens spent.", ["model", "role", "request_type", "direction"]
)
LOCAL_MODEL_RESTARTS = Counter(
    "refinery_local_model_restarts", "Restarts of the embedded model server by its supervisor."
)
LOCAL_MODEL_READY = Gauge(
    "refinery_local_model_ready",
    "Whether the embedded model server answers its health check (1) or not (0).",
    multiprocess_mode="max",
)
CACHE_LOOKUPS = Counter(
    "refinery_llm_cache_lookups", "Response cache lookups.", ["layer", "result"]
)
CACHE_SAVED_TOKENS = Counter(
    "refinery_llm_cache_saved_tokens", "Tokens cache hits did not spend.", ["direction"]
)
RETRIES = Counter("refinery_llm_retries", "Model call retries, by cause.", ["cause"])
FALLBACKS = Counter("refinery_llm_fallbacks", "Calls a fallback tier took over.", ["tier"])
RESTART_WAITS = Counter(
    "refinery_llm_restart_waits",
    "Calls that waited for their supervised model server to come back, by tier.",
    ["tier"],
)
LLM_FAILURES = Counter("refinery_llm_failures", "Failed model requests, by cause.", ["cause"])
ERRORS = Counter("refinery_errors", "Errors, by type and where they happened.", ["type", "where"])
QUEUE_DEPTH = Gauge(
    "refinery_queue_depth",
    "Requests waiting for admission.",
    ["priority"],
    multiprocess_mode="livesum",
)
IN_FLIGHT = Gauge("refinery_runs_in_flight", "Runs executing now.", multiprocess_mode="livesum")
ADMISSION_LIMIT = Gauge(
    "refinery_admission_limit", "The adaptive concurrency limit.", multiprocess_mode="livesum"
)
ALERTS = Counter("refinery_alerts_delivered", "Alerts this process delivered.", ["rule"])
FEEDBACK = Counter("refinery_feedback", "Feedback received.", ["kind", "value", "variant"])
REVIEWS_REQUESTED = Counter(
    "refinery_reviews_requested",
    "Pauses for a person's review, each round counted (over refinery_runs_total: pauses per "
    "finished run).",
    ["config"],
)
REVIEWS = Counter(
    "refinery_reviews",
    "Reviewers' decisions, by action (approval rate: approve over all).",
    ["action"],
)
REVIEW_WAIT = Histogram(
    "refinery_review_wait_seconds",
    "Time a paused run waited for its reviewer's decision.",
    buckets=(1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 7 * 86400),
)


class _LLMStatsMirror:
    """Copies the model layer's in-process counters (`core.llm.stats`) into Prometheus counters
    as deltas, so the multiprocess files (and thus `/metrics`) carry them too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = LLMStatsSnapshot()

    def sync(self) -> None:
        with self._lock:
            now = llm_stats().snapshot()
            last, self._last = self._last, now
        _add_deltas(RETRIES, now.retries, last.retries)
        _add_deltas(FALLBACKS, now.fallbacks, last.fallbacks)
        _add_deltas(RESTART_WAITS, now.restart_waits, last.restart_waits)
        _add_deltas(LLM_FAILURES, now.failures, last.failures)
        for layer, hits in now.cache_hits.items():
            _inc(CACHE_LOOKUPS.labels(layer, "hit"), hits - last.cache_hits.get(layer, 0))
        _inc(CACHE_LOOKUPS.labels("all", "miss"), now.cache_misses - last.cache_misses)
        _inc(CACHE_SAVED_TOKENS.labels("in"), now.saved_input_tokens - last.saved_input_tokens)
        saved_out = now.saved_output_tokens - last.saved_output_tokens
        _inc(CACHE_SAVED_TOKENS.labels("out"), saved_out)


def _add_deltas(counter: Counter, now: dict[str, int], last: dict[str, int]) -> None:
    for key, value in now.items():
        _inc(counter.labels(key), value - last.get(key, 0))


def _inc(child: Counter, amount: float) -> None:
    if amount > 0:  # a reset of the source counters is not a negative increment
        child.inc(amount)


_mirror = _LLMStatsMirror()


def sync_llm_stats() -> None:
    """Bring the model layer's counters (retries, fallbacks, cache) into the metrics."""
    _mirror.sync()


def exposition() -> tuple[bytes, str]:
    """The metrics page (body, content type): every worker's samples in multiprocess mode."""
    sync_llm_stats()
    if MULTIPROC_DIR is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(MULTIPROC_DIR))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (call from the process manager's child-exit hook)."""
    if MULTIPROC_DIR is not None:
        multiprocess.mark_process_dead(pid, str(MULTIPROC_DIR))
