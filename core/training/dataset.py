"""The training data set, from the engine's own history: (task, final answer) pairs of runs that
passed their checks, weighted up where a person rated them up, the first draft kept as the
rejected side of a preference pair; deduplicated, split by task, never a held-out row, and
versioned in a manifest (commit, recipe, sources, counts)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.feedback.store import RunRecord
from core.settings import PROJECT_ROOT
from core.training.config import DataConfig, TrainConfig
from core.training.heldout import HeldOut, normalise

TRAIN_FILE, VALIDATION_FILE, PREFERENCE_FILE = "train.jsonl", "validation.jsonl", "preference.jsonl"
MANIFEST_FILE = "manifest.json"

Messages = list[dict[str, str]]
Prompter = Callable[[Mapping[str, Any], str], Messages | None]
"""The chat messages a one-pass run under a preset sends its drafter for a request (the
engine's `nodes.draft.one_pass_messages`), or None where the task as written is the prompt."""


class Example(BaseModel):
    """One task and the answer to learn for it."""

    id: str | None
    """The task's id (a data set's id, or the run's thread id when it had none)."""
    task: str
    documents: list[dict[str, str]] = []
    """The request's source documents (`id`, `text`): a grounded answer is learnt with them."""
    drafter_messages: Messages | None = None
    """What the one-pass drafter sends for the task (see `Prompter`): the student meets it when
    it answers in one pass, so it learns the loop's answer to it. None: the task as a user's
    message."""
    answer: str
    """The chosen side: the run's final, checked answer."""
    rejected: str | None = None
    """The first draft, when it differs from the final answer."""
    score: float | None = None
    weight: int = 1
    """How many times the example counts in an epoch (a person's approval raises it)."""
    approved: bool = False
    source: str = ""
    run_id: str | None = None

    def prompt(self) -> str:
        """The task as the student sees it: the drafter's prompt, else the task after its
        documents, when it has any."""
        if self.drafter_messages:
            return self.drafter_messages[-1]["content"]
        if not self.documents:
            return self.task
        sources = "\n\n".join(f"[{d['id']}] {d['text']}" for d in self.documents)
        return f"Documents:\n{sources}\n\n{self.task}"

    def messages(self) -> Messages:
        asked = self.drafter_messages or [{"role": "user", "content": self.prompt()}]
        return [*asked, {"role": "assistant", "content": self.answer}]


class DataManifest(BaseModel):
    """What produced a data set, and what it holds."""

    version: str
    """A hash of the examples and the recipe: the same history and recipe give the same version."""
    git_commit: str
    git_dirty: bool
    recipe: str
    recipe_fingerprint: str
    data_config: dict[str, Any]
    sources: list[dict[str, Any]]
    held_out: list[dict[str, Any]]
    counts: dict[str, int]
    """train, validation, preference pairs, and every reason a run was dropped."""


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def git_state() -> tuple[str, bool]:
    """The repository's commit and whether its tree has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return git("rev-parse", "HEAD") or "unknown", bool(git("status", "--porcelain"))


def passed_checks(row: dict[str, Any], rules: DataConfig) -> str | None:
    """Why a run's result does not teach (None: it passed its checks)."""
    if row.get("error"):
        return "error"
    if not (row.get("answer") or "").strip():
        return "no answer"
    if row.get("failing"):
        return "failing instructions"
    score = row.get("score")
    if score is None or score < rules.min_score:
        return "score below the minimum"
    return None


def from_results(
    results: Iterable[dict[str, Any]], requests: dict[str, dict[str, Any]], rules: DataConfig,
    dropped: Counter[str], source: str, prompt: Callable[[Mapping[str, Any]], Messages | None],
) -> list[Example]:  # fmt: skip
    """Examples from result rows (`refinery run --output`, an evaluation's results.jsonl), their
    tasks read from the request files by id, each with the prompt `prompt` gives its request."""
    examples = []
    for row in results:
        request = requests.get(str(row.get("id")))
        if request is None:
            dropped["no request for the result"] += 1
            continue
        if reason := passed_checks(row, rules):
            dropped[reason] += 1
            continue
        draft = row.get("first_draft")
        examples.append(
            Example(
                id=str(row["id"]),
                task=request.get("task") or request["prompt"],
                drafter_messages=prompt(request),
                documents=request.get("documents") or [],
                answer=row["answer"],
                rejected=draft if draft and draft.strip() != row["answer"].strip() else None,
                score=row.get("score"),
                source=source,
                run_id=row.get("thread_id"),
            )
        )
    return examples


def verdict(record: RunRecord) -> tuple[str, dict[str, Any]] | None:
    """A person's last word on a run: ("down", {}) for a rejection or a thumbs down,
    ("corrected", {answer, rejected}) for an edit (the text they wrote against the draft they
    were shown), ("up", {}) for an approval or a thumbs up; None when nobody judged it."""
    decided = [r for r in record.reviews if r.get("action") != "feedback"]
    last = decided[-1] if decided else None
    if record.rating == "down" or (last and last["action"] == "reject"):
        return "down", {}
    if last and last["action"] == "edit":
        return "corrected", {"answer": last["corrected"], "rejected": last["draft"]}
    if record.rating == "up" or (last and last["action"] == "approve"):
        return "up", {}
    return None


def apply_feedback(
    examples: list[Example], feedback: Iterable[RunRecord], rules: DataConfig,
    dropped: Counter[str],
) -> list[Example]:  # fmt: skip
    """A person's word on the runs (ratings and reviews): rejected or rated down drops an
    example; approved or rated up weighs it up; corrected (a review's edit) makes the correction
    the answer and the draft they corrected the rejected side. A judged run that no result file
    holds is an example of its own."""
    by_run = {e.run_id: e for e in examples if e.run_id}
    down: set[str] = set()
    for record in feedback:
        judged = verdict(record)
        if judged is None:
            continue
        kind, fields = judged
        if kind == "down":
            down.add(record.run_id)
            continue
        update = {"approved": True, "weight": rules.approved_weight, **fields}
        known = by_run.get(record.run_id)
        if known is not None:
            by_run[record.run_id] = known.model_copy(update=update)
        elif fields or record.answer:
            by_run[record.run_id] = Example(
                id=record.run_id, task=record.task, answer=record.answer or "", score=record.score,
                source="feedback", run_id=record.run_id,
            ).model_copy(update=update)  # fmt: skip
    dropped["rejected or rated down by a person"] += sum(1 for e in examples if e.run_id in down)
    kept = [by_run.get(e.run_id, e) if e.run_id else e for e in examples if e.run_id not in down]
    seen = {e.run_id for e in kept}
    return kept + [e for run_id, e in by_run.items() if run_id not in seen and run_id not in down]


def deduplicate(examples: list[Example], dropped: Counter[str]) -> list[Example]:
    """One example per task (by normalised text): the approved one first, then the best score."""

    def rank(e: Example) -> tuple[bool, float]:
        return (e.approved, e.score if e.score is not None else -1.0)

    best: dict[str, Example] = {}
    for example in examples:
        key = normalise(example.task)
        if key in best:
            dropped["duplicate task"] += 1
            if rank(example) <= rank(best[key]):
                continue
        best[key] = example
    return list(best.values())


def in_validation(task: str, share: float) -> bool:
    """A stable split by task: the task's text hashed to [0, 1)."""
    digest = hashlib.sha256(normalise(task).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def build_dataset(
    out: Path,
    recipe: TrainConfig,
    *,
    results: Sequence[Path] = (),
    requests: Sequence[Path] = (),
    feedback: Iterable[RunRecord] = (),
    held_out: HeldOut | None = None,
    prompter: Prompter | None = None,
) -> DataManifest:
    """Write train.jsonl, validation.jsonl, preference.jsonl and manifest.json into `out`; with
    a `prompter`, each example's prompt is the one its request gets in one pass under the
    recipe's evaluation preset (else the task as written)."""
    rules = recipe.data
    held = held_out or HeldOut.load([*rules.exclude, *recipe.evaluation.sets])
    by_id = {
        str(r.get("id") or r.get("key")): r
        for p in requests
        for r in _jsonl(p)
        if r.get("task") or r.get("prompt")  # side files (key facts) share ids, hold no task
    }
    dropped: Counter[str] = Counter()
    preset = recipe.evaluation.preset

    def prompt(request: Mapping[str, Any]) -> Messages | None:
        task = {**request, "task": request.get("task") or request["prompt"]}
        return prompter(task, preset) if prompter else None

    examples: list[Example] = []
    for path in results:
        examples += from_results(_jsonl(path), by_id, rules, dropped, path.name, prompt)
    examples = deduplicate(apply_feedback(examples, feedback, rules, dropped), dropped)
    kept = [e for e in examples if not held.holds(e.id, e.task)]
    dropped["held-out task"] += len(examples) - len(kept)
    held.check([(e.id, e.task) for e in kept])
    kept.sort(key=lambda e: normalise(e.task))
    validation = [e for e in kept if in_validation(e.task, rules.validation_share)]
    train = [e for e in kept if not in_validation(e.task, rules.validation_share)]
    pairs = [e for e in kept if e.rejected]
    held_back = {normalise(e.task) for e in validation}
    out.mkdir(parents=True, exist_ok=True)
    body = ""
    for name, rows in ((TRAIN_FILE, train), (VALIDATION_FILE, validation)):
        text = "".join(
            json.dumps({"messages": e.messages(), **e.model_dump()}, ensure_ascii=False) + "\n"
            for e in rows
        )
        (out / name).write_text(text)
        body += text
    (out / PREFERENCE_FILE).write_text(
        "".join(
            json.dumps(
                {"messages": e.messages()[:-1], "prompt": e.prompt(), "chosen": e.answer,
                 "rejected": e.rejected, "id": e.id,
                 "split": "validation" if normalise(e.task) in held_back else "train"},
                ensure_ascii=False,
            ) + "\n"
            for e in pairs
        )
    )  # fmt: skip
    commit, dirty = git_state()
    version = hashlib.sha256((body + recipe.fingerprint()).encode()).hexdigest()[:12]
    manifest = DataManifest(
        version=version,
        git_commit=commit,
        git_dirty=dirty,
        recipe=recipe.name,
        recipe_fingerprint=recipe.fingerprint(),
        data_config=rules.model_dump(mode="json"),
        sources=[{"path": str(p), "sha256": _sha(p)} for p in [*results, *requests]],
        held_out=held.sources,
        counts={
            "train": len(train),
            "train_weighted": sum(e.weight for e in train),
            "validation": len(validation),
            "preference_pairs": len(pairs),
            "approved": sum(1 for e in kept if e.approved),
            **{f"dropped: {k}": v for k, v in sorted(dropped.items()) if v},
        },
    )
    (out / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n")
    return manifest
