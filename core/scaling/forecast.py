"""Demand forecasts from a request-rate series (requests per second per bucket, oldest first).

Holt-Winters exponential smoothing (statsmodels' `ExponentialSmoothing`: additive damped trend,
additive season of one day) once the history holds `min_seasons` full seasons; before that, the
recent rate (the mean of the last few buckets), carried flat. Holt-Winters because request
traffic is one level and one strong daily cycle: three smoothing weights fitted by statsmodels
in a fraction of a second on days of five-minute buckets, where a seasonal ARIMA with a
288-bucket season does not fit in reasonable time and Prophet brings a Stan toolchain along.
The trend is damped so that a busy morning is not extrapolated into the night.

Capacity is planned for the forecast's upper bound, not its mean (`upper_bound`): the forecast
plus the `upper_quantile` of its own measured under-forecasts (demand that arrived minus what
was forecast for it, over the last day of buckets), or of the fit's in-sample one-step errors
until an hour of buckets has been scored. A quantile of the signed errors, not a multiple of
the RMSE: only demand above the forecast costs requests, the errors of a seasonal fit are not
symmetric around a crowd's edges, and a quantile needs no assumption of normal errors. At 0.95
a five-minute bucket's mean demand exceeds the plan about one bucket in twenty if the errors
stay what they were; the scaler's `target_utilisation` headroom is for the other noise, the
bursts of arrivals within a bucket around its mean.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "Forecast",
    "ForecastConfig",
    "ForecastError",
    "fit_forecast",
    "margin",
    "resample",
    "upper_bound",
]

Method = Literal["holt_winters", "recent_rate"]


@dataclass(frozen=True)
class ForecastConfig:
    """How demand is forecast."""

    bucket_s: float = 300.0
    """Width of one forecast bucket (the timeline's minute buckets are summed into these)."""
    season_s: float = 86_400.0
    """Length of the season (a day)."""
    min_seasons: int = 2
    """Full seasons of history Holt-Winters needs; with less, the recent rate is used."""
    recent_buckets: int = 3
    """Buckets the recent-rate fallback averages."""
    upper_quantile: float | None = 0.95
    """Quantile of the forecast's under-forecasts added to it to plan capacity (None: plan for
    the forecast itself)."""
    error_window_s: float = 86_400.0
    """How far back the measured errors are read for that quantile (old errors fade)."""
    min_scored_s: float = 3_600.0
    """Scored buckets needed before the measured errors replace the fit's in-sample ones."""

    @property
    def season_buckets(self) -> int:
        return max(2, round(self.season_s / self.bucket_s))

    @property
    def error_buckets(self) -> int:
        """Buckets in `error_window_s`."""
        return max(1, round(self.error_window_s / self.bucket_s))


@dataclass(frozen=True)
class Forecast:
    """Rates (requests/s) for consecutive buckets from `start` on, and how they were made."""

    method: Method
    start: float
    """Time (s) at which the first forecast bucket begins (the end of the history)."""
    bucket_s: float
    rates: tuple[float, ...]
    fit_errors: tuple[float, ...] = ()
    """The fit's in-sample one-step errors (actual minus fitted, requests/s) over the last
    `error_window_s`: the error to plan with before any forecast has been scored."""

    def rate_at(self, at: float) -> float:
        """The forecast rate at time `at` (the last bucket's beyond the horizon)."""
        if not self.rates:
            return 0.0
        index = int((at - self.start) // self.bucket_s)
        return self.rates[min(max(index, 0), len(self.rates) - 1)]

    def peak(self, start: float, end: float) -> float:
        """The highest forecast rate over the buckets that overlap [start, end]."""
        if not self.rates:
            return 0.0
        last = len(self.rates) - 1
        first = min(max(int((start - self.start) // self.bucket_s), 0), last)
        final = min(max(math.ceil((end - self.start) / self.bucket_s) - 1, first), last)
        return max(self.rates[first : final + 1])


def resample(counts: Sequence[float], from_s: float, to_s: float) -> list[float]:
    """Counts per `from_s` bucket summed into `to_s` buckets and turned into rates (per second);
    a partial group at the start is dropped so that the last bucket ends with the series."""
    group = max(1, round(to_s / from_s))
    usable = len(counts) - len(counts) % group
    tail = np.asarray(counts[len(counts) - usable :], dtype=float)
    if not usable:
        return []
    return list(tail.reshape(-1, group).sum(axis=1) / (group * from_s))


def fit_forecast(
    history: Sequence[float], end: float, config: ForecastConfig, horizon_buckets: int
) -> Forecast:
    """Forecast `horizon_buckets` buckets after `end` from `history` (rates per bucket of
    `config.bucket_s`, oldest first, the last one ending at `end`)."""
    horizon = max(1, horizon_buckets)
    season = config.season_buckets
    y = np.clip(np.asarray(history, dtype=float), 0.0, None)
    if len(y) >= config.min_seasons * season and float(y.max(initial=0.0)) > 0:
        fitted = _holt_winters(y, season, horizon)
        if fitted is not None:
            rates, errors = fitted
            window = config.error_buckets
            return Forecast("holt_winters", end, config.bucket_s, rates, errors[-window:])
    recent = y[-config.recent_buckets :]
    level = float(recent.mean()) if len(recent) else 0.0
    return Forecast("recent_rate", end, config.bucket_s, (level,) * horizon)


def _holt_winters(
    y: np.ndarray, season: int, horizon: int
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(
        y,
        trend="add",
        damped_trend=True,
        seasonal="add",
        seasonal_periods=season,
        initialization_method="heuristic",
    )
    with warnings.catch_warnings():
        # ConvergenceWarning on flat stretches: the fit is still usable, and checked below
        warnings.simplefilter("ignore")
        fitted = model.fit()
    rates = np.clip(np.asarray(fitted.forecast(horizon), dtype=float), 0.0, None)
    errors = np.asarray(y - fitted.fittedvalues, dtype=float)
    if not np.all(np.isfinite(rates)) or not np.all(np.isfinite(errors)):
        return None
    return tuple(float(r) for r in rates), tuple(float(e) for e in errors)


@dataclass
class ForecastError:
    """The error of forecasts against the rates that then arrived: each actual bucket is
    compared with the forecast that was current before it began."""

    abs_error: float = 0.0
    actual: float = 0.0
    squared: float = 0.0
    buckets: int = 0
    window: int = 288
    """Signed errors kept for `quantile` (`ForecastConfig.error_buckets`; here a day of
    five-minute buckets)."""
    recent: deque[float] = field(default_factory=deque)
    """The last `window` signed errors, actual minus forecast (requests/s), oldest first."""
    _pending: dict[float, float] = field(default_factory=dict)

    def expect(self, forecast: Forecast) -> None:
        """Remember what `forecast` says of the buckets it covers (newer forecasts win)."""
        for i, rate in enumerate(forecast.rates):
            self._pending[forecast.start + i * forecast.bucket_s] = rate

    def observe(self, start: float, actual: float) -> None:
        """The rate that arrived in the bucket beginning at `start`."""
        predicted = self._pending.pop(start, None)
        for stale in [t for t in self._pending if t < start]:
            del self._pending[stale]
        if predicted is None:
            return
        self.abs_error += abs(predicted - actual)
        self.squared += (predicted - actual) ** 2
        self.actual += actual
        self.buckets += 1
        self.recent.append(actual - predicted)
        while len(self.recent) > self.window:
            self.recent.popleft()

    def quantile(self, q: float) -> float | None:
        """The `q` quantile of the recent signed errors (None before any was scored)."""
        return float(np.quantile(self.recent, q)) if self.recent else None

    @property
    def mae(self) -> float | None:
        """Mean absolute error (requests/s)."""
        return self.abs_error / self.buckets if self.buckets else None

    @property
    def wape(self) -> float | None:
        """Weighted absolute percentage error: total absolute error over total demand (robust
        where a bucket's demand is near zero, unlike a mean of percentages)."""
        return self.abs_error / self.actual if self.actual > 0 else None

    @property
    def rmse(self) -> float | None:
        """Root mean squared error (requests/s)."""
        return math.sqrt(self.squared / self.buckets) if self.buckets else None


def margin(forecast: Forecast, error: ForecastError | None, config: ForecastConfig) -> float:
    """What is added to `forecast` to plan for its upper bound (requests/s, never negative):
    the `upper_quantile` of the measured errors once `min_scored_s` of buckets were scored,
    else of the fit's in-sample errors; 0 without a quantile or any error to read."""
    q = config.upper_quantile
    if q is None:
        return 0.0
    scored = error.quantile(q) if error is not None else None
    if error is not None and len(error.recent) * config.bucket_s < config.min_scored_s:
        scored = None
    if scored is None and forecast.fit_errors:
        scored = float(np.quantile(forecast.fit_errors, q))
    return max(0.0, scored or 0.0)


def upper_bound(
    forecast: Forecast,
    error: ForecastError | None,
    config: ForecastConfig,
    start: float,
    end: float,
) -> float:
    """The rate to plan capacity for over [start, end]: the forecast's peak there plus its
    `margin`."""
    return forecast.peak(start, end) + margin(forecast, error, config)
