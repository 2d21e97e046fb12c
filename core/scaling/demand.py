"""Demand per request type, read from the telemetry timeline in Redis (the `runs:<type>`
counters every replica adds to its minute buckets), forecast on a schedule, with the error of
the forecasts made so far; both are exported as metrics."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence

from core.scaling.forecast import (
    Forecast,
    ForecastConfig,
    ForecastError,
    fit_forecast,
    margin,
    resample,
    upper_bound,
)
from core.scaling.metrics import FORECAST, FORECAST_ERROR
from core.telemetry.timeline import Timeline

__all__ = ["REQUEST_TYPES", "DemandForecaster"]

REQUEST_TYPES = ("open", "constrained", "grounded")
"""The request types the telemetry counts (`core.telemetry.service.request_type`)."""


class DemandForecaster:
    """Forecasts of each request type's rate, refitted every `refit_s` from the last
    `history_s` of the timeline."""

    def __init__(
        self,
        timeline: Timeline,
        config: ForecastConfig,
        refit_s: float,
        history_s: float,
        horizon_s: float,
        request_types: Sequence[str] = REQUEST_TYPES,
    ) -> None:
        self.timeline = timeline
        self.config = config
        self.refit_s = refit_s
        self.history_s = history_s
        self.horizon_s = horizon_s
        self.request_types = tuple(request_types)
        self.forecasts: dict[str, Forecast] = {}
        self.errors: dict[str, ForecastError] = {
            t: ForecastError(window=config.error_buckets) for t in self.request_types
        }
        self.fitted_at: float | None = None

    async def refresh(self, now: float | None = None) -> dict[str, Forecast]:
        """Refit if `refit_s` has passed since the last fit (or none was made)."""
        now = time.time() if now is None else now
        if self.fitted_at is not None and now - self.fitted_at < self.refit_s:
            return self.forecasts
        end = math.floor(now / self.config.bucket_s) * self.config.bucket_s
        rows = await self.timeline.series(self.history_s, now)
        width = float(self.timeline.width)
        done = [row for start, row in rows if start + width <= end]
        while done and not done[0]:  # before the telemetry recorded anything: no history
            done.pop(0)
        horizon = math.ceil((self.refit_s + self.horizon_s) / self.config.bucket_s) + 1
        for rtype in self.request_types:
            counts = [row.get(f"runs:{rtype}", 0.0) for row in done]
            rates = resample(counts, width, self.config.bucket_s)
            self._score(rtype, rates, end)
            # statsmodels' fit takes a fraction of a second on days of buckets: off the loop
            forecast = await asyncio.to_thread(fit_forecast, rates, end, self.config, horizon)
            self.forecasts[rtype] = forecast
            self.errors[rtype].expect(forecast)
        self.fitted_at = now
        return self.forecasts

    def _score(self, rtype: str, rates: list[float], end: float) -> None:
        """Compare the buckets that have arrived with what was forecast for them."""
        error = self.errors[rtype]
        first = end - len(rates) * self.config.bucket_s
        for i, rate in enumerate(rates):
            error.observe(first + i * self.config.bucket_s, rate)
        if error.wape is not None:
            FORECAST_ERROR.labels(rtype, "wape").set(error.wape)
        if error.mae is not None:
            FORECAST_ERROR.labels(rtype, "mae").set(error.mae)
        if error.rmse is not None:
            FORECAST_ERROR.labels(rtype, "rmse").set(error.rmse)

    def planned_rate(self, now: float, lead_s: float) -> float | None:
        """The total rate to plan for over [now, now + lead_s]: each request type's forecast
        peak plus its margin (`forecast.upper_bound`), summed; None while no type has the
        history for a seasonal forecast (the recent rate says nothing the observed load does not
        already say). Summing the types' margins plans as if their errors came together: never
        less than the quantile of the total's error."""
        if not any(f.method == "holt_winters" for f in self.forecasts.values()):
            return None
        total = 0.0
        for rtype, forecast in self.forecasts.items():
            FORECAST.labels(rtype).set(forecast.peak(now, now + lead_s))
            FORECAST_ERROR.labels(rtype, "margin").set(self.upper_margin(rtype))
            total += upper_bound(forecast, self.errors[rtype], self.config, now, now + lead_s)
        return total

    def upper_margin(self, rtype: str) -> float:
        """What is added to `rtype`'s forecast to plan for its upper bound (requests/s)."""
        return margin(self.forecasts[rtype], self.errors[rtype], self.config)

    def status(self) -> dict[str, dict[str, float | str | None]]:
        """Each type's method and forecast error, for `GET /v1/scaling`."""
        return {
            rtype: {
                "method": forecast.method,
                "wape": self.errors[rtype].wape,
                "mae": self.errors[rtype].mae,
                "rmse": self.errors[rtype].rmse,
                "margin": self.upper_margin(rtype),
            }
            for rtype, forecast in self.forecasts.items()
        }
