"""LangSmith tracing, on only when both its key and `LANGSMITH_TRACING` are set; otherwise it is
switched off explicitly, so no tracer ever opens a connection."""

from __future__ import annotations

import langsmith
from langsmith import run_trees

from core.settings import Settings, get_settings

__all__ = ["configure_tracing", "tracing_enabled"]


def tracing_enabled(settings: Settings | None = None) -> bool:
    """Whether this deployment traces to LangSmith: the key and the switch, both."""
    settings = settings or get_settings()
    return bool(settings.langsmith_tracing and settings.langsmith_api_key)


def configure_tracing(settings: Settings | None = None) -> bool:
    """Set LangSmith's process-wide switch from the settings; returns whether tracing is on.

    Off, it overrides any tracing variable in the environment (a switch without a key would
    otherwise make LangChain try to send runs). On, the settings' key and project are used.
    """
    settings = settings or get_settings()
    if not tracing_enabled(settings):
        langsmith.configure(enabled=False)
        return False
    assert settings.langsmith_api_key is not None
    # LangChain's tracer takes the cached client; creating it first makes it carry our key.
    client = run_trees.get_cached_client(api_key=settings.langsmith_api_key.get_secret_value())
    langsmith.configure(enabled=True, client=client, project_name=settings.langsmith_project)
    return True
