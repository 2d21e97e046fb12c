"""Demand forecasts: Holt-Winters on enough history, the recent rate before it, their error,
and the upper bound capacity is planned for."""

from __future__ import annotations

import numpy as np
import pytest

from core.scaling.forecast import (
    Forecast,
    ForecastConfig,
    ForecastError,
    fit_forecast,
    margin,
    resample,
    upper_bound,
)

CONFIG = ForecastConfig(bucket_s=300.0, season_s=86_400.0)
SEASON = CONFIG.season_buckets


def daily_rates(days: float, seed: int = 3) -> np.ndarray:
    t = np.arange(int(days * SEASON))
    rate = 2.2 - 1.8 * np.cos(2 * np.pi * (t / SEASON - 4 / 24))
    return np.random.default_rng(seed).poisson(rate * 300) / 300


def test_three_days_of_a_daily_cycle_forecast_the_next_day_within_five_percent() -> None:
    rates = daily_rates(4)
    history, truth = rates[: 3 * SEASON], rates[3 * SEASON :]
    forecast = fit_forecast(history, 0.0, CONFIG, SEASON)
    error = np.abs(np.array(forecast.rates) - truth).sum() / truth.sum()
    assert forecast.method == "holt_winters"
    assert error < 0.05


def test_two_hours_of_history_fall_back_to_the_mean_of_the_recent_buckets() -> None:
    history = [1.0] * 21 + [2.0, 3.0, 4.0]
    forecast = fit_forecast(history, 7200.0, CONFIG, 6)
    assert forecast.method == "recent_rate"
    assert forecast.rates == (3.0,) * 6


def test_no_history_forecasts_no_demand() -> None:
    assert fit_forecast([], 0.0, CONFIG, 2).rates == (0.0, 0.0)


def test_peak_reads_every_bucket_the_window_overlaps() -> None:
    forecast = Forecast("holt_winters", 1000.0, 300.0, (1.0, 5.0, 2.0, 9.0))
    assert forecast.peak(1000.0, 1300.0) == 1.0
    assert forecast.peak(1000.0, 1301.0) == 5.0
    assert forecast.peak(1650.0, 1700.0) == 2.0
    assert forecast.rate_at(99_999.0) == 9.0
    assert forecast.rate_at(0.0) == 1.0


def test_resample_sums_minute_counts_into_rates_and_drops_a_partial_first_group() -> None:
    assert resample([9, 60, 60, 60, 120, 120, 120], 60.0, 180.0) == [1.0, 2.0]


def test_forecast_error_compares_each_bucket_with_the_forecast_made_before_it() -> None:
    error = ForecastError()
    error.expect(Forecast("recent_rate", 0.0, 300.0, (2.0, 2.0)))
    error.observe(0.0, 1.0)
    error.expect(Forecast("recent_rate", 300.0, 300.0, (3.0,)))
    error.observe(300.0, 4.0)
    error.observe(600.0, 9.0)  # no forecast covered it: not counted
    assert error.buckets == 2
    assert error.mae == pytest.approx(1.0)
    assert error.wape == pytest.approx(2.0 / 5.0)


def test_the_upper_bound_adds_the_quantile_of_the_fit_s_errors_before_any_was_scored() -> None:
    errors = tuple(float(e) for e in range(-10, 11))  # -10 .. 10 req/s
    forecast = Forecast("holt_winters", 0.0, 300.0, (5.0, 7.0), errors)
    config = ForecastConfig(upper_quantile=0.95)
    assert upper_bound(forecast, ForecastError(), config, 0.0, 600.0) == pytest.approx(7.0 + 9.0)
    point = ForecastConfig(upper_quantile=None)
    assert upper_bound(forecast, ForecastError(), point, 0.0, 600.0) == 7.0


def test_an_hour_of_scored_buckets_replaces_the_fit_s_errors_with_the_measured_ones() -> None:
    forecast = Forecast("holt_winters", 0.0, 300.0, (2.0,) * 13, (5.0,) * 10)
    error = ForecastError()
    error.expect(forecast)
    config = ForecastConfig(upper_quantile=0.5)
    for i in range(11):  # 55 minutes: the fit's errors still count
        error.observe(i * 300.0, 2.5)
    assert margin(forecast, error, config) == 5.0
    error.observe(11 * 300.0, 2.5)
    assert margin(forecast, error, config) == pytest.approx(0.5)


def test_the_margin_reads_under_forecasts_only_and_forgets_beyond_its_window() -> None:
    forecast = Forecast("holt_winters", 0.0, 300.0, (4.0,) * 24)
    error = ForecastError(window=12)
    error.expect(forecast)
    config = ForecastConfig(upper_quantile=0.95)
    for i in range(12):  # a crowd the forecast missed: 3 req/s over it
        error.observe(i * 300.0, 7.0)
    assert margin(forecast, error, config) == pytest.approx(3.0)
    for i in range(12, 24):  # a day later, demand falls short of the forecast: no margin
        error.observe(i * 300.0, 1.0)
    assert list(error.recent) == [-3.0] * 12
    assert margin(forecast, error, config) == 0.0


def test_a_holt_winters_fit_keeps_its_last_day_of_in_sample_errors() -> None:
    rates = daily_rates(3)
    forecast = fit_forecast(rates, 0.0, CONFIG, 4)
    assert len(forecast.fit_errors) == SEASON
    # Poisson noise on a 300 s bucket at up to 4 req/s: its sd is at most 0.115 req/s
    assert 0.02 < margin(forecast, None, CONFIG) < 0.3
    assert fit_forecast([1.0] * 24, 0.0, CONFIG, 2).fit_errors == ()
