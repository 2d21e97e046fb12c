"""The LLM-judged Ragas metrics (`refinery eval run --judge`) on a stand-in judge that answers
Ragas' own prompts over the OpenAI protocol: a supported answer is faithful, an answer with an
invented sentence is half faithful, each judged metric is labelled with its judge in the run's
summary, and a judge whose replies do not parse leaves an error per metric, never a silent
NaN."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evals.cli import _judge, eval_app
from evals.datasets import EvalTask, SourceDocument
from evals.evaluate import EvalRun
from evals.ragas_metrics import JUDGED
from testkit.fake_openai import FakeOpenAI, cooperative_responder
from testkit.llm import Configure, serve_fake

DOC = (
    "Kestrel Freight runs 31 battery-electric locomotives. The company was founded in 1998 in "
    "Varnholt."
)
TASK = EvalTask(
    id="k1",
    task="How many locomotives does Kestrel Freight run?",
    documents=[SourceDocument(id="kestrel", text=DOC)],
    reference="Kestrel Freight runs 31 battery-electric locomotives.",
    reference_doc_ids=["kestrel"],
)
SCHEMA, INPUT = "JSON Schema:\n", "\ninput: "
"""What comes before the output's JSON schema and before the input in a Ragas prompt."""


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def _supported(statement: str, context: str) -> int:
    """1 when every word of four letters or more in `statement` is in `context`."""
    known = set(re.findall(r"[a-z0-9-]+", context.lower()))
    return int(all(w in known for w in re.findall(r"[a-z0-9-]{4,}", statement.lower())))


def ragas_reply(prompt: str) -> str | None:
    """The reply a careful judge gives to one of Ragas' prompts (told apart by the title of the
    output schema the prompt carries); None for a prompt that is not Ragas'."""
    if SCHEMA not in prompt or INPUT not in prompt:
        return None
    read = json.JSONDecoder().raw_decode
    title = read(prompt, prompt.index(SCHEMA) + len(SCHEMA))[0]["title"]
    data = read(prompt, prompt.rindex(INPUT) + len(INPUT))[0]
    if title == "StatementGeneratorOutput":
        return json.dumps({"statements": _sentences(data["answer"])})
    if title == "ClaimDecompositionOutput":
        return json.dumps({"claims": _sentences(data["response"])})
    if title == "NLIStatementOutput":
        context = data["context"]
        verdicts = [
            {"statement": s, "reason": "read in the context", "verdict": _supported(s, context)}
            for s in data["statements"]
        ]
        return json.dumps({"statements": verdicts})
    if title == "ResponseRelevanceOutput":
        return json.dumps({"question": data["response"].rstrip(".") + "?", "noncommittal": 0})
    raise AssertionError(f"a Ragas prompt the stand-in judge does not know: {title}")


def judge_responder(messages: list[dict[str, Any]]) -> str:
    """Ragas' prompts answered as a judge; the engine's own prompts as the cooperative fake."""
    reply = ragas_reply(str(messages[-1].get("content", "")))
    return reply if reply is not None else cooperative_responder(messages)


@pytest.fixture
def judge_model(llm_settings: Configure) -> Iterator[FakeOpenAI]:
    yield from serve_fake(llm_settings, judge_responder)


async def test_a_supported_answer_is_faithful_and_an_invented_sentence_halves_it(
    judge_model: FakeOpenAI,
) -> None:
    judge = _judge()
    answer = "Kestrel Freight runs 31 locomotives [kestrel]."
    supported = await judge.score(TASK, answer, ["kestrel"])
    assert not supported.errors
    assert supported.values["faithfulness"] == 1.0
    assert supported.values["factual_correctness"] > 0.5
    assert 0.0 < supported.values["answer_relevancy"] <= 1.0

    invented = "Kestrel Freight runs 31 locomotives [kestrel]. Its trains cross seven mountains."
    half = await judge.score(TASK, invented, ["kestrel"])
    assert not half.errors
    assert half.values["faithfulness"] == 0.5
    assert half.values["factual_correctness"] < supported.values["factual_correctness"]
    assert not judge_model.unrecognised or all(ragas_reply(p) for p in judge_model.unrecognised)


async def test_a_judge_whose_replies_do_not_parse_leaves_an_error_per_metric(
    llm_settings: Configure,
) -> None:
    for _ in serve_fake(llm_settings, lambda messages: "I would rather not say."):
        scored = await _judge().score(TASK, "Kestrel Freight runs 31 locomotives.", ["kestrel"])
    assert set(scored.errors) == set(JUDGED)
    assert all(scored.values[name] != scored.values[name] for name in JUDGED)  # NaN, and said


def test_eval_run_with_judge_labels_each_judged_metric_with_its_judge(
    judge_model: FakeOpenAI, tmp_path: Path
) -> None:
    data = tmp_path / "grounded.jsonl"
    data.write_text(TASK.model_dump_json() + "\n")
    out = tmp_path / "run"
    done = CliRunner().invoke(eval_app, [
        "run", "--config", "single_pass", "--dataset", str(data), "--judge", "--no-coherence",
        "--out", str(out),
    ])  # fmt: skip
    assert done.exit_code == 0, done.output
    run = EvalRun.load(out)
    row = run.rows[0]
    assert not row.error and not row.metric_errors
    assert row.metrics["faithfulness"] == 1.0 and row.metrics["answer_relevancy"] > 0
    for name in JUDGED:
        assert run.summary.metrics[name]["judge"] == run.summary.stamp.judge
    assert run.summary.stamp.judge and run.summary.stamp.judge == run.summary.stamp.model
