"""Monitoring: Prometheus metrics, structured logs, tracing, anomaly and drift detection,
alerts, user feedback, online A/B tests and adaptive admission.

The request path talks to one `Telemetry` object (`service.py`); the other modules are its parts.
Names are imported on first use, so a worker that only needs `metrics` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "admission": ("AdaptiveLimit", "AdmissionGate"),
    "alerts": ("Alert", "AlertManager"),
    "callbacks": ("NodeTimer",),
    "experiments": (
        "Experiment",
        "UnknownExperimentError",
        "Variant",
        "assign_variant",
        "enabled_experiments",
        "load_experiment",
    ),
    "feedback": ("FeedbackStore", "RunRecord", "UnknownRunError"),
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
