"""Drift: the recent distribution of scores, confidence, answer length and iterations against a
baseline window (population stability index and `scipy.stats.ks_2samp`), kept in Redis so every
replica feeds and reads the same windows; a drop of the mean score flags "review or retrain"."""

from __future__ import annotations

import math

import numpy as np
import redis.asyncio as aredis
from pydantic import BaseModel
from scipy import stats

from core.settings import Settings, get_settings

__all__ = ["DRIFT_METRICS", "DriftMonitor", "DriftReport", "MetricDrift", "psi"]

DRIFT_METRICS = ("score", "confidence", "answer_length", "iterations")

# Fill the baseline window first; once it is full, every value goes to the capped recent window.
_RECORD = """
if redis.call('LLEN', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('RPUSH', KEYS[1], ARGV[1])
  return 0
end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
"""


def psi(baseline: np.ndarray, recent: np.ndarray, bins: int = 10) -> float:
    """Population stability index of `recent` against `baseline`: quantile bins of the baseline
    (or one bin per value when there are few distinct values, as for iterations)."""
    values = np.unique(np.concatenate([baseline, recent]))
    if len(values) <= bins:
        edges = np.concatenate([[-np.inf], (values[:-1] + values[1:]) / 2, [np.inf]])
    else:
        inner = np.unique(np.quantile(baseline, np.linspace(0, 1, bins + 1))[1:-1])
        edges = np.concatenate([[-np.inf], inner, [np.inf]])
    expected = np.histogram(baseline, edges)[0] / len(baseline)
    actual = np.histogram(recent, edges)[0] / len(recent)
    expected = np.clip(expected, 1e-4, None)
    actual = np.clip(actual, 1e-4, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


class MetricDrift(BaseModel):
    """One metric's recent window against its baseline."""

    metric: str
    baseline_n: int
    recent_n: int
    baseline_mean: float
    recent_mean: float
    psi: float
    ks_statistic: float
    ks_pvalue: float
    drifted: bool


class DriftReport(BaseModel):
    metrics: list[MetricDrift]
    quality_drop: float | None = None
    """Relative drop of the mean score, recent against baseline (0.07 = 7% lower)."""
    review_or_retrain: bool = False


def compare(
    metric: str, baseline: np.ndarray, recent: np.ndarray, settings: Settings
) -> MetricDrift:
    """PSI and a two-sample KS test of `recent` against `baseline`."""
    index = psi(baseline, recent)
    ks = stats.ks_2samp(baseline, recent)
    pvalue = float(ks.pvalue)
    return MetricDrift(
        metric=metric,
        baseline_n=len(baseline),
        recent_n=len(recent),
        baseline_mean=round(float(baseline.mean()), 4),
        recent_mean=round(float(recent.mean()), 4),
        psi=round(index, 4),
        ks_statistic=round(float(ks.statistic), 4),
        ks_pvalue=pvalue,
        drifted=index > settings.drift_psi_threshold or pvalue < settings.drift_ks_alpha,
    )


class DriftMonitor:
    """Feeds and compares the windows of `DRIFT_METRICS` in Redis."""

    def __init__(self, redis: aredis.Redis, prefix: str, settings: Settings | None = None) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:drift"
        self.settings = settings or get_settings()
        self._record = redis.register_script(_RECORD)

    def _keys(self, metric: str) -> tuple[str, str]:
        return f"{self.prefix}:{metric}:baseline", f"{self.prefix}:{metric}:recent"

    async def record(self, samples: dict[str, float]) -> None:
        """Add one run's values (any of `DRIFT_METRICS`; None and NaN are skipped)."""
        s = self.settings
        async with self.redis.pipeline(transaction=False) as pipe:
            for metric, value in samples.items():
                if value is None or math.isnan(value):
                    continue
                args = [repr(float(value)), s.drift_baseline_size, s.drift_recent_size]
                await self._record(keys=list(self._keys(metric)), args=args, client=pipe)
            await pipe.execute()

    async def windows(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        baseline_key, recent_key = self._keys(metric)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.lrange(baseline_key, 0, -1)
            pipe.lrange(recent_key, 0, -1)
            baseline, recent = await pipe.execute()
        return (np.array([float(v) for v in baseline]), np.array([float(v) for v in recent]))

    async def check(self) -> DriftReport:
        """Compare every metric that has enough values in both windows."""
        report = DriftReport(metrics=[])
        for metric in DRIFT_METRICS:
            baseline, recent = await self.windows(metric)
            if min(len(baseline), len(recent)) < self.settings.drift_min_samples:
                continue
            result = compare(metric, baseline, recent, self.settings)
            report.metrics.append(result)
            if metric == "score" and baseline.mean() > 0:
                drop = float((baseline.mean() - recent.mean()) / baseline.mean())
                report.quality_drop = round(drop, 4)
                report.review_or_retrain = drop >= self.settings.drift_quality_drop
        return report

    async def reset_baseline(self) -> None:
        """Forget both windows (after a review or a retrain): the next runs form a new baseline."""
        keys = [key for metric in DRIFT_METRICS for key in self._keys(metric)]
        await self.redis.delete(*keys)
