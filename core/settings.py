"""Process-wide settings, read once from the environment (and `.env`).

Everything a deployment can vary lives here; no other module reads environment variables.
Per-run knobs (models per role, thresholds, budgets) live in `core.run_config` instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the package is installed in editable mode from it)."""


class EndpointSpec(BaseModel):
    """One OpenAI-compatible endpoint in a pool: where it is, its share of traffic, its tier."""

    base_url: str
    weight: float = Field(1.0, gt=0)
    """Share of its tier's traffic, relative to the other endpoints of that tier."""
    tier: int = Field(0, ge=0, le=9)
    """0 is the primary pool; higher tiers are fallbacks, tried in order."""
    model: str | None = None
    """The model it serves; None: `model_name`, or the role's model."""
    api_key: SecretStr | None = None
    context_window: int | None = Field(None, ge=256)
    tokenizer: bool = False
    """Whether it is a llama.cpp server with `/extras/tokenize` (exact offline counts)."""


class Settings(BaseSettings):
    """Deployment settings; every field can be set as `REFINERY_<NAME>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="REFINERY_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = PROJECT_ROOT / "data"
    """Where the embedded Redis keeps its files and the local model is assembled."""

    presets_dir: Path | None = None
    """An extra folder of run configuration presets (`NAME.json`), searched first."""

    # --- Redis (checkpoints, cache, rate limits, feedback) -------------------------------------
    redis_url: Annotated[
        str | None, Field(validation_alias=AliasChoices("REDIS_URL", "REFINERY_REDIS_URL"))
    ] = None
    """A Redis or Valkey URL; unset means the embedded server under `data_dir`."""
    redis_key_prefix: str = "refinery"
    """Prefix of every key this deployment writes, so several deployments can share a server."""
    redis_pool_size: int = Field(32, ge=1, le=10_000)
    """Connections in the blocking pool; callers beyond it wait instead of failing."""
    redis_pool_timeout_s: float = Field(10.0, gt=0)
    """How long a caller waits for a free pooled connection before giving up."""
    checkpoint_ttl_s: int | None = Field(None, ge=1)
    """Retention of checkpoints: keys expire this long after a thread's last write."""

    # --- Model endpoint --------------------------------------------------------------------------
    openai_base_url: Annotated[
        str | None,
        Field(validation_alias=AliasChoices("REFINERY_OPENAI_BASE_URL", "OPENAI_BASE_URL")),
    ] = None
    """An OpenAI-compatible endpoint; unset means the embedded local model server."""
    openai_api_key: Annotated[
        SecretStr | None,
        Field(validation_alias=AliasChoices("REFINERY_OPENAI_API_KEY", "OPENAI_API_KEY")),
    ] = None
    model_name: str | None = None
    """The default model name at the endpoint; per-role names in the run configuration win."""
    openai_legacy_max_tokens: bool = False
    """Send each role's output cap as `max_tokens` as well as `max_completion_tokens`: for
    servers that ignore the newer field (llama-cpp-python's; the embedded model always gets it).
    Leave off for OpenAI itself, whose newer models refuse a request that sets both."""
    llm_timeout_s: float = Field(120.0, gt=0)
    """Per-call timeout of a model request (the whole call, streamed or not)."""
    llm_timeout_multiple: float | None = Field(None, ge=1, le=100)
    """Make a remote endpoint's call timeout follow the observed call time: this multiple of
    the p99 of its pool's last 200 successful calls, between `llm_timeout_floor_s` and
    `llm_timeout_s` (`llm_timeout_s` until 20 calls have been seen), so a hung endpoint is
    left early while calls are fast and slow calls under load are not cut. Async calls,
    streamed or not (a stream's whole time); None: always `llm_timeout_s`."""
    llm_timeout_floor_s: float = Field(10.0, gt=0)
    """The shortest timeout `llm_timeout_multiple` may set."""
    llm_max_retries: int = Field(3, ge=0, le=20)
    """Retries of a failed model call on one tier (exponential backoff with jitter); the
    OpenAI client's own retries are off, so this is the only retry loop."""
    run_deadline_s: float | None = Field(1800.0, gt=0)
    """Longest one run may take end to end in `refinery run` and evaluations (the API has
    `api_request_timeout_s`); past it the run stops with a `DeadlineExceeded` error and its
    thread keeps its last checkpoint, to resume. None: no deadline."""
    llm_run_retry_budget: int = Field(6, ge=0, le=1000)
    """Retries one run may spend across all its model calls: past it a failing call fails at
    once (its tier's fallback still applies), so a sick endpoint cannot multiply a run's time
    by the number of calls."""
    llm_retry_initial_s: float = Field(0.5, ge=0)
    """Delay before the first retry; each further retry doubles it (`llm_retry_exp_base`)."""
    llm_retry_max_s: float = Field(8.0, ge=0)
    """Cap of one retry delay, jitter included."""
    llm_retry_exp_base: float = Field(2.0, ge=1.0)
    llm_retry_jitter_s: float = Field(0.25, ge=0)
    """Random extra delay in [0, this) added to each retry delay."""
    llm_endpoints: list[EndpointSpec] = Field(default_factory=list)
    """Endpoints as JSON, e.g. `[{"base_url": "...", "weight": 3, "tier": 0}]`: tier 0 is the
    primary pool (weighted), tier 1 the secondary, and so on. Empty: `openai_base_url`."""
    llm_local_fallback: bool = True
    """Whether the embedded local model is the last fallback when endpoints are configured."""
    llm_eject_after: int = Field(3, ge=1, le=100)
    """Consecutive failures after which an endpoint is ejected from its pool for a cooldown."""
    llm_cooldown_s: float = Field(30.0, ge=0)
    """First cooldown of an ejected endpoint; it doubles on each ejection in a row."""
    llm_cooldown_max_s: float = Field(300.0, ge=0)
    llm_context_window: int = Field(8192, ge=256)
    """Context window (tokens) of a remote endpoint whose spec does not give one."""

    # --- Response cache --------------------------------------------------------------------------
    llm_cache: bool = True
    """Cache deterministic model calls (temperature 0, or a fixed seed) by exact prompt."""
    llm_cache_entries: int = Field(2048, ge=0, le=10_000_000)
    """Entries of the in-process LRU in front of Redis (0: no in-process layer)."""
    llm_cache_redis: bool = True
    """Whether the shared Redis layer is used (off: in-process only)."""
    llm_cache_ttl_s: int = Field(7 * 24 * 3600, ge=1)
    """Time to live of a cached reply in Redis."""

    # --- Embedded local model --------------------------------------------------------------------
    model_path: Path | None = None
    """A GGUF file to serve locally instead of the packaged default model."""
    model_lora: Path | None = None
    """A LoRA adapter in GGUF form (`refinery train` exports one) that the local server applies
    to the model it serves (`llama-server --lora`); the served name says so (`model+adapter`)."""
    local_threads: int | None = Field(None, ge=1)
    """Threads of the local model server; unset means every core."""
    local_context: int = Field(4096, ge=512)
    """Context window (tokens) of each parallel slot of the local model server."""
    local_parallel: int | None = Field(None, ge=1, le=16)
    """Parallel slots of the local model server (continuous batching); unset: two per core,
    2 to 8."""
    local_call_timeout_s: float = Field(600.0, gt=0)
    """Longest a call to the local model may generate once it has a slot. A slow generation on
    the embedded server is not a fault: it is never retried (calls beyond the slots wait for one,
    and that wait is not part of this time)."""
    local_prompt_reuse: bool = True
    """Whether the local model server may reuse the prompt prefix an earlier request left in a
    slot (llama.cpp's `cache_prompt`): faster, but a reply then depends on the requests before
    it, since a reused prefix was computed in other batches (other float sums). Off: each reply
    depends on its own request alone, about a fifth more wall time. Evaluations turn it off."""
    local_port: int | None = Field(None, ge=1, le=65535)
    """Fixed port of the local model server; unset picks a free loopback port."""

    # --- Service ---------------------------------------------------------------------------------
    log_level: str = "INFO"
    log_excerpt_chars: int = Field(80, ge=0, le=10_000)
    """How much request text (tasks, documents) may appear in logs."""

    # --- Monitoring (core/telemetry) -------------------------------------------------------------
    log_format: Literal["json", "text"] = "json"
    """`json`: one JSON object a line, with run and thread ids; `text` for a person reading."""
    prometheus_multiproc_dir: Annotated[
        Path | None,
        Field(
            validation_alias=AliasChoices(
                "REFINERY_PROMETHEUS_MULTIPROC_DIR", "PROMETHEUS_MULTIPROC_DIR"
            )
        ),
    ] = None
    """A folder the worker processes share their metric samples through (empty it before the
    workers start, as prometheus-client asks)."""
    langsmith_api_key: Annotated[
        SecretStr | None,
        Field(validation_alias=AliasChoices("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")),
    ] = None
    langsmith_tracing: Annotated[
        bool, Field(validation_alias=AliasChoices("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"))
    ] = False
    """LangSmith tracing runs only when this and `langsmith_api_key` are both set."""
    langsmith_project: Annotated[
        str | None, Field(validation_alias=AliasChoices("LANGSMITH_PROJECT", "LANGCHAIN_PROJECT"))
    ] = None
    alert_webhook_url: str | None = None
    """Where alerts are POSTed as JSON (besides the log); unset: the log only."""
    alert_webhook_timeout_s: float = Field(5.0, gt=0)
    alert_cooldown_s: float = Field(900.0, ge=0)
    """After an alert is delivered, the same condition is not delivered again for this long."""
    alert_eval_interval_s: float = Field(15.0, gt=0)
    """How often the monitor loop probes readiness and evaluates the alert rules."""
    alert_error_rate: float = Field(0.10, ge=0, le=1)
    """Error rate of runs above which the error-rate alert fires."""
    alert_error_window_s: float = Field(300.0, gt=0)
    alert_min_runs: int = Field(20, ge=1)
    """Runs the error-rate window must hold before the rule judges it."""
    alert_unready_s: float = Field(300.0, ge=0)
    """How long the service may stay unready before an alert."""
    timeline_bucket_s: int = Field(60, ge=1, le=3600)
    """Width of the time buckets the dashboard and the error-rate rule read."""
    timeline_retention_s: int = Field(7 * 24 * 3600, ge=60)
    """How long the buckets are kept: a week, so the demand forecast (two full days of history
    at least) always has them; two days, the old default, left it on the recent rate for good.
    About 10,000 small hashes at one a minute."""
    anomaly_z: dict[str, float] = Field(default_factory=lambda: {"default": 4.0})
    """Robust z-score above which a run's latency or tokens is an anomaly, per request type
    (`open`, `constrained`, `grounded`), `default` for the rest."""
    anomaly_window: int = Field(200, ge=10, le=100_000)
    anomaly_warmup: int = Field(30, ge=5)
    """Observations a detector needs before it judges."""
    drift_baseline_size: int = Field(500, ge=10)
    """The first runs observed form the baseline window (until it is reset)."""
    drift_recent_size: int = Field(200, ge=10)
    drift_min_samples: int = Field(50, ge=5)
    drift_psi_threshold: float = Field(0.2, gt=0)
    drift_ks_alpha: float = Field(0.01, gt=0, lt=1)
    drift_quality_drop: float = Field(0.05, gt=0, lt=1)
    """A relative drop of the mean score this large raises "review or retrain"."""
    retrain_every_days: float | None = Field(None, gt=0)
    """`refinery train trigger` starts the training pipeline when the last one is this old (as
    well as on "review or retrain"); unset: on the alert only."""
    feedback_ttl_s: int = Field(90 * 24 * 3600, ge=60)
    """How long runs and their feedback are kept for export."""
    experiments_dir: Path | None = None
    """An extra folder of experiment definitions (`NAME.json`), searched first."""
    admission_min: int = Field(1, ge=1)
    admission_max: int = Field(64, ge=1)
    admission_initial: int = Field(8, ge=1)
    admission_target_latency_s: float | None = Field(None, gt=0)
    """Latency above which the concurrency limit shrinks; unset: `admission_tolerance` times the
    low percentile of recently observed latencies."""
    admission_tolerance: float = Field(2.0, gt=1)
    admission_backoff: float = Field(0.8, gt=0, lt=1)
    """Multiplicative decrease of the limit when latency exceeds the target."""

    # --- HTTP API (`refinery serve`) -------------------------------------------------------------
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """SHA-256 hex digests of the accepted API keys, comma-separated, each optionally
    `DIGEST:NAME`; never the keys themselves. None configured: no auth, loopback only."""
    api_keys_file: Path | None = None
    """A file of `DIGEST NAME [PER_MINUTE [BURST]]` lines, read at start, besides `api_keys`."""
    api_max_body_bytes: int = Field(1_000_000, ge=1024, le=100_000_000)
    """Largest request body accepted; larger ones get 413."""
    api_max_running: int = Field(8, ge=1, le=10_000)
    """Refinement runs executing at once at most; more wait in the priority queue. The actual
    limit adapts to latency (AIMD) between `admission_min` and this (or `admission_max` if
    lower), starting at `admission_initial`."""
    api_max_queue: int = Field(32, ge=0, le=100_000)
    """Runs waiting at most; beyond it requests get 503 with Retry-After."""
    api_request_timeout_s: float = Field(600.0, gt=0)
    """Deadline of one run, queueing included; the checkpoint stays resumable after it."""
    api_rate_per_minute: int = Field(120, ge=1, le=1_000_000)
    """Default per-key request rate (a key file line may set its own)."""
    api_rate_burst: int = Field(20, ge=1, le=1_000_000)
    """Requests a key may send at once before the rate applies."""
    api_batch_max_tasks: int = Field(50, ge=1, le=10_000)
    api_batch_concurrency: int = Field(4, ge=1, le=1_000)
    """Tasks of one batch running at once at most."""
    api_heartbeat_s: float = Field(10.0, gt=0, le=300)
    """Seconds between heartbeat comments on an idle event stream."""
    api_token_flush_ms: float = Field(20.0, ge=0, le=1000)
    """How long streamed tokens may wait to go out together as one `token` event (any other
    event sends them at once); 0 sends each batch as soon as the last one is stored."""

    # --- Scale-out: many replicas on one Redis (api/runs/leases.py, api/runs/reaper.py) -------
    api_lease_ttl_s: float = Field(15.0, ge=0.3, le=3600)
    """How long a run's lease on its thread lasts without renewal; the holder renews it every
    third of this, so a replica that dies frees its runs after at most this long."""
    api_reaper_interval_s: float = Field(5.0, ge=0, le=3600)
    """How often each replica looks for runs whose holder died and resumes them (0: never;
    then only `POST /v1/threads/{id}/resume` continues them)."""
    api_events_ttl_s: int = Field(3600, ge=10)
    """How long a thread's event stream stays in Redis after its last event, for replay."""
    api_events_maxlen: int = Field(20_000, ge=100, le=10_000_000)
    """Events kept per thread at most (approximately; the oldest go first)."""

    # --- Capacity scaling (core/scaling) -------------------------------------------------------
    scaling_enabled: bool = False
    """Run the scaling loop: one decision per `scaling_interval_s` across replicas, published
    as `refinery_scaling_desired_instances{group}` and `GET /v1/scaling`."""
    scaling_group: str = Field("local", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    """The endpoint group scaled: `local` (the embedded model) or a remote one's name."""
    scaling_predictive: bool = True
    """Plan for the demand forecast over the lead time as well as for the observed load."""
    scaling_local_instances: bool = False
    """Start and drain embedded model servers on this machine to follow the decision (group
    `local`); off: the decision is only published, for an external autoscaler."""
    scaling_interval_s: float = Field(15.0, gt=0, le=3600)
    scaling_policy: dict[str, float | int | None] = Field(default_factory=dict)
    """`core.scaling.scaler.ScalingPolicy` fields as JSON, e.g. `{"max_instances": 3,
    "startup_s": 40, "target_latency_s": 60}`; unset fields keep their defaults."""
    scaling_forecast_bucket_s: int = Field(300, ge=60, le=3600)
    """Width of the demand series' buckets (a multiple of `timeline_bucket_s`). A seasonal
    forecast needs two days of history: keep `timeline_retention_s` above that."""
    scaling_forecast_refit_s: float = Field(1800.0, ge=60)
    scaling_memory_reserve_mb: int = Field(1024, ge=0)
    """Memory left free when local instances start: one starts only if the rest holds it."""

    @field_validator("scaling_policy")
    @classmethod
    def _valid_policy(cls, value: dict[str, float | int | None]) -> dict[str, float | int | None]:
        from core.scaling.scaler import ScalingPolicy

        ScalingPolicy.model_validate(value)
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
