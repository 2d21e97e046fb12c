"""The scaling metrics: desired and running instances per endpoint group (what an external
autoscaler and the dashboards read), the demand forecast and its error per request type."""

from __future__ import annotations

# from the engine's metrics module: it sets the multiprocess folder before the client loads
from core.telemetry.metrics import Gauge

__all__ = ["DESIRED", "FORECAST", "FORECAST_ERROR", "INSTANCES"]

DESIRED = Gauge(
    "refinery_scaling_desired_instances",
    "Model instances the scaler wants in an endpoint group (one decision across replicas).",
    ["group"],
    multiprocess_mode="max",
)
INSTANCES = Gauge(
    "refinery_scaling_instances",
    "Model instances this process runs for a group, by state (starting, serving, draining).",
    ["group", "state"],
    multiprocess_mode="livesum",
)
FORECAST = Gauge(
    "refinery_demand_forecast_rps",
    "Forecast demand (requests/s): the highest rate over the next lead time, by request type.",
    ["request_type"],
    multiprocess_mode="max",
)
FORECAST_ERROR = Gauge(
    "refinery_demand_forecast_error",
    "Error of past forecasts against the demand that arrived: wape (share of demand), mae and "
    "rmse (requests/s), and margin: the quantile of the under-forecasts added to the forecast "
    "to plan capacity (requests/s).",
    ["request_type", "measure"],
    multiprocess_mode="max",
)
