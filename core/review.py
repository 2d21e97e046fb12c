"""A person in the loop: when a run pauses for review (`ReviewPolicy`, from the preset and the
request), what the reviewer is shown (`ReviewRequest`, the `interrupt` payload), what they may
answer (`ReviewDecision`, the typed `Command(resume=...)` value, validated by LangGraph's own
`interrupt(response_schema=...)`), what a review leaves in the state (`review_record`), and the
preference pairs reviews make for fine-tuning (`preference_pairs`).

It lives below `nodes/` and `api/` so the graph, the HTTP schemas and the CLI share one
definition of each."""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    model_validator,
)

__all__ = [
    "ACTIONS",
    "Approve",
    "Decision",
    "Edit",
    "Feedback",
    "Reject",
    "ReviewDecision",
    "ReviewPolicy",
    "ReviewRequest",
    "preference_pairs",
    "review_record",
    "word_diff",
]

MAX_ANSWER_CHARS = 20_000
MAX_NOTE_CHARS = 4_000
MAX_CHANGES = 20
MAX_CHANGE_CHARS = 500
ACTIONS = ("approve", "edit", "feedback", "reject")

ReviewWhen = Literal["never", "always", "uncertain"]
Note = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CHANGE_CHARS)
]


class ReviewPolicy(BaseModel):
    """When a run pauses for a person before its answer is final."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: ReviewWhen = Field(
        "never",
        description="`never` (the default: the engine decides alone), `always` (before every "
        "answer is final), or `uncertain` (when the confidence is under `confidence_below` or "
        "the loop stopped without passing).",
    )
    confidence_below: float = Field(
        0.5, ge=0.0, le=1.0, description="With `uncertain`: review a confidence under this."
    )


def review_reason(
    policy: ReviewPolicy, confidence: float | None, stop_reason: str | None
) -> str | None:
    """Why this answer goes to a person under `policy`, in words; None: it does not."""
    if policy.when == "always":
        return "every answer is reviewed (review: always)"
    if policy.when != "uncertain":
        return None
    if stop_reason != "passed":
        return f"the loop stopped without passing ({stop_reason})"
    if confidence is not None and confidence < policy.confidence_below:
        return f"confidence {confidence:.2f} is under {policy.confidence_below:.2f}"
    return None


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Approve(_Decision):
    """Finish with the answer as it is."""

    action: Literal["approve"]
    comment: str | None = Field(None, max_length=MAX_NOTE_CHARS)


class Edit(_Decision):
    """Replace the answer with the reviewer's text: it is scored, and it is the answer."""

    action: Literal["edit"]
    text: str = Field(
        min_length=1, max_length=MAX_ANSWER_CHARS, description="The corrected answer, in full."
    )
    comment: str | None = Field(None, max_length=MAX_NOTE_CHARS)


class Feedback(_Decision):
    """Tell the loop what is still wrong: it refines again with this as the critic's findings
    (and may pause again)."""

    action: Literal["feedback"]
    text: str | None = Field(None, max_length=MAX_NOTE_CHARS, description="What is wrong.")
    changes: list[Note] = Field(
        default_factory=list,
        max_length=MAX_CHANGES,
        description=f"Concrete changes, one each (at most {MAX_CHANGES}, "
        f"{MAX_CHANGE_CHARS} characters each).",
    )

    @model_validator(mode="after")
    def _says_something(self) -> Feedback:
        if not (self.text or self.changes):
            raise ValueError(
                "feedback needs `text` (what is wrong) or `changes` (a list of concrete changes)"
            )
        return self

    def notes(self) -> list[str]:
        """Each thing to change, as the refiner's findings."""
        return ([self.text] if self.text else []) + list(self.changes)


class Reject(_Decision):
    """Finish without accepting the answer: the stop reason is `rejected`."""

    action: Literal["reject"]
    reason: str | None = Field(None, max_length=MAX_NOTE_CHARS)


Decision = Annotated[Approve | Edit | Feedback | Reject, Field(discriminator="action")]


class ReviewDecision(RootModel[Decision]):
    """A reviewer's answer to a paused run: `{"action": "approve" | "edit" | "feedback" |
    "reject", ...}`."""


class ReviewRequest(BaseModel):
    """What a paused run shows its reviewer (the `interrupt` payload)."""

    round: int = Field(description="1 for the first review of the run, +1 per later one.")
    why: str = Field(description="Why this answer goes to a person.")
    draft: str = Field(description="The current best answer.")
    score: float
    confidence: float | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)
    stop_reason: str | None = Field(None, description="Why the loop stopped.")
    iteration: int = 0
    scores: list[float] = Field(
        default_factory=list, description="The score of every iteration so far."
    )
    requested_at: float = Field(description="When it paused (Unix seconds).")
    actions: list[str] = Field(default_factory=lambda: list(ACTIONS))


def word_diff(before: str, after: str) -> list[dict[str, str]]:
    """The word-level changes from `before` to `after`: `{"op", "from", "to"}` each."""
    a, b = before.split(), after.split()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [
        {"op": op, "from": " ".join(a[i1:i2]), "to": " ".join(b[j1:j2])}
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
        if op != "equal"
    ]


def review_record(request: ReviewRequest, decision: Decision, decided_at: float) -> dict[str, Any]:
    """What one review leaves in the run's state (`reviews`): the draft shown, the decision,
    the correction and its word diff for an edit, and how long the run waited."""
    record: dict[str, Any] = {
        "round": request.round,
        "action": decision.action,
        "draft": request.draft,
        "score": request.score,
        "iteration": request.iteration,
        "requested_at": request.requested_at,
        "decided_at": decided_at,
        "waited_s": round(max(0.0, decided_at - request.requested_at), 3),
    }
    if isinstance(decision, Edit):
        record |= {"corrected": decision.text, "diff": word_diff(request.draft, decision.text)}
    elif isinstance(decision, Feedback):
        record |= {"notes": decision.notes()}
    elif isinstance(decision, Reject) and decision.reason:
        record["reason"] = decision.reason
    if getattr(decision, "comment", None):
        record["comment"] = decision.comment
    return record


def preference_pairs(task: str, reviews: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """(draft, corrected) pairs from a run's reviews: an edit prefers the reviewer's text to
    the draft they were shown; feedback prefers the answer the reviewer accepted next (approved
    or edited) to the draft the feedback was about. A rejection makes no pair."""
    pairs = []
    for index, review in enumerate(reviews):
        if review["action"] == "edit":
            pairs.append(_pair(task, review, review["corrected"], "edit"))
        elif review["action"] == "feedback":
            later = next((r for r in reviews[index + 1 :] if r["action"] != "feedback"), None)
            if later is not None and later["action"] in ("approve", "edit"):
                accepted = later.get("corrected") or later["draft"]
                pairs.append(_pair(task, review, accepted, "feedback"))
    return [p for p in pairs if p["chosen"] != p["rejected"]]


def _pair(task: str, review: dict[str, Any], chosen: str, kind: str) -> dict[str, Any]:
    pair = {
        "prompt": task,
        "chosen": chosen,
        "rejected": review["draft"],
        "kind": kind,
        "round": review["round"],
    }
    if review.get("notes"):
        pair["notes"] = review["notes"]
    return pair
