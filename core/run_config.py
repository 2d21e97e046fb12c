"""The run configuration: everything one refinement run can vary, loaded from named presets.

A preset is a JSON file in `core/presets/` (or in `Settings.presets_dir`), so an A/B variant is
a file, not code. `fingerprint()` identifies a configuration in evaluation results.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.review import ReviewPolicy
from core.settings import get_settings

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
DEFAULT_CONFIG = "refine_default"
Role = Literal["draft", "critique", "refine", "rewrite", "summarise"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleModel(_Frozen):
    """Which model plays a role, and how."""

    model: str | None = None
    """Model name at the endpoint; None means the deployment's default model."""
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(256, ge=1, le=32_768)
    seed: int | None = 0
    """Fixed seed, so a warm role's call is still reproducible and cacheable."""


class Roles(_Frozen):
    draft: RoleModel = RoleModel(temperature=0.7, max_tokens=200)
    critique: RoleModel = RoleModel(temperature=0.0, max_tokens=200)
    refine: RoleModel = RoleModel(temperature=0.3, max_tokens=80)
    """Small sub-tasks: one sentence for a few words, one restated sentence."""
    rewrite: RoleModel = RoleModel(temperature=0.3, max_tokens=300)
    """Whole rewrites from the critic's feedback, when nothing checkable is wrong."""
    summarise: RoleModel = RoleModel(temperature=0.0, max_tokens=200)


class Budgets(_Frozen):
    """Token budgets (estimated tokens) that keep prompts small and flat across iterations."""

    context_tokens: int = Field(900, ge=50)
    """Retrieved context handed to the drafter and refiner."""
    document_tokens: int = Field(300, ge=20)
    """A document longer than this is summarised before it enters the context."""
    passages: int = Field(3, ge=1, le=50)
    """How many retrieved passages the context holds at most."""
    run_tokens: int | None = Field(None, ge=100)
    """Hard cap on a run's total tokens: refinement stops once it is spent."""


class ScorerWeights(_Frozen):
    """How validator scores and the critic's score combine into one score in [0, 1]."""

    required_words: float = Field(1.0, ge=0)
    length: float = Field(0.5, ge=0)
    repetition: float = Field(0.5, ge=0)
    grounding: float = Field(1.0, ge=0)
    citations: float = Field(0.5, ge=0)
    instructions: float = Field(2.0, ge=0)
    """The share of the request's verifiable instructions the answer follows."""
    content: float = Field(1.0, ge=0)
    """The content guard: a repair must not hollow the answer out to satisfy a rule."""
    answer: float = Field(2.0, ge=0)
    """Whether a grounded answer answers its question: the kind of answer, every fact it
    needs, a comparison's conclusion, and declining what the documents do not hold."""
    critic_checkable: float = Field(0.0, ge=0)
    """Critic weight when the request has checkable constraints (small models judge poorly)."""
    critic_free: float = Field(1.0, ge=0)
    """Critic weight when nothing is checkable, so the critic is the only judge."""


class RefineStrategy(_Frozen):
    group_size: int = Field(4, ge=1, le=10)
    """Missing words handed to the model per small sentence-writing sub-task."""
    max_groups: int = Field(6, ge=1, le=50)
    """Sub-tasks per refinement round at most."""
    read_with_model: bool = True
    """Whether the plan asks the model for instructions in sentences its rules did not read
    (one JSON-mode call, only when such a sentence exists)."""
    chain_with_model: bool = True
    """Whether the plan asks the model for the look-ups of a grounded question that the rules
    read as one fact though it describes a thing in a clause of its own ("the town where X is
    based - how many people live there?"): one JSON-mode call, trusted only for a chain it can
    check (`core.questions.chains`)."""
    weave_words: bool = True
    """Whether missing required words are first woven into the sentences most about them
    (reworded in place) before any gets a sentence of its own (which continues the sentence most
    about its words, right after it, either way). On by default since word drafts follow a plan
    (`nodes.draft.word_plan`) and leave fewer words to weave; off, every missing group gets a
    sentence of its own (fewer tokens, more sentences)."""
    redraft_lists: bool = True
    """Whether a word draft that strings the words together with commas is written again once
    as a story (it shares the run's one redraft with a draft that ignored its plan). On by
    default: measured on 30 CommonGen-Hard dev tasks, all words used in 0.77 of tasks against
    0.57 off, no word list left as the answer (5 of 30 off), fewer tokens (1,364 against 1,462
    a task)."""


class ConfidenceModel(_Frozen):
    """Logistic model of P(answer is right) from the run's evidence; refit it from evaluations."""

    intercept: float = -4.0
    validators: float = 6.0
    """Weight of the mean validator score in [0, 1]."""
    critic: float = 1.0
    """Weight of the critic's score in [0, 1] (0 when no critic ran)."""
    errors: float = -0.5
    """Weight per error finding left in the answer."""
    passed: float = 1.5
    """Weight of the answer having passed the threshold."""


class RunConfig(_Frozen):
    """One refinement run's configuration."""

    name: str = DEFAULT_CONFIG
    description: str = ""
    roles: Roles = Roles()
    score_threshold: float = Field(0.95, ge=0.0, le=1.0)
    """A draft whose combined score reaches this (and has no error finding) passes."""
    max_iterations: int = Field(4, ge=0, le=50)
    """Refinement rounds at most; 0 is a single pass."""
    plateau_patience: int = Field(2, ge=1, le=50)
    """Stop after this many rounds without the best score improving by `min_improvement`."""
    min_improvement: float = Field(0.005, ge=0.0, le=1.0)
    retrieval: Literal["search", "every_document"] = "search"
    """How passages are chosen: the best matches of a search (by part for a question of
    several), or every document in the request's order (the stuffing baseline)."""
    budgets: Budgets = Budgets()
    weights: ScorerWeights = ScorerWeights()
    refine: RefineStrategy = RefineStrategy()
    confidence: ConfidenceModel = ConfidenceModel()
    review: ReviewPolicy = ReviewPolicy()
    """When a run pauses for a person before its answer is final (never, by default); a
    request's own `review` overrides it."""

    def fingerprint(self) -> str:
        """A short stable hash of every value, for stamping results (a review policy left at
        `never` is not hashed: presets written before review existed keep their fingerprint)."""
        unreviewed = {"review"} if self.review == ReviewPolicy() else None
        body = json.dumps(self.model_dump(mode="json", exclude=unreviewed), sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:12]


def _preset_dirs() -> list[Path]:
    extra = get_settings().presets_dir
    return [extra, PRESETS_DIR] if extra else [PRESETS_DIR]


def preset_names() -> list[str]:
    """Every known preset name, sorted."""
    return sorted({p.stem for d in _preset_dirs() if d.is_dir() for p in d.glob("*.json")})


class UnknownConfigError(ValueError):
    """A run asked for a preset that does not exist."""


@lru_cache(maxsize=64)
def load_config(name: str = DEFAULT_CONFIG) -> RunConfig:
    """The named preset, validated; raises `UnknownConfigError` listing the known names."""
    for directory in _preset_dirs():
        path = directory / f"{name}.json"
        if path.is_file():
            data = json.loads(path.read_text())
            return RunConfig.model_validate({"name": name, **data})
    known = ", ".join(preset_names())
    raise UnknownConfigError(f"unknown configuration {name!r}; known: {known}")
