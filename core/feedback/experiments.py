"""Online A/B tests: experiments are data files (`core/experiments/NAME.json`) whose variants
are named run configurations with traffic shares; users stick to a variant by a hash of their
id; results per variant with significance tests and a minimum sample size before a verdict."""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import redis.asyncio as aredis
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats

from core.feedback.store import FeedbackStore
from core.settings import get_settings

__all__ = [
    "Experiment",
    "ExperimentResults",
    "ExperimentStore",
    "UnknownExperimentError",
    "Variant",
    "assign_variant",
    "compare_scores",
    "load_experiment",
    "two_proportion_test",
]

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"
SAMPLES_KEPT = 100_000
"""Per variant and metric; older samples are dropped."""

Verdict = Literal["insufficient data", "no significant difference", "better", "worse"]


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    config: str
    """The run configuration preset this variant runs."""
    share: float = Field(gt=0)
    """Relative traffic share (normalised over the variants)."""


class Experiment(BaseModel):
    """An A/B (or A/B/n) test; the first variant is the control."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    enabled: bool = True
    """Whether live traffic is assigned to it."""
    variants: list[Variant] = Field(min_length=2)
    min_samples: int = Field(100, ge=2)
    """Runs (and, for the ratings test, ratings) each variant needs before a verdict."""
    alpha: float = Field(0.05, gt=0, lt=1)
    """Significance level of each test, divided among the comparisons against the control."""

    @model_validator(mode="after")
    def _unique_names(self) -> Experiment:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names repeat: {names}")
        return self


class UnknownExperimentError(LookupError):
    pass


def _dirs() -> list[Path]:
    extra = get_settings().experiments_dir
    return [extra, EXPERIMENTS_DIR] if extra else [EXPERIMENTS_DIR]


def experiment_names() -> list[str]:
    return sorted({p.stem for d in _dirs() if d.is_dir() for p in d.glob("*.json")})


@lru_cache(maxsize=64)
def load_experiment(name: str) -> Experiment:
    """The experiment defined in `NAME.json`, validated."""
    for directory in _dirs():
        path = directory / f"{name}.json"
        if path.is_file():
            return Experiment.model_validate({"name": name, **json.loads(path.read_text())})
    raise UnknownExperimentError(name)


def enabled_experiments() -> list[Experiment]:
    return [e for e in map(load_experiment, experiment_names()) if e.enabled]


def assign_variant(experiment: Experiment, unit_id: str) -> Variant:
    """The variant of a user or session: the same id always gets the same variant."""
    digest = hashlib.sha256(f"{experiment.name}\0{unit_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    total = sum(v.share for v in experiment.variants)
    edge = 0.0
    for variant in experiment.variants:
        edge += variant.share / total
        if point < edge:
            return variant
    return experiment.variants[-1]


def compare_scores(control: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """Two-sided p-values of Mann-Whitney U and Welch's t-test, `other` against `control`."""
    if np.ptp(np.concatenate([control, other])) == 0:
        return 1.0, 1.0  # identical constants: no test has anything to say
    mann_whitney = stats.mannwhitneyu(other, control, alternative="two-sided")
    welch = stats.ttest_ind(other, control, equal_var=False)
    welch_p = float(welch.pvalue) if not math.isnan(welch.pvalue) else 1.0
    return float(mann_whitney.pvalue), welch_p


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """(z, two-sided p) of the pooled two-proportion z-test of x2/n2 against x1/n1."""
    if min(n1, n2) == 0:
        return 0.0, 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (x2 / n2 - x1 / n1) / se
    return z, float(2 * stats.norm.sf(abs(z)))


class VariantStats(BaseModel):
    name: str
    config: str
    runs: int
    errors: int
    score_mean: float | None
    score_median: float | None
    latency_p50_s: float | None
    latency_mean_s: float | None
    tokens_mean: float | None
    ratings_up: int
    ratings_down: int
    positive_rate: float | None
    signals: dict[str, int]


class Comparison(BaseModel):
    """One variant against the control."""

    variant: str
    control: str
    score_diff: float | None
    """Mean score of the variant minus the control's."""
    mann_whitney_p: float | None
    welch_p: float | None
    verdict: Verdict
    positive_rate_diff: float | None
    ratings_p: float | None
    ratings_verdict: Verdict


class ExperimentResults(BaseModel):
    experiment: str
    description: str
    enabled: bool
    min_samples: int
    alpha: float
    """The per-comparison level actually used (Bonferroni over the comparisons)."""
    variants: list[VariantStats]
    comparisons: list[Comparison]


class _Samples(BaseModel):
    scores: np.ndarray
    latencies: np.ndarray
    tokens: np.ndarray
    runs: int
    errors: int
    counts: dict[str, int]

    model_config = ConfigDict(arbitrary_types_allowed=True)


class ExperimentStore:
    """Per-variant samples in Redis, and the experiment's results computed from them."""

    def __init__(self, redis: aredis.Redis, prefix: str, feedback: FeedbackStore) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:experiments"
        self.feedback = feedback

    def _key(self, experiment: str, variant: str, what: str) -> str:
        return f"{self.prefix}:{experiment}:{variant}:{what}"

    async def record(
        self,
        experiment: str,
        variant: str,
        *,
        score: float | None,
        latency_s: float,
        tokens: int,
        error: bool,
    ) -> None:
        """One finished run of `variant` (a failed run counts as an error, not as a score)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(self._key(experiment, variant, "n"), "errors" if error else "runs", 1)
            if not error:
                values = {"score": score, "latency": latency_s, "tokens": tokens}
                for what, value in values.items():
                    if value is not None:
                        pipe.lpush(self._key(experiment, variant, what), repr(float(value)))
                        pipe.ltrim(self._key(experiment, variant, what), 0, SAMPLES_KEPT - 1)
            await pipe.execute()

    async def clear(self, experiment: Experiment) -> None:
        keys = [
            self._key(experiment.name, v.name, what)
            for v in experiment.variants
            for what in ("n", "score", "latency", "tokens")
        ]
        await self.redis.delete(*keys)

    async def _samples(self, experiment: str, variant: str) -> _Samples:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key(experiment, variant, "n"))
            for what in ("score", "latency", "tokens"):
                pipe.lrange(self._key(experiment, variant, what), 0, -1)
            counts, scores, latencies, tokens = await pipe.execute()
        counts = {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in counts.items()}
        return _Samples(
            scores=_array(scores),
            latencies=_array(latencies),
            tokens=_array(tokens),
            runs=counts.get("runs", 0),
            errors=counts.get("errors", 0),
            counts=await self.feedback.variant_counts(experiment, variant),
        )

    async def results(self, experiment: Experiment) -> ExperimentResults:
        """Per-variant figures and each variant's comparison against the control."""
        samples = {
            v.name: await self._samples(experiment.name, v.name) for v in experiment.variants
        }
        alpha = experiment.alpha / (len(experiment.variants) - 1)
        control = experiment.variants[0]
        comparisons = [
            _compare(experiment, control.name, v.name, samples, alpha)
            for v in experiment.variants[1:]
        ]
        return ExperimentResults(
            experiment=experiment.name,
            description=experiment.description,
            enabled=experiment.enabled,
            min_samples=experiment.min_samples,
            alpha=alpha,
            variants=[_stats(v, samples[v.name]) for v in experiment.variants],
            comparisons=comparisons,
        )


def _array(values: list[bytes]) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=float)


def _mean(values: np.ndarray) -> float | None:
    return round(float(values.mean()), 4) if len(values) else None


def _stats(variant: Variant, s: _Samples) -> VariantStats:
    up, down = s.counts.get("up", 0), s.counts.get("down", 0)
    return VariantStats(
        name=variant.name,
        config=variant.config,
        runs=s.runs,
        errors=s.errors,
        score_mean=_mean(s.scores),
        score_median=round(float(np.median(s.scores)), 4) if len(s.scores) else None,
        latency_p50_s=round(float(np.median(s.latencies)), 4) if len(s.latencies) else None,
        latency_mean_s=_mean(s.latencies),
        tokens_mean=_mean(s.tokens),
        ratings_up=up,
        ratings_down=down,
        positive_rate=round(up / (up + down), 4) if up + down else None,
        signals={k: v for k, v in s.counts.items() if k not in ("up", "down")},
    )


def _verdict(enough: bool, p: float | None, diff: float | None, alpha: float) -> Verdict:
    if not enough or p is None or diff is None:
        return "insufficient data"
    if p >= alpha:
        return "no significant difference"
    return "better" if diff > 0 else "worse"


def _compare(
    experiment: Experiment, control: str, name: str, samples: dict[str, _Samples], alpha: float
) -> Comparison:
    a, b = samples[control], samples[name]
    enough = min(len(a.scores), len(b.scores)) >= experiment.min_samples
    mw_p = welch_p = diff = None
    if min(len(a.scores), len(b.scores)) >= 2:
        mw_p, welch_p = compare_scores(a.scores, b.scores)
        diff = round(float(b.scores.mean() - a.scores.mean()), 4)
    up_a, n_a = a.counts.get("up", 0), a.counts.get("up", 0) + a.counts.get("down", 0)
    up_b, n_b = b.counts.get("up", 0), b.counts.get("up", 0) + b.counts.get("down", 0)
    ratings_p = rate_diff = None
    if n_a and n_b:
        _, ratings_p = two_proportion_test(up_a, n_a, up_b, n_b)
        rate_diff = round(up_b / n_b - up_a / n_a, 4)
    return Comparison(
        variant=name,
        control=control,
        score_diff=diff,
        mann_whitney_p=mw_p,
        welch_p=welch_p,
        verdict=_verdict(enough, mw_p, diff, alpha),
        positive_rate_diff=rate_diff,
        ratings_p=ratings_p,
        ratings_verdict=_verdict(
            min(n_a, n_b) >= experiment.min_samples, ratings_p, rate_diff, alpha
        ),
    )
