"""Erlang C sizing: the wait probability against scipy's Poisson form of Erlang B, the fewest
slots for a waiting share, and the headroom a small pool needs that a large one does not."""

from __future__ import annotations

import math

import pytest
from scipy.stats import poisson

from core.scaling.queueing import slots_for_wait, wait_probability


def erlang_c_by_poisson(slots: int, offered: float) -> float:
    blocked = poisson.pmf(slots, offered) / poisson.cdf(slots, offered)
    return slots * blocked / (slots - offered * (1 - blocked))


@pytest.mark.parametrize(("slots", "offered"), [(8, 3.2), (44, 32.0), (3, 2.5), (120, 110.0)])
def test_the_wait_probability_is_erlang_c_with_an_exponential_tail(
    slots: int, offered: float
) -> None:
    expected = erlang_c_by_poisson(slots, offered) * math.exp(-(slots - offered) * 4.0 / 8.0)
    assert wait_probability(slots, offered, service_s=8.0, wait_s=4.0) == pytest.approx(expected)


def test_any_wait_at_all_is_erlang_c_itself() -> None:
    assert wait_probability(10, 7.0, 5.0, 0.0) == pytest.approx(erlang_c_by_poisson(10, 7.0))


def test_a_load_the_slots_cannot_hold_always_waits_and_no_load_never_does() -> None:
    assert wait_probability(4, 4.0, 8.0, 100.0) == 1.0
    assert wait_probability(4, 0.0, 8.0, 0.0) == 0.0
    assert slots_for_wait(0.0, 8.0, 4.0, 0.001) == 0


@pytest.mark.parametrize("offered", [0.5, 3.2, 12.0, 32.0, 64.0])
def test_the_slots_found_are_the_fewest_that_keep_the_share(offered: float) -> None:
    slots = slots_for_wait(offered, 8.0, 4.0, 0.001)
    assert wait_probability(slots, offered, 8.0, 4.0) <= 0.001
    assert wait_probability(slots - 1, offered, 8.0, 4.0) > 0.001


def test_a_small_pool_keeps_more_headroom_than_a_large_one() -> None:
    night, peak = 3.2, 64.0  # 0.4 and 8 requests/s of 8 s each
    night_busy = night / slots_for_wait(night, 8.0, 4.0, 0.001)
    peak_busy = peak / slots_for_wait(peak, 8.0, 4.0, 0.001)
    assert night_busy < 0.4 < 0.8 < peak_busy


def test_a_longer_allowed_wait_or_a_larger_share_needs_no_more_slots() -> None:
    base = slots_for_wait(20.0, 8.0, 4.0, 0.001)
    assert slots_for_wait(20.0, 8.0, 8.0, 0.001) <= base
    assert slots_for_wait(20.0, 8.0, 4.0, 0.01) <= base
    assert slots_for_wait(20.0, 8.0, 4.0, 0.0001) > base
