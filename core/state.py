"""The refinement graph's state: what callers send (`InputState`) and what the agents share.

It lives below `nodes/` and `graph/` so that both import it and no import runs back up.
Every field says what it holds and which node writes it.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired, TypedDict

Priority = Literal["high", "normal", "low"]
StopReason = Literal["passed", "max_iterations", "plateau", "budget", "error", "edited", "rejected"]
"""Why a run ended; `edited` and `rejected` are a reviewer's decisions (`core.review`)."""
Severity = Literal["error", "warning"]


class Document(TypedDict):
    """A source document the answer must be grounded in."""

    id: str
    text: str


class Constraints(TypedDict, total=False):
    """Machine-checkable requirements of a request."""

    required_words: list[str]
    """Words the answer must use; an inflected form counts ("runs" uses "run")."""
    max_words: int
    """Upper bound on the answer's length in words."""
    min_words: int
    """Lower bound on the answer's length in words."""
    max_sentences: int
    """Upper bound on the answer's number of sentences."""
    instructions: list[dict[str, Any]]
    """Verifiable instructions given explicitly, each `{"kind": ..., ...}` as
    `core.instructions` defines them (validated at the API)."""


class Passage(TypedDict):
    """A retrieved passage with the document it came from and its fused rank score."""

    doc_id: str
    text: str
    score: float


class Finding(TypedDict):
    """One concrete problem with a draft, from a validator or the critic."""

    source: str
    """Who found it: `required_words`, `length`, `repetition`, `grounding`, `critic`..."""
    severity: Severity
    message: str
    data: NotRequired[list[str]]
    """Machine-readable detail, e.g. the missing words or the unsupported sentences."""


class Validation(TypedDict):
    """The deterministic validators' verdict on the current draft (written by `validate`)."""

    scores: dict[str, float]
    """Each applicable validator's score in [0, 1]."""
    findings: list[Finding]


class Critique(TypedDict):
    """The LLM critic's verdict on the current draft (written by `critique`)."""

    score: float
    """0-10 as the critic gave it."""
    feedback: list[str]
    parsed: bool
    """False when the critic's reply was not valid JSON and was read leniently."""


class IterationRecord(TypedDict):
    """One scored draft: the loop's audit trail (appended by `score`)."""

    iteration: int
    draft: str
    score: float
    components: dict[str, float]
    findings: list[Finding]


class Plan(TypedDict):
    """What the orchestrator decided this request needs (written by `plan`)."""

    retrieve: bool
    summarise: list[str]
    """Ids of documents too long for the context budget, to be summarised."""
    validators: list[str]
    critic: bool
    """Whether the LLM critic runs (its weight in this run is above zero)."""
    instructions: NotRequired[list[dict[str, Any]]]
    """Every verifiable instruction the run checks: those given in `constraints.instructions`
    and those read from the task's words, each a spec's fields plus `read_from` (the words it was
    read from, or "given") so a person sees what the engine thinks was asked."""
    conflicts: NotRequired[list[str]]
    """Instructions that cannot all hold, reported instead of looped on."""
    question: NotRequired[dict[str, Any]]
    """For a question over documents: what it asks for and the facts it needs (a
    `core.questions.plan.QuestionPlan`'s fields)."""


class ModelUsage(TypedDict):
    input_tokens: int
    output_tokens: int
    calls: int


class Usage(TypedDict):
    """Token usage of a run, in total and per node and per model."""

    input_tokens: int
    output_tokens: int
    calls: int
    by_node: dict[str, ModelUsage]
    by_model: dict[str, ModelUsage]


def _add(a: ModelUsage | None, b: ModelUsage) -> ModelUsage:
    a = a or {"input_tokens": 0, "output_tokens": 0, "calls": 0}
    return {
        "input_tokens": a["input_tokens"] + b["input_tokens"],
        "output_tokens": a["output_tokens"] + b["output_tokens"],
        "calls": a["calls"] + b["calls"],
    }


def merge_usage(left: Usage | None, right: Usage | None) -> Usage:
    """Reducer: token usage adds up across nodes, parallel branches and iterations."""
    if not left:
        return right or empty_usage()
    if not right:
        return left
    total = _add(left, right)  # type: ignore[arg-type]
    by_node = dict(left["by_node"])
    for key, value in right["by_node"].items():
        by_node[key] = _add(by_node.get(key), value)
    by_model = dict(left["by_model"])
    for key, value in right["by_model"].items():
        by_model[key] = _add(by_model.get(key), value)
    return {**total, "by_node": by_node, "by_model": by_model}


def empty_usage() -> Usage:
    return {"input_tokens": 0, "output_tokens": 0, "calls": 0, "by_node": {}, "by_model": {}}


def merge_dict(left: dict[str, str] | None, right: dict[str, str] | None) -> dict[str, str]:
    """Reducer: parallel summarisers each add their document's summary."""
    return {**(left or {}), **(right or {})}


class InputState(TypedDict):
    """What a caller sends: the request."""

    task: str
    constraints: NotRequired[Constraints]
    documents: NotRequired[list[Document]]
    config: NotRequired[str]
    """Name of the run configuration preset (`core/presets/NAME.json`); default `refine_default`."""
    priority: NotRequired[Priority]
    review: NotRequired[dict[str, Any]]
    """When to pause for a person (a `core.review.ReviewPolicy`'s fields), over the preset's."""


class OutputState(TypedDict):
    """What a run returns."""

    answer: str
    first_draft: str
    score: float
    confidence: float
    iterations: int
    stop_reason: StopReason
    history: list[IterationRecord]
    usage: Usage
    reviews: NotRequired[list[dict[str, Any]]]


class RefineState(InputState):
    """The whole shared state of a refinement run."""

    plan: NotRequired[Plan]
    """Written by `plan`."""
    passages: NotRequired[list[Passage]]
    """Written by `retrieve`: the passages the answer should rest on, best first."""
    facts: NotRequired[list[dict[str, Any] | None]]
    """Written by `retrieve`: per part of the question, the source sentence stating it (a
    `core.questions.facts.Fact`'s fields), None where no document states it."""
    summaries: NotRequired[Annotated[dict[str, str], merge_dict]]
    """Written by `summarise` (one Send per long document): document id -> summary."""
    draft: NotRequired[str]
    """The draft under review; written by `draft`, then by `refine`."""
    first_draft: NotRequired[str]
    """Written by `draft`: the single-pass answer, kept for comparison."""
    iteration: NotRequired[int]
    """0 for the first draft, +1 per refinement; written by `draft` and `refine`."""
    validation: NotRequired[Validation]
    """Written by `validate`, in parallel with `critique`."""
    critique: NotRequired[Critique | None]
    """Written by `critique` (None when the plan skips the critic)."""
    score: NotRequired[float]
    """Combined score of the current draft in [0, 1]; written by `score`."""
    findings: NotRequired[list[Finding]]
    """The current draft's findings, validators' and critic's; written by `score`."""
    best_draft: NotRequired[str]
    best_score: NotRequired[float]
    best_findings: NotRequired[list[Finding]]
    stale: NotRequired[int]
    """Scored iterations since the best score last improved (for plateau detection)."""
    history: NotRequired[Annotated[list[IterationRecord], operator.add]]
    tried: NotRequired[Annotated[list[str], operator.add]]
    """Appended by `refine`: every word edit asked so far (`nodes.word_edits.WordEdit.key`), so
    no round asks the model the same again."""
    stop_reason: NotRequired[StopReason]
    answer: NotRequired[str]
    confidence: NotRequired[float]
    iterations: NotRequired[int]
    usage: NotRequired[Annotated[Usage, merge_usage]]
    review_request: NotRequired[dict[str, Any]]
    """Written by `request_review`: what the reviewer is shown (a `core.review.ReviewRequest`'s
    fields), the payload of `human_review`'s interrupt."""
    reviews: NotRequired[list[dict[str, Any]]]
    """Written by `human_review` (the list so far, one more each time): every review of the
    run (`core.review.review_record`). A plain value, not a reducer's list: a run never reviewed
    has no `reviews` key at all, so its state is what it was before review existed."""
