"""A training run's hyper-parameters, read from named files like the run presets
(`core/training/presets/*.json`), so a training recipe is a file, not code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.settings import PROJECT_ROOT

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
REPO_DATA = PROJECT_ROOT / "evals" / "data"
DEFAULT_TRAINING = "distill_0_5b"
BaseName = Literal["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exclusion(_Frozen):
    """Rows of an evaluation set that are never trained on (matched by task id and by text)."""

    path: Path
    """A JSONL data set (request shape, or IFEval/IFBench's `key`/`prompt`); a relative path is
    read from the repository's root."""
    first: int | None = Field(None, ge=1)
    """Only its first N rows (e.g. the 30 tasks a student is evaluated on); None: every row."""

    @field_validator("path")
    @classmethod
    def _from_root(cls, path: Path) -> Path:
        return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


class DataConfig(_Frozen):
    """Which of the engine's answers become training examples."""

    min_score: float = Field(0.9, ge=0.0, le=1.0)
    """A run passed its checks: no error, no failing instruction, and at least this score."""
    approved_weight: int = Field(2, ge=1, le=10)
    """How many times an answer a person rated up counts (it is repeated in the epoch)."""
    validation_share: float = Field(0.1, ge=0.0, lt=1.0)
    """Share of tasks (by a hash of the task's text) kept for validation."""
    exclude: list[Exclusion] = Field(default_factory=list)
    """Held-out rows besides the repository's own held-out sets (always excluded)."""


class LoraConfig(_Frozen):
    r: int = Field(16, ge=1, le=256)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )


class EvaluationConfig(_Frozen):
    """How a trained adapter is judged before promotion: `refinery eval` of the student (base +
    adapter) against its base, each under `preset`, on held-out rows (never trained on)."""

    sets: list[Exclusion] = Field(
        default_factory=lambda: [
            Exclusion(path=SHARED_DATA / "commongen_hard_dev.jsonl", first=30),
            Exclusion(path=SHARED_DATA / "grounded_qa_dev.jsonl"),
            Exclusion(path=REPO_DATA / "ifeval_kinds_dev.jsonl", first=20),
        ]
    )
    """The evaluation rows (each set's first N); they are excluded from the training data."""
    preset: str = "single_pass"
    """The run preset both sides answer under: a student is meant to be right in one pass."""
    must_not_worsen: list[str] | None = None
    """Metrics on which the student may not be significantly worse than its base; None: every
    quality metric the comparison tests."""
    against_default: bool = True
    """Also answer the rows with the deployment's current default model under the same preset;
    the student may then not be significantly worse than that either (a student that takes
    traffic from the default must hold up against it, not only against its own base)."""
    coherence: bool = True
    """Also score how answers read to a second model (`refinery eval run --coherence`)."""
    auto_promote: bool = False
    """Promote without a person when the comparison allows it (default: a person decides)."""


class TrainConfig(_Frozen):
    """One training recipe: the base, the adapter, the optimiser and the data rules."""

    name: str = DEFAULT_TRAINING
    description: str = ""
    base: BaseName = "qwen2.5-coder-0.5b"
    """The student: the 0.5B by default, the 1.5B for self-distillation, SmolLM2-135M for fast
    runs and tests."""
    lora: LoraConfig = LoraConfig()
    learning_rate: float = Field(2e-4, gt=0, le=1)
    max_steps: int = Field(200, ge=1)
    batch_size: int = Field(1, ge=1, le=64)
    grad_accumulation: int = Field(4, ge=1, le=256)
    max_length: int = Field(512, ge=32, le=8192)
    """Tokens of one example (prompt and answer); longer ones are cut."""
    warmup_steps: int = Field(0, ge=0)
    save_steps: int = Field(25, ge=1)
    """A checkpoint (adapter, optimiser, scheduler, data position) every this many steps."""
    seed: int = 0
    threads: int | None = Field(None, ge=1)
    """torch threads; None: torch's default (every core)."""
    export_type: Literal["f32", "f16", "bf16", "q8_0"] = "f16"
    """Tensor type of the exported GGUF adapter."""
    data: DataConfig = DataConfig()
    evaluation: EvaluationConfig = EvaluationConfig()

    def fingerprint(self) -> str:
        """A short stable hash of every value, for versioning data sets and adapters."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:12]


class UnknownTrainingError(ValueError):
    """A training recipe name or file that does not exist."""


def training_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.json"))


def load_training(name_or_path: str | Path = DEFAULT_TRAINING) -> TrainConfig:
    """A named recipe from `core/training/presets/`, or a JSON file of one, validated."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PRESETS_DIR / f"{name_or_path}.json"
    if not path.is_file():
        known = ", ".join(training_names())
        raise UnknownTrainingError(f"unknown training recipe {str(name_or_path)!r}; known: {known}")
    data = json.loads(path.read_text())
    return TrainConfig.model_validate({"name": path.stem, **data})
