"""Evaluation data sets: JSON Lines of tasks in the engine's request shape, plus references.

The shape is documented in `../shared/data/README.md`; the dev sets there are the defaults.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
"""Where the shared development sets live (never copied into the repository)."""
DEFAULT_DATASETS = [DATA_DIR / "commongen_hard_dev.jsonl", DATA_DIR / "grounded_qa_dev.jsonl"]

TaskKind = Literal["constrained", "grounded", "open"]


class SourceDocument(BaseModel):
    id: str
    text: str


class EvalTask(BaseModel):
    """One evaluation task: the request the engine sees and the references it is scored on."""

    model_config = ConfigDict(extra="ignore")

    id: str
    task: str
    constraints: dict[str, object] | None = None
    documents: list[SourceDocument] | None = None
    reference: str | None = None
    """A reference answer, for reference-based metrics."""
    reference_doc_ids: list[str] = Field(default_factory=list)
    """The documents that hold the answer, for retrieval metrics."""
    dataset: str = ""
    """The file the task came from (its stem), filled in by `load_dataset`."""

    @property
    def kind(self) -> TaskKind:
        if self.documents:
            return "grounded"
        return "constrained" if self.required_words else "open"

    @property
    def required_words(self) -> list[str]:
        words = (self.constraints or {}).get("required_words") or []
        return [str(w) for w in words]  # type: ignore[union-attr]

    def request(self) -> dict[str, object]:
        """The request sent to the engine: no reference fields, so the engine cannot peek."""
        fields = {"id", "task", "constraints", "documents"}
        return self.model_dump(include=fields, exclude_none=True)

    def document_text(self, doc_id: str) -> str:
        return next((d.text for d in self.documents or [] if d.id == doc_id), "")


class DatasetInfo(BaseModel):
    """Which file a run read, and exactly which version of it (for the run's stamp)."""

    path: str
    sha256: str
    tasks: int


def load_dataset(path: Path, limit: int | None = None) -> list[EvalTask]:
    """The first `limit` tasks (all when None) of a JSONL file, validated."""
    tasks: list[EvalTask] = []
    with path.open() as lines:
        for line in lines:
            if not line.strip():
                continue
            if limit is not None and len(tasks) >= limit:
                break
            tasks.append(EvalTask.model_validate({**json.loads(line), "dataset": path.stem}))
    return tasks


def dataset_info(path: Path, tasks: int) -> DatasetInfo:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return DatasetInfo(path=str(path), sha256=digest, tasks=tasks)
