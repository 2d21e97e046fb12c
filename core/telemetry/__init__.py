"""Monitoring: Prometheus metrics, structured logs, tracing, anomaly and drift detection,
alerts, user feedback, online A/B tests and adaptive admission.

The request path talks to one `Telemetry` object (`service.py`); the other modules are its parts.
"""

from core.telemetry.admission import AdaptiveLimit, AdmissionGate
from core.telemetry.alerts import Alert, AlertManager
from core.telemetry.callbacks import NodeTimer
from core.telemetry.experiments import (
    Experiment,
    UnknownExperimentError,
    Variant,
    assign_variant,
    enabled_experiments,
    load_experiment,
)
from core.telemetry.feedback import FeedbackStore, RunRecord, UnknownRunError
from core.telemetry.logs import configure_logging, log_context
from core.telemetry.service import RunOutcome, Telemetry, get_telemetry, request_type
from core.telemetry.tracing import configure_tracing, tracing_enabled

__all__ = [
    "AdaptiveLimit",
    "AdmissionGate",
    "Alert",
    "AlertManager",
    "Experiment",
    "FeedbackStore",
    "NodeTimer",
    "RunOutcome",
    "RunRecord",
    "Telemetry",
    "UnknownExperimentError",
    "UnknownRunError",
    "Variant",
    "assign_variant",
    "configure_logging",
    "configure_tracing",
    "enabled_experiments",
    "get_telemetry",
    "load_experiment",
    "log_context",
    "request_type",
    "tracing_enabled",
]
