"""Model server instances on this machine that follow a group's desired count: each one is a
process on its own loopback port (a `llama-server` on the embedded model's file, or any server
of the OpenAI protocol a command starts), joins the group's balancers once it answers, and is
drained (no new calls; the calls in flight end) before it is stopped. An instance starts only
while the machine's available memory holds it beside a reserve.

The group's capacity is counted in slots (requests served at once). Given a range of slots, the
fleet starts each instance with the slots the group still lacks, within the range and the memory
(every slot's KV cache costs memory), and it joins the balancers with a weight and a slot limit
in proportion; a server's slots are fixed at its start, so capacity changes by instances."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from core.llm.pooled import PooledChatModel, Target
from core.processes import free_port, stop_process
from core.scaling.metrics import INSTANCES
from core.scaling.scaler import ScalingPolicy
from core.settings import Settings

__all__ = [
    "Instance",
    "LocalFleet",
    "available_memory",
    "llama_server_command",
    "llama_server_fleet",
    "llama_server_memory",
    "llama_server_slot_bytes",
]

log = logging.getLogger(__name__)

Command = Callable[[int, int], list[str]]
"""The command line of one instance listening on the given loopback port with the given
number of parallel slots."""
Balancers = Callable[[], list[PooledChatModel]]
"""The group's balancers now (every role's pool of the group)."""

State = Literal["starting", "serving", "draining", "stopping"]


def available_memory() -> int:
    """Bytes the kernel says new processes can have (`MemAvailable` in /proc/meminfo)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def llama_server_command(settings: Settings) -> Command:
    """`llama-server` on the embedded model's file, as `LocalModelServer` runs it (its own
    port and slots, no lock: the instance belongs to the fleet, not to the data directory)."""
    from core.llm.local_server import LocalModelServer

    def command(port: int, slots: int) -> list[str]:
        server = LocalModelServer(settings, shared=False)
        server.port = port
        server.slots = slots
        return server.command()

    return command


KV_BYTES_PER_TOKEN = 28 * 1024
"""Qwen2.5-1.5B's KV cache per token: 28 layers x 2 x 256 x f16."""


def llama_server_slot_bytes(
    settings: Settings, kv_bytes_per_token: int = KV_BYTES_PER_TOKEN
) -> int:
    """An estimate of one slot's memory in a `llama-server`: the KV cache of its context."""
    return settings.local_context * kv_bytes_per_token


def llama_server_memory(
    settings: Settings, slots: int | None = None, kv_bytes_per_token: int = KV_BYTES_PER_TOKEN
) -> int:
    """An estimate of one `llama-server`'s memory: its model file, and a KV cache of every
    slot's context (`slots`; None: the local server's, `REFINERY_LOCAL_PARALLEL`)."""
    from core.llm.local_model import model_file
    from core.llm.local_server import default_slots

    _, path = model_file(settings)
    if slots is None:
        slots = settings.local_parallel or default_slots()
    return path.stat().st_size + slots * llama_server_slot_bytes(settings, kv_bytes_per_token)


@dataclass
class Instance:
    """One instance process the fleet runs."""

    port: int
    process: subprocess.Popen[bytes]
    slots: int = 1
    """Requests it serves at once (fixed for the life of the process)."""
    state: State = "starting"
    started: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


class LocalFleet:
    """Instances of one endpoint group beyond its permanent members (`base` of them, never
    stopped here), started and drained so that the group has the slots of `apply(desired)`
    instances of `unit_slots` each.

    Without `slot_range` every instance has `unit_slots` slots and joins with `weight` and the
    pool's slot limit (so the count is of instances). With it, a new instance gets the slots
    the group lacks, within the range and what the memory holds (`instance_bytes` and
    `slot_bytes` per slot), and joins with `weight` per `unit_slots` slots and its own slot
    limit; `base_slots` are the permanent members' slots together."""

    def __init__(
        self,
        group: str,
        command: Command,
        balancers: Balancers,
        *,
        base: int = 1,
        ready_path: str = "/health",
        api_key: str = "local",
        weight: float = 1.0,
        unit_slots: int = 1,
        slot_range: tuple[int, int] | None = None,
        base_slots: int | None = None,
        instance_bytes: int = 0,
        slot_bytes: int = 0,
        reserve_bytes: int = 0,
        memory: Callable[[], int] = available_memory,
        start_timeout_s: float = 180.0,
        drain_timeout_s: float = 600.0,
        poll_s: float = 0.05,
        log_dir: Path | None = None,
    ) -> None:
        self.group = group
        self.command = command
        self.balancers = balancers
        self.base = base
        self.ready_path = ready_path
        self.api_key = api_key
        self.weight = weight
        self.unit_slots = unit_slots
        if slot_range is not None and not 1 <= slot_range[0] <= slot_range[1]:
            raise ValueError(f"slot range {slot_range} is not 1 <= fewest <= most")
        self.slot_range = slot_range
        self.base_slots = base * unit_slots if base_slots is None else base_slots
        self.instance_bytes = instance_bytes
        self.slot_bytes = slot_bytes
        self.reserve_bytes = reserve_bytes
        self.memory = memory
        self.start_timeout_s = start_timeout_s
        self.drain_timeout_s = drain_timeout_s
        self.poll_s = poll_s
        self.log_dir = log_dir
        self.instances: list[Instance] = []
        self.refused_for_memory = 0
        """Starts the fleet did not make because the memory would not hold the instance."""
        self._tasks: set[asyncio.Task[None]] = set()

    # --- what the scaler sees ------------------------------------------------------------------

    def count(self, *states: State) -> int:
        return sum(1 for i in self.instances if i.state in states)

    def current(self) -> int:
        """Instances of the group that serve or will: the base, starting and serving ones."""
        return self.base + self.count("starting", "serving")

    def starting(self) -> int:
        return self.count("starting")

    def current_slots(self) -> int:
        """Slots of the group that serve or will: the base's, starting and serving ones'."""
        return self.base_slots + sum(
            i.slots for i in self.instances if i.state in ("starting", "serving")
        )

    # --- applying a decision -------------------------------------------------------------------

    async def apply(self, desired: int) -> None:
        """Start or drain instances until the group has the slots of `desired` instances of
        `unit_slots` (never fewer than the base's); returns at once: starts and drains go on in
        the background (`settled()` awaits them). Capacity beyond that stays where no instance
        is small enough to go without falling below it."""
        self._sync()
        wanted = max(desired * self.unit_slots, self.base_slots)
        for instance in self.instances:  # a draining instance serves again before a new one
            if self.current_slots() < wanted and instance.state == "draining":
                instance.state = "serving"
                self._join(instance)
        while (lacking := wanted - self.current_slots()) > 0:
            slots = self._size(lacking)
            if slots is None:
                self.refused_for_memory += 1
                log.warning(
                    "%s: not starting instance %d: the memory would not hold it",
                    self.group,
                    self.current() + 1,
                )
                break
            self._spawn(self._bring_up(self._launch(slots)))
        surplus = self.current_slots() - wanted
        # starting ones go first (they serve nobody yet), then the newest serving ones
        for instance in sorted(
            (i for i in self.instances if i.state in ("starting", "serving")),
            key=lambda i: (i.state == "serving", -i.started),
        ):
            if instance.slots <= surplus:
                surplus -= instance.slots
                self._spawn(self._stop(instance))
        self._gauges()

    async def settled(self, timeout_s: float | None = None) -> None:
        """Wait until every start and drain under way has finished."""
        async with asyncio.timeout(timeout_s):
            while self._tasks:
                await asyncio.wait(set(self._tasks))

    async def aclose(self) -> None:
        """Stop every instance (draining them first, within `drain_timeout_s`)."""
        await self.apply(0)  # down to the base's slots, whatever a unit holds
        await self.settled(self.drain_timeout_s + 10)

    # --- internals -----------------------------------------------------------------------------

    def _spawn(self, coroutine: object) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _bytes(self, slots: int) -> int:
        return self.instance_bytes + slots * self.slot_bytes

    def _size(self, lacking: int) -> int | None:
        """Slots for a new instance when the group lacks `lacking`: `unit_slots` without a
        range; with one, `lacking` within it, fewer where the memory holds no more. None: the
        memory beside the reserve holds not even the fewest."""
        low, high = self.slot_range or (self.unit_slots, self.unit_slots)
        slots = min(max(lacking, low), high)
        if not (self.instance_bytes or self.slot_bytes):
            return slots
        pending = sum(self._bytes(i.slots) for i in self.instances if i.state == "starting")
        room = self.memory() - pending - self.reserve_bytes - self.instance_bytes
        if self.slot_bytes:  # not resident yet: `pending`
            slots = min(slots, room // self.slot_bytes)
        return slots if room >= 0 and slots >= low else None

    def _launch(self, slots: int) -> Instance:
        """Start one instance's process with `slots` (listed at once, as starting)."""
        port = free_port()
        args = self.command(port, slots)
        out = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = (self.log_dir / f"{self.group}-{port}.log").open("ab")  # type: ignore[assignment]
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        if out is not subprocess.DEVNULL:
            out.close()  # type: ignore[union-attr]
        instance = Instance(port=port, process=process, slots=slots, started=time.monotonic())
        self.instances.append(instance)
        return instance

    async def _bring_up(self, instance: Instance) -> None:
        """Wait until `instance` answers, then let it join the balancers."""
        answered = await self._wait_ready(instance)
        if instance.state != "starting":  # scaled down while it started: `_stop` has it
            return
        if not answered:
            log.error("%s: instance on port %d did not answer; stopped", self.group, instance.port)
            await self._terminate(instance)
            return
        instance.state = "serving"
        self._join(instance)
        self._gauges()
        log.info("%s: instance %s serving", self.group, instance.base_url)

    async def _wait_ready(self, instance: Instance) -> bool:
        root = instance.base_url.removesuffix("/v1")
        deadline = time.monotonic() + self.start_timeout_s
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if instance.process.poll() is not None or instance.state != "starting":
                    return False
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(root + self.ready_path)).status_code == 200:
                        return True
                await asyncio.sleep(self.poll_s)
        return False

    def _live(self) -> list[PooledChatModel]:
        """The balancers that have resolved their endpoints (asking one that has not would
        start the embedded server from this event loop; `_sync` joins it later)."""
        return [balancer for balancer in self.balancers() if balancer.resolved_urls()]

    def _join(self, instance: Instance) -> None:
        target = Target(
            base_url=instance.base_url,
            api_key=self.api_key,
            weight=self.weight * instance.slots / self.unit_slots,
            slots=instance.slots if self.slot_range is not None else None,
        )
        for balancer in self._live():
            balancer.join(target)

    def _sync(self) -> None:
        """Balancers made since an instance joined learn of it too (roles build theirs lazily)."""
        for instance in self.instances:
            if instance.state == "serving":
                self._join(instance)

    async def _stop(self, instance: Instance) -> None:
        if instance.state == "starting":
            instance.state = "stopping"  # `_bring_up` sees it and leaves it out
            await self._terminate(instance)
            return
        instance.state = "draining"
        self._gauges()
        for balancer in self._live():
            balancer.drain(instance.base_url)
        deadline = time.monotonic() + self.drain_timeout_s
        while self._in_flight(instance) and time.monotonic() < deadline:
            await asyncio.sleep(self.poll_s)
            if instance.state != "draining":  # taken back into service meanwhile
                return
        if instance.state != "draining":
            return
        instance.state = "stopping"  # no longer to be taken back into service
        for balancer in self._live():
            balancer.leave(instance.base_url)
        await self._terminate(instance)
        log.info("%s: instance %s drained and stopped", self.group, instance.base_url)

    def _in_flight(self, instance: Instance) -> int:
        return sum(b.in_flight(instance.base_url) for b in self._live())

    async def _terminate(self, instance: Instance) -> None:
        await asyncio.to_thread(stop_process, instance.process, 10)
        with contextlib.suppress(ValueError):
            self.instances.remove(instance)
        self._gauges()

    def _gauges(self) -> None:
        for state in ("starting", "serving", "draining", "stopping"):
            INSTANCES.labels(self.group, state).set(self.count(state))  # type: ignore[arg-type]


def llama_server_fleet(settings: Settings, balancers: Balancers) -> LocalFleet:
    """The `llama-server` instances beyond the local tier's own (`base`, which keeps its
    slots): each with that server's slots, or, with `max_slots_per_instance` in the scaling
    policy, with the slots the group lacks counted in `slots_per_instance` units. Reads the
    model file's size (call it off the event loop)."""
    from core.llm.local_server import default_slots

    policy = ScalingPolicy.model_validate(settings.scaling_policy)
    own = settings.local_parallel or default_slots()
    slot_range = None
    if policy.max_slots_per_instance is not None:
        slot_range = (policy.min_slots_per_instance, policy.max_slots_per_instance)
    unit = policy.slots_per_instance if slot_range else own
    return LocalFleet(
        "local",
        llama_server_command(settings),
        balancers,
        base=1,
        ready_path="/health",
        weight=unit / own,  # the local tier's own server weighs 1 for its `own` slots
        unit_slots=unit,
        slot_range=slot_range,
        base_slots=own,
        instance_bytes=llama_server_memory(settings, slots=0),
        slot_bytes=llama_server_slot_bytes(settings),
        reserve_bytes=settings.scaling_memory_reserve_mb * 1024 * 1024,
        start_timeout_s=max(180.0, 3 * policy.startup_s),
        drain_timeout_s=settings.local_call_timeout_s,
        poll_s=0.5,
        log_dir=settings.data_dir / "logs",
    )


def python_command(module: str, *args: str, slots_flag: str | None = None) -> Command:
    """`python -m module --port PORT *args` (a server of the OpenAI protocol in Python), and
    `slots_flag SLOTS` where the server takes its slots so."""

    def command(port: int, slots: int) -> list[str]:
        sized = [slots_flag, str(slots)] if slots_flag else []
        return [sys.executable, "-m", module, "--port", str(port), *args, *sized]

    return command
