"""Pushes a finished evaluation to LangSmith as an experiment, only when a LangSmith key is
configured and the user asks; the offline path never imports `langsmith.evaluate` (it reaches
for the network even with uploads off)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from core.settings import Settings
from evals.datasets import EvalTask
from evals.evaluate import EvalRun


def can_push(settings: Settings) -> bool:
    return settings.langsmith_api_key is not None


def _dataset(client: Any, name: str, tasks: list[EvalTask]) -> None:
    if client.has_dataset(dataset_name=name):
        return
    dataset = client.create_dataset(name, description="refinery evaluation tasks")
    client.create_examples(
        dataset_id=dataset.id,
        inputs=[t.request() for t in tasks],
        outputs=[
            {"reference": t.reference, "reference_doc_ids": t.reference_doc_ids} for t in tasks
        ],
    )


def push(run: EvalRun, tasks: list[EvalTask], settings: Settings) -> str:
    """Upload `run` (answers already made, metrics already scored) as an experiment; returns its
    name. The target replays the stored answers, so nothing is generated twice."""
    from langsmith import Client, evaluate

    assert settings.langsmith_api_key is not None
    client = Client(api_key=settings.langsmith_api_key.get_secret_value())
    stamp = run.summary.stamp
    name = "refinery-" + "+".join(f"{Path(d.path).stem}-{d.tasks}" for d in stamp.datasets)
    _dataset(client, name, tasks)
    rows = {row.id: row for row in run.rows}

    def replay(inputs: dict[str, Any]) -> dict[str, Any]:
        row = rows[inputs["id"]]
        return {"answer": row.answer, "metrics": row.metrics}

    def metrics(outputs: dict[str, Any]) -> dict[str, Any]:
        scores = outputs["metrics"].items()
        return {"results": [{"key": k, "score": v} for k, v in scores if not math.isnan(v)]}

    result = evaluate(
        replay,
        data=name,
        evaluators=[metrics],
        experiment_prefix=stamp.config,
        metadata=stamp.model_dump(mode="json"),
        client=client,
    )
    return str(result.experiment_name)
