"""The scaling decision on a simulated clock: up at once, down with hysteresis, cool-downs,
bounds, the forecast's lead, and its memory carried to another replica."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.scaling.scaler import LoadSignals, Scaler, ScalingPolicy

POLICY = ScalingPolicy(
    min_instances=1,
    max_instances=6,
    slots_per_instance=4,
    service_time_s=10.0,
    target_utilisation=0.75,
    scale_down_utilisation=0.5,
    target_latency_s=20.0,
    startup_s=120.0,
    scale_up_cooldown_s=30.0,
    scale_down_cooldown_s=300.0,
    scale_down_window_s=300.0,
)


def at(t: float, **load: float) -> LoadSignals:
    return LoadSignals(at=t, **load)


def test_load_beyond_the_target_utilisation_adds_instances_at_once() -> None:
    scaler = Scaler(POLICY, current=1)
    decision = scaler.decide(at(0, in_flight=4, queue_depth=3))
    assert (decision.current, decision.desired) == (1, 3)  # 7 / (4 * 0.75) -> 3
    assert decision.reason == "up: load"


def test_a_second_rise_within_the_up_cooldown_waits_for_it() -> None:
    scaler = Scaler(POLICY, current=1)
    scaler.decide(at(0, in_flight=6))
    assert scaler.decide(at(29, in_flight=11)).desired == 2
    assert scaler.decide(at(30, in_flight=11)).desired == 4


def test_load_that_fits_at_the_target_but_not_at_the_lower_mark_keeps_the_count() -> None:
    scaler = Scaler(POLICY, current=3)
    # 5 in flight: 2 instances at 75 %, but 3 at 50 %: the band between them holds still
    for t in range(0, 2000, 15):
        assert scaler.decide(at(t, in_flight=5)).desired == 3


def test_scale_down_waits_for_the_cooldown_after_the_last_change() -> None:
    scaler = Scaler(POLICY.model_copy(update={"scale_down_window_s": 0.0}), current=1)
    scaler.decide(at(0, in_flight=11))  # up to 4
    assert scaler.decide(at(100, in_flight=1)).reason == "down wanted, cooling down"
    assert scaler.decide(at(299, in_flight=1)).desired == 4
    assert scaler.decide(at(300, in_flight=1)).desired == 1


def test_scale_down_waits_until_the_window_forgets_the_last_high_need() -> None:
    scaler = Scaler(POLICY, current=1)
    scaler.decide(at(0, in_flight=11))  # up to 4; at 50 % it needs 6
    assert scaler.decide(at(300, in_flight=1)).reason == "steady"  # t=0 still in the window
    decision = scaler.decide(at(301, in_flight=1))
    assert (decision.desired, decision.reason) == (1, "down: load fits on fewer")


def test_a_spike_inside_the_window_holds_instances_up() -> None:
    scaler = Scaler(POLICY, current=4)
    assert scaler.decide(at(0, in_flight=7)).desired == 4  # 3 at 75 %, but 4 at 50 %
    assert scaler.decide(at(300, in_flight=1)).desired == 4  # t=0 is still in the window
    assert scaler.decide(at(301, in_flight=1)).desired == 1


def test_latency_over_the_target_adds_one_unless_an_instance_is_starting() -> None:
    scaler = Scaler(POLICY, current=2)
    assert scaler.decide(at(0, in_flight=4, latency_s=25, starting=1)).desired == 2
    decision = scaler.decide(at(15, in_flight=4, latency_s=25))
    assert (decision.desired, decision.reason) == (3, "up: latency")


def test_the_forecast_over_the_lead_time_starts_instances_before_the_load_arrives() -> None:
    reactive, predictive = Scaler(POLICY, current=1), Scaler(POLICY, current=1)
    quiet = {"in_flight": 1, "arrival_rate": 0.1}
    assert reactive.decide(at(0, **quiet)).desired == 1
    decision = predictive.decide(at(0, **quiet, forecast_rate=0.9))  # 9 in flight soon
    assert (decision.desired, decision.reason) == (3, "up: forecast")


def test_with_a_forecast_scale_down_waits_only_for_the_shorter_window() -> None:
    scaler = Scaler(POLICY, current=4)  # windows: 300 s without a forecast, 120 s with one
    scaler.decide(at(0, in_flight=7, forecast_rate=0.7))
    assert scaler.decide(at(120, in_flight=1, forecast_rate=0.1)).desired == 4
    assert scaler.decide(at(121, in_flight=1, forecast_rate=0.1)).desired == 1


WAITING = POLICY.model_copy(
    update={"max_instances": 30, "service_time_s": 8.0, "queue_wait_s": 4.0}
)
"""The same group sized for the wait for a slot: at most 0.1 % of requests wait over 4 s."""


def test_sized_for_the_wait_a_small_load_keeps_more_headroom_and_a_large_one_less() -> None:
    night, peak = Scaler(WAITING, current=1), Scaler(WAITING, current=1)
    # 0.4 requests/s of 8 s: 3.2 in service; 75 % of 4 slots would take 2 instances
    assert POLICY.instances_for(3.2, 0.75) == 2
    assert night.decide(at(0, arrival_rate=0.4)).needs["rate"] == 3
    # 8 requests/s: 64 in service; 75 % would take 22 instances, the wait 19
    assert POLICY.instances_for(64, 0.75) == 22
    decision = peak.decide(at(0, arrival_rate=8.0))
    assert (decision.desired, decision.reason) == (19, "up: rate")


def test_sized_for_the_wait_scaling_down_asks_for_a_tenth_of_the_share() -> None:
    scaler = Scaler(WAITING.model_copy(update={"scale_down_window_s": 0.0}), current=20)
    signals = at(0, arrival_rate=8.0)
    assert (scaler.needs(signals)["rate"], scaler.needs(signals, down=True)["rate"]) == (19, 20)
    for t in range(0, 1000, 15):  # 19 would do, but not with the margin to go down to it
        assert scaler.decide(at(t, arrival_rate=8.0)).desired == 20
    decision = scaler.decide(at(1000, arrival_rate=7.5))  # 19 now holds it with the margin
    assert (decision.desired, decision.reason) == (19, "down: load fits on fewer")


def test_the_count_stays_within_the_bounds() -> None:
    scaler = Scaler(POLICY, current=1)
    assert scaler.decide(at(0, in_flight=100)).desired == 6
    assert scaler.decide(at(10_000, in_flight=0)).desired == 1


def test_another_replica_restores_the_memory_and_keeps_the_cooldown() -> None:
    first = Scaler(POLICY, current=1)
    first.decide(at(0, in_flight=11))
    second = Scaler(POLICY)
    second.restore(first.state())
    assert second.current == 4
    assert second.decide(at(100, in_flight=1)).desired == 4


def test_a_policy_with_its_bounds_the_wrong_way_round_is_refused() -> None:
    with pytest.raises(ValidationError, match="min_instances"):
        ScalingPolicy(min_instances=5, max_instances=2)
    with pytest.raises(ValidationError, match="scale_down_utilisation"):
        ScalingPolicy(target_utilisation=0.5, scale_down_utilisation=0.8)
    with pytest.raises(ValidationError, match="min_slots_per_instance"):
        ScalingPolicy(min_slots_per_instance=8, max_slots_per_instance=4)
    assert ScalingPolicy(min_slots_per_instance=8).max_slots_per_instance is None  # no range
