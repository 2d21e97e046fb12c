"""The training pipeline as one call: build the data set, train, export the adapter to GGUF,
evaluate it against its base (an injected step: the evaluation lives above core), and write a
report; promotion stays a person's decision unless the recipe says otherwise."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from core.feedback.store import RunRecord
from core.settings import Settings
from core.training.config import TrainConfig
from core.training.dataset import DataManifest, Prompter, build_dataset
from core.training.export import ExportedAdapter, adapter_name, export_adapter
from core.training.lora import ADAPTER_DIR, BASE_CONFIG_DIR, TrainingResult, train
from core.training.promotion import promote

REPORT_FILE = "report.json"
Reason = Literal["review_or_retrain", "schedule", "manual"]


class Evaluation(BaseModel):
    """What the evaluation step found, and whether it allows promotion."""

    report: str
    """The comparison's report (markdown) path."""
    verdict: str
    worse_on: list[str]
    """Metrics on which the student is significantly worse than its base (and may not be)."""
    default_report: str | None = None
    """The comparison with the deployment's current default model, when the recipe asks."""
    default_verdict: str | None = None
    worse_than_default_on: list[str] = []
    """Metrics on which the student is significantly worse than the current default."""
    allows_promotion: bool
    means: dict[str, dict[str, float]] = {}
    """Side ("base", "student", "default") -> metric -> mean."""


Evaluate = Callable[[TrainConfig, Path, Path], Evaluation]
"""(recipe, adapter GGUF, directory to write into) -> the evaluation."""


class PipelineReport(BaseModel):
    """One pipeline run, as recorded with its event."""

    reason: Reason
    recipe: str
    started_at: str
    seconds: float
    directory: str
    data: DataManifest
    training: TrainingResult | None = None
    adapter: ExportedAdapter | None = None
    evaluation: Evaluation | None = None
    promotion: Literal["promoted", "awaiting a person", "refused", "not evaluated", "no data"]
    """What became of the adapter: the recipe's `auto_promote` decides without a person."""

    def summary(self) -> str:
        parts = [f"{self.reason}: {self.recipe}, data {self.data.version}"]
        parts.append(f"{self.data.counts.get('train', 0)} train examples")
        if self.training:
            parts.append(f"{self.training.steps} steps in {self.training.train_seconds:.0f} s")
        if self.adapter:
            parts.append(f"adapter {self.adapter.bytes / 1e6:.1f} MB")
        if self.evaluation:
            parts.append(self.evaluation.verdict)
        return "; ".join(parts) + f" -> {self.promotion}"


def run_pipeline(
    recipe: TrainConfig,
    root: Path,
    *,
    reason: Reason = "manual",
    results: Sequence[Path] = (),
    requests: Sequence[Path] = (),
    feedback: Iterable[RunRecord] = (),
    evaluate: Evaluate | None = None,
    prompter: Prompter | None = None,
    progress: bool = True,
    settings: Settings | None = None,
    clock: Callable[[], float] = time.time,
) -> PipelineReport:
    """Data (each example's prompt from `prompter`, see `build_dataset`), training, export,
    evaluation and the report, in `root/<timestamp>-<recipe>/`."""
    started = clock()
    stamp = datetime.fromtimestamp(started, UTC)
    out = root / f"{stamp:%Y%m%dT%H%M%S}-{recipe.name}"
    data = build_dataset(
        out / "data", recipe, results=results, requests=requests, feedback=feedback,
        prompter=prompter,
    )  # fmt: skip
    fields: dict[str, Any] = {
        "reason": reason, "recipe": recipe.name, "started_at": stamp.isoformat(),
        "directory": str(out), "data": data,
    }  # fmt: skip
    if not data.counts.get("train"):
        return _finish(
            PipelineReport(seconds=0, promotion="no data", **fields), out, started, clock
        )
    training = train(recipe, out / "data", out / "model", progress=progress, settings=settings)
    model = out / "model"
    adapter = export_adapter(
        model / ADAPTER_DIR,
        model / BASE_CONFIG_DIR,
        model / adapter_name(recipe.name, out / "data"),
        recipe.export_type,
    )
    evaluation = evaluate(recipe, Path(adapter.path), out / "evaluation") if evaluate else None
    if evaluation is None:
        promotion = "not evaluated"
    elif not evaluation.allows_promotion:
        promotion = "refused"
    else:
        promotion = "promoted" if recipe.evaluation.auto_promote else "awaiting a person"
    report = PipelineReport(
        seconds=0, training=training, adapter=adapter, evaluation=evaluation,
        promotion=promotion, **fields,
    )  # fmt: skip
    _finish(report, out, started, clock)
    if promotion == "promoted":
        promote(out, settings=settings)
    return report


def _finish(
    report: PipelineReport, out: Path, started: float, clock: Callable[[], float]
) -> PipelineReport:
    report.seconds = round(clock() - started, 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_FILE).write_text(report.model_dump_json(indent=2) + "\n")
    return report


def load_report(directory: Path) -> PipelineReport:
    return PipelineReport.model_validate(json.loads((directory / REPORT_FILE).read_text()))
