"""Evaluation data sets: JSON Lines of tasks in the engine's request shape, plus references, or
in IFEval/IFBench's shape (`key`, `prompt`, `instruction_id_list`, `kwargs`).

The shapes are documented in `../shared/data/README.md`; the dev sets there are the defaults.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.settings import PROJECT_ROOT
from evals.verifiers import Benchmark, benchmark_of

DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
"""Where the shared development sets live (never copied into the repository)."""
DEFAULT_DATASETS = [DATA_DIR / "commongen_hard_dev.jsonl", DATA_DIR / "grounded_qa_dev.jsonl"]
IFBENCH_DEV = DATA_DIR / "ifbench_dev.jsonl"
REPO_DATA_DIR = Path(__file__).resolve().parent / "data"
"""Sets written for this project (see evals/data/README.md)."""
IFEVAL_KINDS_DEV = REPO_DATA_DIR / "ifeval_kinds_dev.jsonl"
"""Prompts written for this project that cover every IFEval kind (see evals/data/README.md)."""
GROUNDED_QA_DEV = DATA_DIR / "grounded_qa_dev.jsonl"
GROUNDED_MULTI_DEV = REPO_DATA_DIR / "grounded_multi_dev.jsonl"
"""Questions over an invented corpus of 46 documents, most needing two documents, with
distractors and unanswerable questions; rows carry key facts (see evals/data/README.md)."""
GROUNDED_MULTI_HELDOUT = REPO_DATA_DIR / "grounded_multi_heldout.jsonl"
"""As GROUNDED_MULTI_DEV over another invented world: for measuring only, never for tuning."""
GROUNDED_MULTI_FRESH = REPO_DATA_DIR / "grounded_multi_fresh.jsonl"
"""24 questions over a third invented world, written blind to the engine (evals/data/README.md)."""
GROUNDED_MULTI_BLIND = REPO_DATA_DIR / "grounded_multi_blind.jsonl"
"""24 questions over a fourth invented world, written blind to the engine and to the kinds the
question pipeline had learned, measured once before anyone read it (evals/data/README.md)."""
GROUNDED_MULTI_BLIND2 = REPO_DATA_DIR / "grounded_multi_blind2.jsonl"
"""24 questions over a fifth invented world, written blind like GROUNDED_MULTI_BLIND and
measured at the start of the session that added it, before anyone read it."""
GROUNDED_MULTI_BLIND3 = REPO_DATA_DIR / "grounded_multi_blind3.jsonl"
"""24 questions over a sixth invented world, written blind like GROUNDED_MULTI_BLIND and
measured before and after the model's chain of look-ups, before anyone read it."""
FACTS_FILES: dict[str, Path] = {"grounded_qa_dev": REPO_DATA_DIR / "grounded_qa_dev_facts.jsonl"}
"""Data set (file stem) -> side file of key facts (`id`, `key_facts`, `answerable`) merged into
its tasks by id when it is loaded: the shared file itself is never copied here."""

TaskKind = Literal["constrained", "grounded", "instructions", "open"]


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
    instruction_id_list: list[str] = Field(default_factory=list)
    """Verifiable instructions (IFEval or IFBench ids) the answer is scored on: never sent, the
    engine reads them from the prompt's words as a user's request would state them."""
    kwargs: list[dict[str, Any]] = Field(default_factory=list)
    """Each instruction's arguments, as the benchmark gives them (None: not used)."""
    benchmark: Benchmark | None = None
    """Whose verifiers score the instructions; read from the ids' families when not given."""
    key_facts: list[list[str]] = Field(default_factory=list)
    """Facts a correct answer must state, each a list of acceptable surface forms (for a yes/no
    question the first is the yes or no); scored by `evals.facts`."""
    answerable: bool = True
    """False: no document holds the answer, and the right answer says so."""
    hops: int | None = None
    """How many documents the answer needs (0: unanswerable; None: not given)."""
    dataset: str = ""
    """The file the task came from (its stem), filled in by `load_dataset`."""

    @model_validator(mode="before")
    @classmethod
    def _benchmark_row(cls, data: Any) -> Any:
        """A benchmark row (`key`, `prompt`, ...) as a task: id `<benchmark>-<key>`, the prompt
        as the task, the ids' benchmark named, one (empty) kwargs per instruction at least."""
        if not isinstance(data, dict) or "prompt" not in data or "task" in data:
            return data
        ids = list(data.get("instruction_id_list") or [])
        benchmark = data.get("benchmark") or benchmark_of(ids)
        kwargs = list(data.get("kwargs") or [{} for _ in ids])
        if len(kwargs) != len(ids):
            raise ValueError(f"{len(ids)} instruction ids but {len(kwargs)} kwargs")
        rest = {k: v for k, v in data.items() if k not in ("key", "prompt")}
        return rest | {
            "id": f"{benchmark}-{data['key']}",
            "task": data["prompt"],
            "benchmark": benchmark,
            "kwargs": kwargs,
        }

    @property
    def kind(self) -> TaskKind:
        if self.documents:
            return "grounded"
        if self.instruction_id_list:
            return "instructions"
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


def read_facts(path: Path) -> dict[str, dict[str, Any]]:
    """A key-facts side file by task id: `key_facts` and `answerable` of each row."""
    facts: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            facts[row["id"]] = {k: row[k] for k in ("key_facts", "answerable") if k in row}
    return facts


def load_dataset(path: Path, limit: int | None = None) -> list[EvalTask]:
    """The first `limit` tasks (all when None) of a JSONL file, validated; a data set with a
    key-facts side file (`FACTS_FILES`) gets its rows' facts merged in by id."""
    side = FACTS_FILES.get(path.stem)
    facts = read_facts(side) if side is not None and side.is_file() else {}
    tasks: list[EvalTask] = []
    with path.open() as lines:
        for line in lines:
            if not line.strip():
                continue
            if limit is not None and len(tasks) >= limit:
                break
            row = json.loads(line)
            row |= facts.get(str(row.get("id")), {})
            tasks.append(EvalTask.model_validate({**row, "dataset": path.stem}))
    return tasks


def dataset_info(path: Path, tasks: int) -> DatasetInfo:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return DatasetInfo(path=str(path), sha256=digest, tasks=tasks)
