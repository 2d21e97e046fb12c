"""Held-out evaluation rows, never trained on: known by task id and by normalised text, from the
repository's held-out sets and from the rows a recipe names (e.g. the first 30 dev tasks a
student is evaluated on)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import PROJECT_ROOT
from core.training.config import Exclusion

REPO_HELDOUT = sorted((PROJECT_ROOT / "evals" / "data").glob("*heldout*.jsonl"))
"""The repository's own held-out sets: excluded from every data set."""


def normalise(text: str) -> str:
    """Text as compared for leaks: case-folded, whitespace collapsed."""
    return re.sub(r"\s+", " ", text).strip().casefold()


class HeldOutLeakError(ValueError):
    """A training example is a held-out evaluation row."""


@dataclass
class HeldOut:
    """Ids and normalised texts of every held-out row."""

    ids: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)
    sources: list[dict[str, object]] = field(default_factory=list)

    @classmethod
    def load(cls, exclusions: list[Exclusion], repo_sets: list[Path] | None = None) -> HeldOut:
        held = cls()
        every = [Exclusion(path=p) for p in (REPO_HELDOUT if repo_sets is None else repo_sets)]
        for exclusion in [*every, *exclusions]:
            if not exclusion.path.is_file():
                raise FileNotFoundError(f"held-out set {exclusion.path} does not exist")
            lines = [ln for ln in exclusion.path.read_text().splitlines() if ln.strip()]
            rows = [json.loads(ln) for ln in lines][: exclusion.first]
            for row in rows:
                for key in ("id", "key"):
                    if row.get(key) is not None:
                        held.ids.add(str(row[key]))
                text = row.get("task") or row.get("prompt")
                if text:
                    held.texts.add(normalise(text))
            held.sources.append({"path": str(exclusion.path), "rows": len(rows)})
        return held

    def holds(self, task_id: str | None, task: str) -> bool:
        """Whether a task is held out, by id or by text."""
        return (task_id is not None and task_id in self.ids) or normalise(task) in self.texts

    def check(self, tasks: list[tuple[str | None, str]]) -> None:
        """Raise `HeldOutLeakError` if any (id, task) is held out (the last guard before a data
        set is written)."""
        leaks = [task_id or task[:40] for task_id, task in tasks if self.holds(task_id, task)]
        if leaks:
            raise HeldOutLeakError(f"{len(leaks)} held-out tasks in the data set: {leaks[:5]}")
