"""Process-wide settings, read once from the environment (and `.env`).

Everything a deployment can vary lives here; no other module reads environment variables.
Per-run knobs (models per role, thresholds, budgets) live in `core.run_config` instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the package is installed in editable mode from it)."""


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
    llm_timeout_s: float = Field(120.0, gt=0)
    """Per-call timeout of a model request."""
    llm_max_retries: int = Field(3, ge=0, le=20)
    """Retries of a failed model call (exponential backoff with jitter)."""
    llm_retry_initial_s: float = Field(0.5, ge=0)
    llm_retry_max_s: float = Field(8.0, ge=0)

    # --- Embedded local model --------------------------------------------------------------------
    model_path: Path | None = None
    """A GGUF file to serve locally instead of the packaged default model."""
    local_threads: int | None = Field(None, ge=1)
    """Threads of the local model server; unset means every core."""
    local_context: int = Field(4096, ge=512)
    """Context window (tokens) of the local model server, shared by its parallel slots."""
    local_parallel: int = Field(1, ge=1, le=16)
    """Concurrent request slots of the local model server."""
    local_port: int | None = Field(None, ge=1, le=65535)
    """Fixed port of the local model server; unset picks a free loopback port."""

    # --- Service ---------------------------------------------------------------------------------
    log_level: str = "INFO"
    log_excerpt_chars: int = Field(80, ge=0, le=10_000)
    """How much request text (tasks, documents) may appear in logs."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
