"""Paired comparison statistics: Holm, Wilcoxon, bootstrap, effect sizes and the verdict."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evals.compare import bootstrap_ci, cohens_dz, compare, holm, rank_biserial
from tests.evals.synthetic import make_run

IDS = [f"t{i:02d}" for i in range(12)]


def test_holm_matches_the_step_down_definition() -> None:
    # sorted: 0.01*4=0.04, 0.02*3=0.06, 0.03*2=0.06 (monotone), 0.5*1=0.5
    assert holm([0.03, 0.01, 0.5, 0.02]) == pytest.approx([0.06, 0.04, 0.5, 0.06])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # 0.8*2 capped at 1, then monotone


def test_effect_sizes_and_interval() -> None:
    diffs = np.array([0.2, 0.1, 0.3, -0.1, 0.0, 0.2])
    # ranks of |d| over the non-zero differences: 0.1,0.1 -> 1.5 each; 0.2,0.2 -> 3.5; 0.3 -> 5
    assert rank_biserial(diffs) == pytest.approx((15 - 1.5 - 1.5) / 15)
    low, high = bootstrap_ci(diffs)
    assert low < diffs.mean() < high
    assert bootstrap_ci(np.array([0.1, 0.1, 0.1])) == pytest.approx((0.1, 0.1))
    assert cohens_dz(np.array([1.0, 2.0, 3.0])) == pytest.approx(2.0)
    # one difference, reached by float sums that round apart: no spread, no effect size
    same = np.array([0.2, 0.6 - 0.4, 0.4 - 0.2, 0.3 - 0.1])
    assert same.std(ddof=1) > 0 and cohens_dz(same) is None


def test_b_better_on_coverage_and_cheaper_a() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.6, len(IDS))
    gain = rng.uniform(0.05, 0.3, len(IDS))
    a = make_run(
        "single_pass",
        {
            i: {"concept_coverage": float(x), "tokens": 100.0, "rouge_l": 0.5}
            for i, x in zip(IDS, base, strict=True)
        },
    )
    b = make_run(
        "refine_default",
        {
            i: {"concept_coverage": float(x + g), "tokens": 300.0, "rouge_l": 0.5}
            for i, x, g in zip(IDS, base, gain, strict=True)
        },
    )
    result = compare(a, b)
    by_name = {m.metric: m for m in result.metrics}
    coverage = by_name["concept_coverage"]
    expected_p = stats.wilcoxon(base + gain - base, zero_method="pratt").pvalue
    assert coverage.p_value == pytest.approx(expected_p)
    assert coverage.wins == len(IDS) and coverage.better == "b"
    assert coverage.ci_low > 0 and coverage.rank_biserial == 1.0
    # equal on every task: no test, no verdict, and it does not dilute the correction
    assert by_name["rouge_l"].p_value == 1.0 and by_name["rouge_l"].better == "none"
    assert coverage.p_holm == pytest.approx(coverage.p_value)
    # cost: lower is better, so the extra tokens make A the better one on cost
    assert by_name["tokens"].better == "a"
    assert result.verdict == "b_better"
    assert "3.00x the tokens" in result.verdict_text


def test_mixed_and_no_difference() -> None:
    up = {i: {"concept_coverage": 0.2 + 0.05 * k, "chrf": 0.9} for k, i in enumerate(IDS)}
    down = {
        i: {"concept_coverage": 0.6 + 0.05 * k, "chrf": 0.5 - 0.01 * k} for k, i in enumerate(IDS)
    }
    assert compare(make_run("a", up), make_run("b", down)).verdict == "mixed"
    same = compare(make_run("a", up), make_run("b", up))
    assert same.verdict == "no_difference" and "no significant difference" in same.verdict_text


def test_only_common_tasks_are_paired() -> None:
    a = make_run("a", {i: {"concept_coverage": 0.5} for i in IDS})
    b = make_run("b", {i: {"concept_coverage": 0.7} for i in IDS[:5]})
    result = compare(a, b)
    assert result.paired_tasks == 5 and result.metrics[0].n == 5


def test_a_quality_metric_that_failed_makes_the_verdict_incomplete() -> None:
    a = make_run("single_pass", {i: {"concept_coverage": 0.5, "tokens": 100.0} for i in IDS})
    b = make_run("refine_default", {i: {"concept_coverage": 0.5, "tokens": 300.0} for i in IDS})
    assert compare(a, b).verdict == "no_difference"
    b.summary.errored["prompt_loose"] = 12  # as a scorer that could not be imported leaves it
    result = compare(a, b)
    assert result.verdict == "incomplete"
    assert result.verdict_text.startswith(
        "incomplete: prompt_loose: failed on 12 tasks of refine_default; on the metrics scored,"
    )
    b.summary.errored = {"tokens": 3}  # a cost metric is no verdict's business
    assert compare(a, b).verdict == "no_difference"
