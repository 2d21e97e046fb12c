"""Model-layer settings for tests: set `REFINERY_*` values, rebuild the model factory, zero the
counters; undone at teardown."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.llm.factory import reset_models
from core.llm.stats import llm_stats
from core.settings import Settings, get_settings

Configure = Callable[..., Settings]


def _reload() -> None:
    get_settings.cache_clear()
    reset_models()
    llm_stats().reset()


@pytest.fixture
def llm_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """`configure(openai_base_url=..., llm_max_retries=2, ...)` -> the fresh settings."""
    for name in ("REFINERY_OPENAI_BASE_URL", "OPENAI_BASE_URL", "REFINERY_LLM_ENDPOINTS"):
        monkeypatch.delenv(name, raising=False)

    def configure(**values: Any) -> Settings:
        for key, value in values.items():
            text = value if isinstance(value, str) else json.dumps(value)
            monkeypatch.setenv(f"REFINERY_{key.upper()}", text)
        _reload()
        return get_settings()

    yield configure
    _reload()


def serve_fake(configure: Configure, responder: Any) -> Iterator[Any]:
    """A stand-in model answering with `responder`, the settings pointed at it with the cache
    off, for a fixture to `yield from`; stopped afterwards."""
    from testkit.fake_openai import FakeOpenAI

    server = FakeOpenAI(responder=responder).serve()
    configure(openai_base_url=server.base_url, llm_cache=False)
    yield server
    server.stop()
