"""Pushing a run to LangSmith, against a stand-in client (no network): only with a key; the
data set is made once; the experiment replays the stored answers and reports every metric
that has a value, stamped with the run's metadata."""

from __future__ import annotations

import math
import sys
import types
from typing import Any

import pytest
from pydantic import SecretStr

from core.settings import Settings
from evals.datasets import EvalTask
from evals.langsmith_push import can_push, push
from tests.evals.synthetic import make_run


class _Client:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.datasets: dict[str, list[dict[str, Any]]] = {}

    def has_dataset(self, dataset_name: str) -> bool:
        return dataset_name in self.datasets

    def create_dataset(self, name: str, description: str) -> Any:
        self.datasets[name] = []
        return types.SimpleNamespace(id=name)

    def create_examples(self, dataset_id: str, inputs: list[Any], outputs: list[Any]) -> None:
        self.datasets[dataset_id] += [
            {"inputs": i, "outputs": o} for i, o in zip(inputs, outputs, strict=True)
        ]


@pytest.fixture
def langsmith(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {"clients": []}

    def client(api_key: str) -> _Client:
        made = _Client(api_key)
        seen["clients"].append(made)
        return made

    def evaluate(target: Any, *, data: str, evaluators: list[Any], client: _Client, **kw: Any):  # type: ignore[no-untyped-def]
        examples = client.datasets[data]
        outputs = [target(example["inputs"]) for example in examples]
        seen["results"] = [evaluators[0](out) for out in outputs]
        seen["kwargs"] = kw
        return types.SimpleNamespace(experiment_name=f"{kw['experiment_prefix']}-0001")

    module = types.ModuleType("langsmith")
    module.Client = client  # type: ignore[attr-defined]
    module.evaluate = evaluate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langsmith", module)
    return seen


def test_push_needs_a_key() -> None:
    assert not can_push(Settings(langsmith_api_key=None))
    assert can_push(Settings(langsmith_api_key=SecretStr("ls-key")))


def test_push_replays_the_stored_answers_as_an_experiment(langsmith: dict[str, Any]) -> None:
    run = make_run("refine_default", {"t0": {"concept_coverage": 1.0, "rouge_l": math.nan}})
    run.rows[0].answer = "A dog ran."
    tasks = [EvalTask(id="t0", task="Write.", constraints={"required_words": ["dog"]})]
    settings = Settings(langsmith_api_key=SecretStr("ls-key"))
    assert push(run, tasks, settings) == "refine_default-0001"
    [client] = langsmith["clients"]
    assert client.api_key == "ls-key"
    [example] = client.datasets["refinery-synthetic-1"]
    assert example["inputs"]["id"] == "t0" and "reference" in example["outputs"]
    assert langsmith["results"] == [{"results": [{"key": "concept_coverage", "score": 1.0}]}]
    assert langsmith["kwargs"]["metadata"]["config"] == "refine_default"
