"""What a scenario reports: requests sent, completed and failed (by reason), threads interrupted
and resumed, data lost, extra figures, and the checks that held or did not."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Check:
    claim: str
    held: bool
    detail: str = ""


@dataclass
class Scenario:
    name: str
    tried: str
    sent: int = 0
    completed: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    """Reason (status and error type) -> count, of requests that did not complete."""
    interrupted: int = 0
    resumed: int = 0
    lost: int = 0
    """Things that were acknowledged or checkpointed and then missing: must stay 0."""
    figures: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    def check(self, claim: str, held: bool, detail: str = "") -> bool:
        self.checks.append(Check(claim, bool(held), detail))
        return bool(held)

    def count(self, status: int, error_type: str | None, ok: bool) -> None:
        """Count one answer: completed when `ok`, else failed under `status error_type`."""
        self.sent += 1
        if ok:
            self.completed += 1
        else:
            self.failed[f"{status} {error_type or ''}".strip()] += 1

    @property
    def held(self) -> bool:
        return self.lost == 0 and all(c.held for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failed"] = dict(self.failed)
        data["held"] = self.held
        return data


def render(scenarios: list[Scenario]) -> str:
    """The printed report: one block per scenario, then the totals."""
    lines = []
    for s in scenarios:
        verdict = "HELD" if s.held else "BROKEN"
        lines.append(f"== {s.name}: {verdict} ({s.seconds:.0f} s)")
        lines.append(f"   tried: {s.tried}")
        failed = ", ".join(f"{k} x{v}" for k, v in sorted(s.failed.items())) or "none"
        lines.append(
            f"   requests sent {s.sent}, completed {s.completed}, "
            f"failed {sum(s.failed.values())} ({failed})"
        )
        if s.interrupted or s.resumed:
            lines.append(f"   threads interrupted {s.interrupted}, resumed {s.resumed}")
        lines.append(f"   data lost: {s.lost}")
        for key, value in s.figures.items():
            lines.append(f"   {key}: {value}")
        for c in s.checks:
            mark = "ok  " if c.held else "FAIL"
            lines.append(f"   [{mark}] {c.claim}" + (f" ({c.detail})" if c.detail else ""))
    total_lost = sum(s.lost for s in scenarios)
    held = sum(s.held for s in scenarios)
    lines.append(f"== {held}/{len(scenarios)} scenarios held; data lost in all: {total_lost}")
    return "\n".join(lines)
