"""The scaling decision, as a pure function of the signals and the scaler's own memory (its
last changes and recent recommendations): observed load and, when given, the forecast over the
lead time become the desired number of instances of one endpoint group.

Up: the most instances any signal needs (requests in flight and queued, the arrival rate, the
forecast peak over the next lead time, latency over its target), at once after
`scale_up_cooldown_s`; a load needs the instances that hold it at `target_utilisation`, or,
with `queue_wait_s` set, the fewest at which few requests wait long for a slot (Erlang C).
Down: only to what the load needs at the lower `scale_down_utilisation` (or a tenth of the
waiting share; hysteresis), the highest such need over the last `scale_down_window_s`
(Kubernetes' stabilisation window), and not within `scale_down_cooldown_s` of any change.
Time is the signals' `at`: the caller's clock, simulated in benches and tests.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.scaling.queueing import slots_for_wait

__all__ = ["Decision", "LoadSignals", "Scaler", "ScalingPolicy"]


class ScalingPolicy(BaseModel):
    """How one endpoint group scales."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_instances: int = Field(1, ge=0, le=1000)
    max_instances: int = Field(4, ge=1, le=1000)
    slots_per_instance: int = Field(4, ge=1, le=1024)
    """Requests one instance serves at once (a llama.cpp server's parallel slots). Where the
    embedded fleet sizes its instances (`max_slots_per_instance`), the counts here are of
    this many slots each, and the fleet turns them into slots."""
    min_slots_per_instance: int = Field(1, ge=1, le=1024)
    """The fewest slots the embedded fleet starts a new instance with."""
    max_slots_per_instance: int | None = Field(None, ge=1, le=1024)
    """The most slots the embedded fleet starts a new instance with: each new `llama-server`
    gets the slots the group still lacks, within these bounds and the memory; None: every
    instance has the local server's slots (`REFINERY_LOCAL_PARALLEL`)."""
    service_time_s: float = Field(10.0, gt=0)
    """How long one request holds a slot, when the signals carry no observed figure."""
    target_utilisation: float = Field(0.75, gt=0, le=1)
    """Share of the slots the load may fill before another instance is wanted."""
    scale_down_utilisation: float = Field(0.5, gt=0, le=1)
    """Share of the slots the load must fit in on fewer instances before one goes."""
    queue_wait_s: float | None = Field(None, gt=0, le=3600)
    """Size for the wait for a slot rather than for a fixed utilisation: a load needs the fewest
    instances at which at most `queue_wait_share` of requests wait longer than this for a slot
    (Erlang C, `core.scaling.queueing`). A small pool then keeps the headroom its bursts need
    (two instances at 75 % busy queue often), a large one no more than its own. Set it to the
    latency target less the slowest generations' time. None: `target_utilisation`."""
    queue_wait_share: float = Field(0.001, gt=0, lt=1)
    """Share of requests that may wait longer than `queue_wait_s`; scaling down asks for a
    tenth of it (the hysteresis `scale_down_utilisation` gives the utilisation rule)."""
    target_latency_s: float | None = Field(None, gt=0)
    """Latency above which one more instance is wanted (None: latency is not a signal)."""
    startup_s: float = Field(60.0, ge=0)
    """How long a new instance takes to serve: the forecast's lead time."""
    scale_up_cooldown_s: float = Field(30.0, ge=0)
    scale_down_cooldown_s: float = Field(300.0, ge=0)
    scale_down_window_s: float = Field(300.0, ge=0)
    """Scale down to the highest need seen over this long (load measured now is noisy)."""
    forecast_down_window_s: float = Field(120.0, ge=0)
    """The same window when the signals carry a forecast, shorter: the forecast's peak over
    the lead time already says whether the load comes back before a new instance could start;
    what is left is the noise of the load measured now (in the replay bench's daily trace, 0 s
    let 2 requests in 190,000 wait past the SLO, 120 s none, at 4 % more instance-hours)."""

    @model_validator(mode="after")
    def _ordered(self) -> ScalingPolicy:
        if self.min_instances > self.max_instances:
            raise ValueError("min_instances must not exceed max_instances")
        if self.scale_down_utilisation > self.target_utilisation:
            raise ValueError("scale_down_utilisation must not exceed target_utilisation")
        if (
            self.max_slots_per_instance is not None
            and self.min_slots_per_instance > self.max_slots_per_instance
        ):
            raise ValueError("min_slots_per_instance must not exceed max_slots_per_instance")
        return self

    def instances_for(self, concurrency: float, utilisation: float) -> int:
        """Instances whose slots hold `concurrency` requests at `utilisation`."""
        return math.ceil(round(concurrency / (self.slots_per_instance * utilisation), 9))

    def instances_needed(self, concurrency: float, service_s: float, down: bool = False) -> int:
        """Instances for `concurrency` requests in service on average (arrival rate x service
        time): by the wait for a slot where `queue_wait_s` is set, else at the target (`down`:
        the scale-down) utilisation."""
        if self.queue_wait_s is None:
            utilisation = self.scale_down_utilisation if down else self.target_utilisation
            return self.instances_for(concurrency, utilisation)
        share = self.queue_wait_share / 10 if down else self.queue_wait_share
        slots = slots_for_wait(concurrency, service_s, self.queue_wait_s, share)
        return math.ceil(slots / self.slots_per_instance)


class LoadSignals(BaseModel):
    """What the scaler sees at one moment (summed over the replicas)."""

    at: float
    """Time of the observation (seconds, the caller's clock)."""
    queue_depth: int = Field(0, ge=0)
    in_flight: int = Field(0, ge=0)
    starting: int = Field(0, ge=0)
    """Instances started that do not serve yet (latency asks for no more while any start)."""
    arrival_rate: float = Field(0.0, ge=0)
    """Requests per second arriving recently."""
    latency_s: float | None = Field(None, ge=0)
    """Recent high-percentile latency of requests."""
    service_time_s: float | None = Field(None, gt=0)
    """Observed time a request holds a slot; None: the policy's figure."""
    forecast_rate: float | None = Field(None, ge=0)
    """The forecast's highest rate over the next lead time (None: reactive scaling)."""


class Decision(BaseModel):
    """One decision: how many instances, and which signal asked for them."""

    at: float
    current: int
    desired: int
    reason: str
    needs: dict[str, int] = Field(default_factory=dict)
    """Instances each signal asks for to scale up."""


class Scaler:
    """Turns signals into decisions for one group; remembers its last changes and recent
    scale-down recommendations (`state()` / `restore()` carry them to another replica)."""

    def __init__(self, policy: ScalingPolicy, current: int | None = None) -> None:
        self.policy = policy
        self.current = policy.min_instances if current is None else current
        self.last_up = float("-inf")
        self.last_change = float("-inf")
        self._down_needs: deque[tuple[float, int]] = deque()

    def needs(self, s: LoadSignals, down: bool = False) -> dict[str, int]:
        """Instances each signal asks for to scale up (`down`: to scale down to)."""
        p = self.policy
        service = s.service_time_s or p.service_time_s
        needs = {
            "load": p.instances_needed(s.in_flight + s.queue_depth, service, down),
            "rate": p.instances_needed(s.arrival_rate * service, service, down),
        }
        if s.forecast_rate is not None:
            needs["forecast"] = p.instances_needed(s.forecast_rate * service, service, down)
        return needs

    def decide(self, s: LoadSignals) -> Decision:
        """The desired instances now; becomes `current` for the next call."""
        p = self.policy
        needs = self.needs(s)
        slow = (
            p.target_latency_s is not None
            and s.latency_s is not None
            and s.latency_s > p.target_latency_s
            and s.queue_depth + s.in_flight > 0
            and s.starting == 0
        )
        if slow:
            needs["latency"] = self.current + 1
        up_need, up_signal = max((n, name) for name, n in needs.items())
        window = p.scale_down_window_s if s.forecast_rate is None else p.forecast_down_window_s
        down = max(self.needs(s, down=True).values())
        down_need = self._window_need(s.at, down, window)
        desired, reason = self.current, "steady"
        if up_need > self.current:
            if s.at - self.last_up >= p.scale_up_cooldown_s:
                desired, reason = up_need, f"up: {up_signal}"
            else:
                reason = "up wanted, cooling down"
        elif down_need < self.current:
            if s.at - self.last_change >= p.scale_down_cooldown_s:
                desired, reason = down_need, "down: load fits on fewer"
            else:
                reason = "down wanted, cooling down"
        desired = min(max(desired, p.min_instances), p.max_instances)
        decision = Decision(
            at=s.at, current=self.current, desired=desired, reason=reason, needs=needs
        )
        if desired != self.current:
            self.last_change = s.at
            if desired > self.current:
                self.last_up = s.at
            self.current = desired
        return decision

    def _window_need(self, at: float, need: int, window_s: float) -> int:
        """The highest scale-down need over the last `window_s`, this one included (all the
        needs of the longest window are kept, so either window can be asked)."""
        self._down_needs.append((at, need))
        keep = max(self.policy.scale_down_window_s, self.policy.forecast_down_window_s)
        while self._down_needs and self._down_needs[0][0] < at - keep:
            self._down_needs.popleft()
        return max(n for t, n in self._down_needs if t >= at - window_s)

    def state(self) -> dict[str, Any]:
        """The scaler's memory, as JSON-able values."""
        return {
            "current": self.current,
            "last_up": _finite(self.last_up),
            "last_change": _finite(self.last_change),
            "down_needs": list(self._down_needs),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take over another replica's memory (`state()`)."""
        self.current = int(state.get("current", self.current))
        self.last_up = _time(state.get("last_up"))
        self.last_change = _time(state.get("last_change"))
        self._down_needs = deque((float(at), int(n)) for at, n in state.get("down_needs", []))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _time(value: Any) -> float:
    return float("-inf") if value is None else float(value)
