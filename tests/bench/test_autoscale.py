"""The replay bench's business-day trace and its predictive replay: the morning ramp it claims,
and the margin over the forecast that the upper bound plans with."""

from __future__ import annotations

import numpy as np

from bench.autoscale import DAY, Conditions, Replay, business, policy_for


def test_the_business_day_triples_within_twenty_minutes_at_nine() -> None:
    at = np.array([9 * 3600.0, 9 * 3600.0 + 20 * 60, 12.5 * 3600, 3 * 3600.0]) + 2 * DAY
    assert list(business(at)) == [1.2, 3.6, 2.8, 0.5]


def test_a_predictive_replay_plans_for_the_forecast_plus_its_margin() -> None:
    c = Conditions(history_days=2, refit_s=3 * 3600.0)
    rng = np.random.default_rng(1)
    counts = rng.poisson(np.tile(business(np.arange(0, DAY, c.bucket_s)), 2) * c.bucket_s)
    history = list(counts / c.bucket_s)
    # the first two hours of the measured day (the replay stops once the events run out)
    times = np.sort(rng.uniform(0, 7200, 3600))
    service = np.full(times.size, 8.0)
    upper = Replay(c, times, service, history, policy_for(c), "predictive")
    upper.run()
    point = Replay(c, times, service, history, policy_for(c), "predictive", upper_quantile=None)
    point.run()
    assert upper.methods == {"holt_winters"}
    # the first hour plans with the fit's errors: Poisson noise of up to 0.11 req/s per bucket
    assert all(0.05 < m < 0.5 for m in upper.margins[:240])
    assert point.margins and set(point.margins) == {0.0}
    assert upper.result.instance_s > point.result.instance_s
