"""The timeout that follows the call times: the configured one until enough calls were seen,
then a multiple of their high percentile within the floor and the ceiling, moving as they do."""

from __future__ import annotations

import math

import pytest

from core.llm.timeouts import AdaptiveTimeout


def timeout(**extra: float) -> AdaptiveTimeout:
    args = {"ceiling_s": 120.0, "floor_s": 5.0, "multiple": 4.0, "min_samples": 20, **extra}
    return AdaptiveTimeout(**args)  # type: ignore[arg-type]


def test_until_enough_calls_were_seen_the_timeout_is_the_configured_one() -> None:
    t = timeout()
    for _ in range(19):
        t.observe(2.0)
    assert (t.high(), t.current()) == (None, 120.0)
    t.observe(2.0)
    assert (t.high(), t.current()) == (2.0, 8.0)


def test_the_timeout_is_a_multiple_of_the_ninety_ninth_percentile() -> None:
    t = timeout(window=200)
    for i in range(200):
        t.observe(1.0 + i / 100)  # 1.00 .. 2.99 s
    assert t.high() == pytest.approx(2.97)  # nearest rank: the 198th of 200
    assert t.current() == pytest.approx(4 * 2.97)


def test_slower_calls_under_load_raise_it_up_to_the_ceiling_and_fast_ones_lower_it() -> None:
    t = timeout(window=50)
    for _ in range(50):
        t.observe(0.1)
    assert t.current() == 5.0  # the floor, not 0.4 s
    for _ in range(50):
        t.observe(12.0)  # load: every call slower
    assert t.current() == 48.0
    for _ in range(50):
        t.observe(45.0)
    assert t.current() == 120.0  # never past the configured timeout


def test_one_slow_call_in_a_hundred_does_not_set_it() -> None:
    t = timeout(window=100)
    for _ in range(99):
        t.observe(1.0)
    t.observe(60.0)
    assert t.current() == 5.0


def test_nonsense_durations_are_ignored_and_bad_bounds_refused() -> None:
    t = timeout(min_samples=1)
    t.observe(math.nan)
    t.observe(-1.0)
    assert t.high() is None
    with pytest.raises(ValueError, match="floor_s"):
        AdaptiveTimeout(ceiling_s=5.0, floor_s=10.0, multiple=4.0)
    with pytest.raises(ValueError, match="multiple"):
        AdaptiveTimeout(ceiling_s=50.0, floor_s=10.0, multiple=0.5)
