"""Capacity scaling replayed on traffic traces, in simulated time: fixed peak capacity, reactive
scaling and predictive scaling on the same arrivals, judged by SLO violations (requests over the
latency target, and 503s) and instance-hours.

The decisions are the real ones (`core.scaling.scaler.Scaler`, `core.scaling.forecast`); the
model instances are simulated: each has `slots` parallel slots, a request holds one for a
lognormal service time, a new instance serves only `startup_s` after it is started (and costs
from then on), one that scales down drains its requests before it stops, and a request that
waits longer than `max_wait_s` for a slot is refused (a 503, as the admission queue does). Each
trace has `history_days` days of the same traffic before the day that is measured: the
predictive scaler's forecast is fitted on them (and on the measured day as it passes), the way
it reads the telemetry's request-rate series in Redis. A day runs in seconds.

Predictive scaling plans for the forecast's upper bound (`core.scaling.forecast.upper_bound`:
its peak over the lead time plus the 95th percentile of its measured under-forecasts); the row
"predictive, point forecast" plans for the forecast alone, to show what the margin costs and
buys. Traces: a daily cycle, a business-hours step, a business day (traffic triples within 20
minutes at 09:00: a test of the lead time that the gentle daily cycle is not), a flash crowd
that comes every day, and one that only the measured day has.

    .venv/bin/python -m bench.autoscale [--seed 7] [--quick] [--utilisation]
"""

from __future__ import annotations

import argparse
import heapq
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.scaling.forecast import (
    Forecast,
    ForecastConfig,
    ForecastError,
    fit_forecast,
    margin,
    upper_bound,
)
from core.scaling.scaler import LoadSignals, Scaler, ScalingPolicy

DAY = 86_400.0
RateFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Conditions:
    """The simulated world (printed with the table)."""

    slots: int = 4
    service_mean_s: float = 8.0
    service_sigma: float = 0.3
    startup_s: float = 180.0
    slo_s: float = 20.0
    max_wait_s: float = 30.0
    tick_s: float = 15.0
    refit_s: float = 1800.0
    history_days: int = 3
    bucket_s: float = 300.0
    max_instances: int = 24
    queue_wait_s: float | None = 4.0
    """Instances sized for the wait for a slot (at most 0.1 % of requests wait longer than
    this: the SLO less what the slowest 1 % of generations take, over 15.4 s here, rounded
    down); None: 75 % utilisation."""


@dataclass(frozen=True)
class Trace:
    """Requests per second over time (seconds from the first history day's midnight)."""

    name: str
    rate: RateFn
    note: str


def _hour(t: np.ndarray) -> np.ndarray:
    return (t % DAY) / 3600.0


def daily(t: np.ndarray) -> np.ndarray:
    """A daily cycle: 0.4 req/s at 04:00, 4 req/s at 16:00."""
    return 2.2 - 1.8 * np.cos(2 * np.pi * (_hour(t) - 4.0) / 24.0)


def step(t: np.ndarray) -> np.ndarray:
    """Business hours: 0.5 req/s, 3.5 req/s from 09:00 to 17:00."""
    h = _hour(t)
    return np.where((h >= 9) & (h < 17), 3.5, 0.5)


def flash(t: np.ndarray) -> np.ndarray:
    """The daily cycle, and a flash crowd at 12:30 every day (a newsletter goes out): +4 req/s
    within a minute, for 20 minutes."""
    h = _hour(t)
    return daily(t) + np.where((h >= 12.5) & (h < 12.5 + 20 / 60), 4.0, 0.0)


def business(t: np.ndarray) -> np.ndarray:
    """A business day: 0.5 req/s at night, 1.2 req/s by 09:00, then everyone logs in and the
    traffic triples within 20 minutes (3.6 req/s at 09:20); 2.8 req/s over lunch (12:15-13:00,
    15-minute ramps), back to 3.6 until 17:00, down to 0.5 by 19:00."""
    hours = [0.0, 7.0, 9.0, 9 + 20 / 60, 12.0, 12.25, 13.0, 13.25, 17.0, 19.0, 24.0]
    rates = [0.5, 0.5, 1.2, 3.6, 3.6, 2.8, 2.8, 3.6, 3.6, 0.5, 0.5]
    return np.interp(_hour(t), hours, rates)


def _surprise_rate(history_days: int) -> RateFn:
    def rate(t: np.ndarray) -> np.ndarray:
        h, day = _hour(t), np.floor(t / DAY)
        crowd = (day == history_days) & (h >= 10) & (h < 10 + 20 / 60)
        return daily(t) + np.where(crowd, 4.0, 0.0)

    return rate


def traces(c: Conditions) -> list[Trace]:
    return [
        Trace("daily", daily, "0.4 to 4 req/s, peak 16:00"),
        Trace("step", step, "0.5 req/s, 3.5 req/s 09:00-17:00"),
        Trace(
            "business day",
            business,
            "0.5 req/s at night; 1.2 to 3.6 req/s 09:00-09:20, lunch dip, down 17:00-19:00",
        ),
        Trace("flash crowd", flash, "daily + 4 req/s for 20 min at 12:30, every day"),
        Trace(
            "unforeseen crowd",
            _surprise_rate(c.history_days),
            "daily + 4 req/s for 20 min at 10:00, measured day only",
        ),
    ]


def arrivals(rate: RateFn, days: int, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrival times (seconds), rate changing each second."""
    seconds = np.arange(int(days * DAY), dtype=float)
    counts = rng.poisson(rate(seconds))
    starts = np.repeat(seconds, counts)
    return np.sort(starts + rng.random(starts.size))


# --- the simulated instances ------------------------------------------------------------------


@dataclass
class Instance:
    started: float
    ready_at: float
    busy: int = 0
    draining: bool = False
    stopped: float | None = None


@dataclass
class Result:
    requests: int = 0
    over_slo: int = 0
    waited_over: int = 0
    """Requests over the SLO because of their wait (their service alone was within it)."""
    shed: int = 0
    instance_s: float = 0.0
    peak_instances: int = 0
    changes: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def violations(self) -> float:
        return (self.over_slo + self.shed) / self.requests if self.requests else 0.0

    @property
    def instance_hours(self) -> float:
        return self.instance_s / 3600.0


class Replay:
    """One measured day of a trace under one policy."""

    def __init__(
        self,
        c: Conditions,
        times: np.ndarray,
        service: np.ndarray,
        history: list[float],
        policy: ScalingPolicy,
        mode: str,
        fixed: int = 0,
        forecast_history_s: float | None = None,
        upper_quantile: float | None = 0.95,
    ) -> None:
        self.c, self.times, self.service, self.policy, self.mode = c, times, service, policy, mode
        self.config = ForecastConfig(bucket_s=c.bucket_s, upper_quantile=upper_quantile)
        self.fixed = fixed
        self.history = list(history)
        """Arrival rate per forecast bucket before the measured day (what the telemetry kept)."""
        if forecast_history_s is not None:
            self.history = self.history[-int(forecast_history_s // c.bucket_s) :]
        self.instances: list[Instance] = []
        self.queue: deque[int] = deque()
        self.result = Result(requests=len(times))
        self.recent_arrivals: deque[float] = deque()
        self.recent_done: deque[tuple[float, float, float]] = deque()
        self.recent_load: deque[int] = deque(maxlen=max(1, round(60 / c.tick_s)))
        self.events: list[tuple[float, int, str, int]] = []
        self._seq = 0
        self.forecast: Forecast | None = None
        self.error = ForecastError(window=self.config.error_buckets)
        self.margins: list[float] = []
        """The margin over the forecast (requests/s) at each round that planned with one."""
        self.methods: set[str] = set()
        self.bucket_counts = np.zeros(int(DAY // c.bucket_s) + 1)

    def _push(self, at: float, kind: str, ref: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self.events, (at, self._seq, kind, ref))

    def run(self) -> Result:
        c = self.c
        start = self.fixed or self.policy.instances_needed(
            self._rate_at(0.0) * c.service_mean_s, c.service_mean_s
        )
        start = max(start, self.policy.min_instances)
        for _ in range(start):
            self.instances.append(Instance(started=0.0, ready_at=0.0))
        self.scaler = Scaler(self.policy, current=start)
        # the day begins as if that count had just been decided (no cold-start scale-down)
        self.scaler.restore({"current": start, "last_up": 0.0, "last_change": 0.0})
        self.result.peak_instances = start
        for i, t in enumerate(self.times):
            self._push(float(t), "arrive", i)
        if self.mode != "fixed":
            tick = 0.0
            while tick < DAY:
                self._push(tick, "tick")
                tick += c.tick_s
        while self.events:
            at, _, kind, ref = heapq.heappop(self.events)
            getattr(self, f"_on_{kind}")(at, ref)
        for inst in self.instances:
            end = inst.stopped if inst.stopped is not None else DAY
            self.result.instance_s += max(0.0, min(end, DAY) - inst.started)
        return self.result

    def _rate_at(self, at: float) -> float:
        window = self.times[(self.times >= at) & (self.times < at + 300)]
        return window.size / 300.0

    # --- events ---------------------------------------------------------------------------------

    def _on_arrive(self, at: float, i: int) -> None:
        self.recent_arrivals.append(at)
        self.bucket_counts[int(at // self.c.bucket_s)] += 1
        self.queue.append(i)
        self._dispatch(at)

    def _on_done(self, at: float, ref: int) -> None:
        inst = self.instances[ref]
        inst.busy -= 1
        if inst.draining and inst.busy == 0 and inst.stopped is None:
            inst.stopped = at
        self._dispatch(at)

    def _on_ready(self, at: float, ref: int) -> None:
        self._dispatch(at)

    def _dispatch(self, at: float) -> None:
        while self.queue:
            free = [
                (inst.busy, n)
                for n, inst in enumerate(self.instances)
                if inst.stopped is None
                and not inst.draining
                and inst.ready_at <= at
                and inst.busy < self.c.slots
            ]
            if not free:
                return
            i = self.queue.popleft()
            waited = at - self.times[i]
            if waited > self.c.max_wait_s:
                self.result.shed += 1
                continue
            _, n = min(free)
            self.instances[n].busy += 1
            latency = waited + self.service[i]
            if latency > self.c.slo_s:
                self.result.over_slo += 1
                self.result.waited_over += self.service[i] <= self.c.slo_s
            self.recent_done.append((at + self.service[i], latency, self.service[i]))
            self._push(at + float(self.service[i]), "done", n)

    def _expire(self, at: float) -> None:
        while self.queue and at - self.times[self.queue[0]] > self.c.max_wait_s:
            self.queue.popleft()
            self.result.shed += 1

    def _on_tick(self, at: float, _: int) -> None:
        self._expire(at)
        while self.recent_arrivals and self.recent_arrivals[0] < at - 60:
            self.recent_arrivals.popleft()
        done = [(lat, svc) for t, lat, svc in self.recent_done if at - 60 <= t <= at]
        while self.recent_done and self.recent_done[0][0] < at - 120:
            self.recent_done.popleft()
        forecast_rate = self._forecast_rate(at) if self.mode == "predictive" else None
        # load averaged over the last minute of ticks, as a metrics scrape window would
        self.recent_load.append(
            len(self.queue) + sum(inst.busy for inst in self.instances if inst.stopped is None)
        )
        signals = LoadSignals(
            at=at,
            queue_depth=len(self.queue),
            in_flight=max(0, math.ceil(np.mean(self.recent_load)) - len(self.queue)),
            starting=sum(1 for i in self.instances if i.stopped is None and i.ready_at > at),
            arrival_rate=len(self.recent_arrivals) / 60.0,
            latency_s=float(np.percentile([lat for lat, _ in done], 95)) if done else None,
            service_time_s=float(np.mean([svc for _, svc in done])) if done else None,
            forecast_rate=forecast_rate,
        )
        decision = self.scaler.decide(signals)
        self._apply(at, decision.desired)

    def _forecast_rate(self, at: float) -> float | None:
        c = self.c
        bucket = int(at // c.bucket_s)
        if at % c.bucket_s == 0 and bucket > 0:
            done = (bucket - 1) * c.bucket_s
            self.error.observe(done, self.bucket_counts[bucket - 1] / c.bucket_s)
        if self.forecast is None or at - self.forecast.start >= c.refit_s:
            past = self.history + list(self.bucket_counts[:bucket] / c.bucket_s)
            horizon = math.ceil((c.refit_s + c.startup_s + c.tick_s) / c.bucket_s) + 1
            # the forecast's clock: measured-day seconds, history ending at this bucket's start
            self.forecast = fit_forecast(past, bucket * c.bucket_s, self.config, horizon)
            self.methods.add(self.forecast.method)
            self.error.expect(self.forecast)
        if self.forecast.method != "holt_winters":
            return None  # the recent rate is what reactive scaling reads already
        self.margins.append(margin(self.forecast, self.error, self.config))
        return upper_bound(self.forecast, self.error, self.config, at, at + c.startup_s + c.tick_s)

    def _apply(self, at: float, desired: int) -> None:
        live = [inst for inst in self.instances if inst.stopped is None and not inst.draining]
        if desired > len(live):
            need = desired - len(live)
            for inst in self.instances:  # a draining one serves again before a new one starts
                if need and inst.stopped is None and inst.draining:
                    inst.draining, need = False, need - 1
            for _ in range(need):
                self.instances.append(Instance(started=at, ready_at=at + self.c.startup_s))
                self._push(at + self.c.startup_s, "ready", len(self.instances) - 1)
            self.result.changes += 1
        elif desired < len(live):
            # starting ones go first (they serve nobody yet), then the least busy
            order = sorted(live, key=lambda inst: (inst.ready_at <= at, inst.busy))
            for inst in order[: len(live) - desired]:
                inst.draining = True
                if inst.busy == 0:
                    inst.stopped = at
            self.result.changes += 1
        alive = sum(1 for inst in self.instances if inst.stopped is None)
        self.result.peak_instances = max(self.result.peak_instances, alive)


# --- the comparison ---------------------------------------------------------------------------


def policy_for(c: Conditions) -> ScalingPolicy:
    return ScalingPolicy(
        min_instances=1,
        max_instances=c.max_instances,
        slots_per_instance=c.slots,
        service_time_s=c.service_mean_s,
        target_utilisation=0.75,
        scale_down_utilisation=0.6,
        queue_wait_s=c.queue_wait_s,
        target_latency_s=c.slo_s * 0.75,
        startup_s=c.startup_s,
        scale_up_cooldown_s=30.0,
        scale_down_cooldown_s=300.0,
        scale_down_window_s=600.0,
        forecast_down_window_s=120.0,  # 0 s: 2 requests waited past the SLO on the daily trace
    )


def bucket_rates(times: np.ndarray, days: int, bucket_s: float) -> list[float]:
    counts, _ = np.histogram(times, bins=np.arange(0, days * DAY + bucket_s / 2, bucket_s))
    return list(counts / bucket_s)


def replay_trace(c: Conditions, trace: Trace, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    days = c.history_days + 1
    times = arrivals(trace.rate, days, rng)
    history_times = times[times < c.history_days * DAY]
    day = times[times >= c.history_days * DAY] - c.history_days * DAY
    service = rng.lognormal(
        math.log(c.service_mean_s) - c.service_sigma**2 / 2, c.service_sigma, day.size
    )
    history = bucket_rates(history_times, c.history_days, c.bucket_s)
    policy = policy_for(c)
    peak = float(np.max(trace.rate(np.arange(c.history_days * DAY, days * DAY, 60.0))))
    fixed = min(policy.instances_needed(peak * c.service_mean_s, c.service_mean_s), c.max_instances)
    rows: dict[str, object] = {}
    runs = {
        "fixed peak": {"mode": "fixed", "fixed": fixed},
        "reactive": {"mode": "reactive"},
        "predictive": {"mode": "predictive"},
        "predictive, point forecast": {"mode": "predictive", "upper_quantile": None},
        "predictive, 2 h history": {"mode": "predictive", "forecast_history_s": 7200.0},
    }
    names = list(runs)
    if seed % 2:  # order alternated between seeds (the simulation keeps no state between runs)
        names.reverse()
    for name in names:
        started = time.perf_counter()
        replay = Replay(c, day, service, history, policy, **runs[name])  # type: ignore[arg-type]
        result = replay.run()
        rows[name] = {
            "result": result,
            "wall_s": time.perf_counter() - started,
            "methods": sorted(replay.methods),
            "error": replay.error,
            "margin": float(np.mean(replay.margins)) if replay.margins else None,
        }
    return {"trace": trace, "fixed": fixed, "peak": peak, "rows": {n: rows[n] for n in runs}}


def print_table(c: Conditions, report: list[dict[str, object]], seed: int) -> None:
    print(
        f"Conditions: {c.slots} slots per instance, service lognormal mean {c.service_mean_s:g} s "
        f"(sigma {c.service_sigma:g}), start-up {c.startup_s:g} s, SLO {c.slo_s:g} s end to end, "
        f"503 after {c.max_wait_s:g} s waiting; scaler every {c.tick_s:g} s, forecast "
        f"Holt-Winters on {c.bucket_s:g} s buckets refitted every {c.refit_s:g} s over "
        f"{c.history_days} days of history; one measured day (86,400 simulated s); seed {seed}."
    )
    sizing = (
        "75 % utilisation (scale down at 60 %)"
        if c.queue_wait_s is None
        else f"at most 0.1 % of requests waiting over {c.queue_wait_s:g} s for a slot (Erlang C;"
        " scale down at 0.01 %)"
    )
    print(f"Instances (fixed peak's too) sized for {sizing}.")
    print(
        "Violations = share of requests over the SLO or refused (503); 'waited': over the SLO "
        "because of the wait for a slot (the rest took longer than the SLO to generate alone)."
    )
    header = (
        f"{'trace':<17}{'policy':<28}{'requests':>9}{'over SLO':>9}{'waited':>7}{'503':>6}"
        f"{'violations':>11}{'inst-h':>8}{'vs fixed':>9}{'peak':>5}{'forecast':>26}"
    )
    print(header)
    print("-" * len(header))
    for entry in report:
        trace = entry["trace"]
        rows = entry["rows"]
        fixed_hours = rows["fixed peak"]["result"].instance_hours  # type: ignore[index]
        for name, row in rows.items():  # type: ignore[union-attr]
            r: Result = row["result"]
            methods = ",".join(row["methods"]) or "-"
            print(
                f"{trace.name:<17}{name:<28}{r.requests:>9}{r.over_slo:>9}{r.waited_over:>7}"
                f"{r.shed:>6}"
                f"{r.violations:>10.3%}{r.instance_hours:>8.1f}"
                f"{r.instance_hours / fixed_hours:>9.2f}{r.peak_instances:>5}{methods:>26}"
            )
        print(f"{'':<17}({trace.note}; fixed peak = {entry['fixed']} instances)")
    print()
    print("Forecast error on the measured day (each 5-minute bucket against the forecast")
    print("current before it began; WAPE = total absolute error / total demand):")
    for entry in report:
        for name in ("predictive", "predictive, 2 h history"):
            row = entry["rows"][name]  # type: ignore[index]
            err: ForecastError = row["error"]
            methods = ",".join(row["methods"])
            planned = "" if row["margin"] is None else f"  mean margin {row['margin']:.3f} req/s"
            print(
                f"  {entry['trace'].name:<17}{name:<25} WAPE {err.wape:6.1%}  "  # type: ignore[union-attr]
                f"MAE {err.mae:.3f} req/s  RMSE {err.rmse:.3f} req/s  ({methods}){planned}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="the daily trace only")
    parser.add_argument(
        "--utilisation",
        action="store_true",
        help="size instances at 75 %% utilisation, not for the wait for a slot",
    )
    args = parser.parse_args()
    c = Conditions(queue_wait_s=None) if args.utilisation else Conditions()
    chosen = traces(c)[:1] if args.quick else traces(c)
    started = time.perf_counter()
    report = [replay_trace(c, trace, args.seed) for trace in chosen]
    print_table(c, report, args.seed)
    print(f"\n(wall time {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
