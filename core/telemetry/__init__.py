"""Monitoring: Prometheus metrics, structured logs, tracing, node timing, anomaly and drift
detection, time buckets of counters, and alerts.

The request path talks to one `Telemetry` object (`service.py`); the other modules are its parts.
Names are imported on first use, so a worker that only needs `metrics` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "alerts": ("Alert", "AlertManager"),
    "callbacks": ("NodeTimer",),
    "logs": ("configure_logging", "log_context"),
    "service": ("ObservedRun", "Telemetry", "get_telemetry", "request_type"),
    "tracing": ("configure_tracing", "tracing_enabled"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
