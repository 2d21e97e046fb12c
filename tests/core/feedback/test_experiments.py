"""Online A/B tests on synthetic traffic: sticky hashed assignment, a known effect that reaches
significance (scores and ratings), an A/A test that does not, and no verdict below the
minimum sample size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from core.feedback.experiments import (
    assign_variant,
    compare_scores,
    load_experiment,
    two_proportion_test,
)
from core.settings import get_settings
from tests.core.conftest import MakeTelemetry

USERS = 600


@pytest.fixture
def experiments_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Experiment definitions as data files in a temp folder."""
    for name, configs in {
        "ab": ("refine_default", "refine_strict"),
        "aa": ("refine_default", "refine_default"),
    }.items():
        (tmp_path / f"{name}.json").write_text(
            json.dumps(
                {
                    "variants": [
                        {"name": "control", "config": configs[0], "share": 1},
                        {"name": "treatment", "config": configs[1], "share": 1},
                    ],
                    "min_samples": 100,
                }
            )
        )
    monkeypatch.setenv("REFINERY_EXPERIMENTS_DIR", str(tmp_path))
    get_settings.cache_clear()
    load_experiment.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    get_settings.cache_clear()
    load_experiment.cache_clear()


def test_assignment_is_sticky_and_follows_the_shares(experiments_dir: Path) -> None:
    experiment = load_experiment("ab")
    first = [assign_variant(experiment, f"user-{i}").name for i in range(4000)]
    again = [assign_variant(experiment, f"user-{i}").name for i in range(4000)]
    assert first == again
    treated = first.count("treatment")
    assert stats.binomtest(treated, 4000, 0.5).pvalue > 0.001  # a fair 50/50 split
    skewed = experiment.model_copy(
        update={
            "variants": [
                v.model_copy(update={"share": s})
                for v, s in zip(experiment.variants, (9, 1), strict=True)
            ]
        }
    )
    share = sum(assign_variant(skewed, f"u{i}").name == "treatment" for i in range(4000)) / 4000
    assert 0.07 < share < 0.13


async def _traffic(telemetry, name: str, effect: float, rating_effect: float, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Synthetic users: scores ~ N(0.80, 0.08) (+effect on treatment), thumbs up with 60%
    (+rating_effect); each run is observed, remembered and rated like live traffic."""
    rng = np.random.default_rng(seed)
    experiment = load_experiment(name)
    for user in range(USERS):
        variant = assign_variant(experiment, f"user-{user}").name
        lift = variant == "treatment"
        score = float(np.clip(rng.normal(0.80 + effect * lift, 0.08), 0, 1))
        run = {
            "thread_id": f"{name}-{user}",
            "answer": "an answer",
            "score": score,
            "iterations": 2,
            "wall_s": float(rng.uniform(1, 2)),
            "usage": {"input_tokens": 300, "output_tokens": 80},
        }
        await telemetry.observe_run(run, task="a task", experiment=name, variant=variant)
        thumbs_up = rng.random() < 0.60 + rating_effect * lift
        await telemetry.feedback.rate(f"{name}-{user}", "up" if thumbs_up else "down")


async def test_a_known_effect_is_significant_and_an_aa_test_is_not(
    experiments_dir: Path, make_telemetry: MakeTelemetry
) -> None:
    telemetry = make_telemetry(anomaly_warmup=10_000)
    await _traffic(telemetry, "ab", effect=0.03, rating_effect=0.12, seed=1)
    await _traffic(telemetry, "aa", effect=0.0, rating_effect=0.0, seed=2)

    ab = await telemetry.experiments.results(load_experiment("ab"))
    aa = await telemetry.experiments.results(load_experiment("aa"))
    for results in (ab, aa):
        [c] = results.comparisons
        print(
            results.experiment,
            [(v.name, v.runs, v.score_mean, v.positive_rate) for v in results.variants],
            f"MW p={c.mann_whitney_p:.2e} Welch p={c.welch_p:.2e} ratings p={c.ratings_p:.2e}",
            c.verdict,
            c.ratings_verdict,
        )
    [effect], [null] = ab.comparisons, aa.comparisons
    assert effect.verdict == "better" and effect.mann_whitney_p < 0.001 and effect.welch_p < 0.001
    assert effect.ratings_verdict == "better" and effect.ratings_p < 0.01
    assert 0.02 < effect.score_diff < 0.04
    assert null.verdict == "no significant difference" and null.mann_whitney_p > 0.05
    assert null.ratings_verdict == "no significant difference" and null.ratings_p > 0.05
    assert sum(v.runs for v in ab.variants) == USERS
    assert all(v.tokens_mean == 380 for v in ab.variants)


async def test_no_verdict_below_the_minimum_sample(
    experiments_dir: Path, make_telemetry: MakeTelemetry
) -> None:
    telemetry = make_telemetry(anomaly_warmup=10_000)
    for variant, score in (("control", 0.5), ("treatment", 0.9)):
        for i in range(20):  # a huge effect, but 20 runs each of the 100 required
            run = {"thread_id": f"{variant}{i}", "score": score + i / 1000, "wall_s": 1.0}
            await telemetry.observe_run(run, experiment="ab", variant=variant)
    [c] = (await telemetry.experiments.results(load_experiment("ab"))).comparisons
    assert c.mann_whitney_p < 0.001 and c.verdict == "insufficient data"


def test_aa_false_positive_rate_is_near_alpha() -> None:
    """Across many A/A tests the score and rating tests reject about 5% of the time."""
    rng = np.random.default_rng(3)
    rejections = np.zeros(3)
    trials = 400
    for _ in range(trials):
        a, b = rng.normal(0.8, 0.08, 100), rng.normal(0.8, 0.08, 100)
        mann_whitney, welch = compare_scores(a, b)
        _, ratings = two_proportion_test(rng.binomial(100, 0.6), 100, rng.binomial(100, 0.6), 100)
        rejections += np.array([mann_whitney, welch, ratings]) < 0.05
    rates = rejections / trials
    print("A/A rejection rates (MW, Welch, ratings):", rates)
    assert all(0.01 < r < 0.10 for r in rates)
