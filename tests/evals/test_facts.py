"""Key facts of grounded answers: the matcher, abstention, the metrics, their metadata, gating
and comparison, and scoring result files split by hops."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from evals.compare import compare, group
from evals.datasets import EvalTask, SourceDocument, load_dataset
from evals.facts import abstains, fact_metrics, hops_group, normalise, stated_facts, states
from evals.gate import check
from evals.metrics import METRICS, is_quality, task_metrics
from evals.report import markdown
from evals.score_file import grounded_table, is_grounded, score_grounded
from graph.runner import TaskResult
from tests.evals.synthetic import make_run

DOCS = [
    SourceDocument(id="a", text="Norvane Logistics was founded in 2006."),
    SourceDocument(id="b", text="Norvane Labs was founded in 2013."),
]


def grounded(**fields: object) -> EvalTask:
    base: dict[str, object] = {"id": "t", "task": "q?", "documents": DOCS}
    return EvalTask.model_validate(base | fields)


@pytest.mark.parametrize(
    ("answer", "forms", "found"),
    [
        ("It moved to Orlen.", ["orlen"], True),  # case-insensitive
        ("It was founded in 2017.", ["17"], False),  # never part of a longer number
        ("A ticket costs 2.80 crowns.", ["2"], False),  # nor of a decimal
        ("A ticket costs 2.80 crowns.", ["2.80"], True),
        ("Line 2. Then line 3.", ["line 2"], True),  # sentence end is a boundary
        ("It has 1,200 staff.", ["1200"], True),  # thousands separators
        ("It has 1200 staff.", ["1,200"], True),
        ("It has 11 400 staff.", ["11,400"], False),  # a plain space is not a separator
        ("It has 11\u202f400 staff.", ["11,400"], True),  # a narrow no-break space is
        ("Fourteen days.", ["14 days"], True),  # number words one to twenty
        ("14 days", ["fourteen days"], True),
        ("twenty-one rooms", ["21 rooms"], True),
        ("ninety days", ["90 days"], True),
        ("two weeks", ["14 days"], False),  # only through a listed alternative
        ("two weeks", ["14 days", "2 weeks"], True),
        ("a 15% supplement", ["15 percent"], True),
        ("a 15 per cent supplement", ["15%"], True),
        ("the Palm  Hall", ["palm hall"], True),  # white space
        ("it is open on the river path [mirela-visits].", ["river path"], True),
        ("see [doc-2017]", ["2017"], False),  # citations are not the answer's words
        ("a category", ["cat"], False),  # word boundaries for words too
        ("the one that stopped", ["1"], True),  # "one" is read as a number, as documented
        ("€4 a month", ["€4"], True),
        ("Norvane Labs", ["Norvane Logistics"], False),
        ("", ["x"], False),
    ],
)
def test_a_fact_is_stated_when_one_of_its_forms_occurs(
    answer: str, forms: list[str], found: bool
) -> None:
    assert states(answer, forms) is found


def test_normalise() -> None:
    text = "It holds 11,400 Books, Fourteen rooms and 1,200,000 – items [a]"
    assert normalise(text) == "it holds 11400 books, 14 rooms and 1200000 - items"
    assert stated_facts("Yes, since 2015.", [["yes"], ["2015"], ["2018"]]) == [True, True, False]


@pytest.mark.parametrize(
    "answer",
    [
        "The documents do not say who founded the club.",
        "The documents don't give the price.",
        "The provided documents do not contain the price of the kettle.",
        "The text doesn’t mention a founder.",
        "This is not stated in the documents.",
        "The founder isn't mentioned anywhere.",
        "There is no information about the number of customers.",
        "There is no mention of the height.",
        "The height cannot be determined from the documents.",
        "I can't tell from the documents.",
        "It is not possible to say from these sources.",
        "None of the documents gives a price.",
        "Neither document mentions it.",
        "That figure does not appear in the documents.",
        "The sources are silent on this.",
        "I don't know.",
        "There is not enough information to answer.",
        "The documents only give the founding year; they don't specify who founded it.",
        "It is unclear from the documents.",
    ],
)
def test_abstention_phrasings(answer: str) -> None:
    assert abstains(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "No, the Basic plan does not include backups.",
        "Refunds are not given after 30 days.",
        "No, the museum is closed on Mondays.",
        "The warranty does not cover water damage.",
        "Varnholt Clinic has no emergency department; go to Brinmouth General Hospital.",
        "Tickets are no longer sold on board.",
        "Groups larger than 8 people need a permit.",
        "Deleted records cannot be recovered after 60 days.",
        "It does not open on Sundays.",
        "The company has no link to Norvane Logistics.",
        "Yes: both happened in 2016.",
    ],
)
def test_answers_that_deny_a_fact_do_not_abstain(answer: str) -> None:
    assert not abstains(answer)


def test_fully_correct_on_an_answerable_task() -> None:
    task = grounded(key_facts=[["Norvane Logistics"], ["2006"], ["2013"]])
    full = "Norvane Logistics (2006) came before Norvane Labs (2013)."
    assert fact_metrics(task, full) == {
        "key_fact_recall": 1.0,
        "fully_correct": 1.0,
        "abstained": 0.0,
    }
    partial = fact_metrics(task, "Norvane Logistics, in 2006.")
    assert partial["key_fact_recall"] == pytest.approx(2 / 3) and partial["fully_correct"] == 0.0
    hedged = fact_metrics(task, f"{full} The documents do not say who founded Norvane Labs.")
    assert hedged["key_fact_recall"] == 1.0 and hedged["fully_correct"] == 0.0
    assert hedged["abstained"] == 1.0


def test_on_an_unanswerable_task_the_right_answer_is_to_abstain() -> None:
    task = grounded(answerable=False, hops=0)
    right = fact_metrics(task, "The documents do not say how many customers it has.")
    assert right == {"fully_correct": 1.0, "abstained": 1.0}  # no recall reported, not NaN
    wrong = fact_metrics(task, "It has 41,000 customers.")
    assert wrong == {"fully_correct": 0.0, "abstained": 0.0}


def test_tasks_without_key_facts_get_no_fact_metrics() -> None:
    assert fact_metrics(grounded(), "anything") == {}
    plain = EvalTask(id="c", task="use", constraints={"required_words": ["dog"]})
    assert fact_metrics(plain, "a dog") == {}


def test_hops_groups() -> None:
    assert hops_group(grounded(hops=1)) == "1"
    assert hops_group(grounded(hops=3)) == "2+"
    assert hops_group(grounded(answerable=False, hops=0)) == "unanswerable"
    assert hops_group(grounded(reference_doc_ids=["a", "b"])) == "2+"  # hops not given
    assert hops_group(grounded()) == "unknown"


async def test_task_metrics_score_key_facts_of_grounded_tasks() -> None:
    task = grounded(
        reference="Norvane Logistics, in 2006.",
        reference_doc_ids=["a"],
        key_facts=[["Norvane Logistics"], ["2006"]],
    )
    result = TaskResult(thread_id="1", answer="Norvane Logistics, in 2006 [a].", passages=["a"])
    scores = (await task_metrics(task, result)).values
    assert scores["key_fact_recall"] == 1.0 and scores["fully_correct"] == 1.0
    assert scores["abstained"] == 0.0


def test_metric_metadata_gate_and_compare() -> None:
    assert METRICS["key_fact_recall"].family == "facts" and is_quality("key_fact_recall")
    assert METRICS["fully_correct"].higher_is_better and is_quality("fully_correct")
    assert METRICS["abstained"].family == "abstention" and not is_quality("abstained")
    assert group("abstention") == "abstention"
    ids = [f"gm{i:02d}" for i in range(6)]
    base = {i: {"key_fact_recall": 1.0, "fully_correct": 1.0, "abstained": 0.0} for i in ids}
    worse = base | {
        i: {"key_fact_recall": 0.5, "fully_correct": 0.0, "abstained": 1.0} for i in ids[:3]
    }
    a = make_run("a", base, kind="grounded")
    b = make_run("b", worse, kind="grounded")
    failures = {f.metric for f in check(a, b)}
    assert failures == {"key_fact_recall", "fully_correct"}  # abstained is not gated
    comparison = compare(a, b)
    families = {m.metric: m.family for m in comparison.metrics}
    assert families == {
        "key_fact_recall": "facts",
        "fully_correct": "facts",
        "abstained": "abstention",
    }
    text = markdown(comparison, [])
    assert "## Abstention" in text and "| abstained | abstention |" in text
    assert "| fully_correct | facts |" in text


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_score_file_scores_grounded_results_by_hops(tmp_path: Path) -> None:
    docs = [d.model_dump() for d in DOCS]
    rows = [
        {"id": "q1", "task": "When was Norvane Logistics founded?", "documents": docs,
         "reference": "In 2006.", "reference_doc_ids": ["a"], "key_facts": [["2006"]],
         "answerable": True, "hops": 1},
        {"id": "q2", "task": "Which came first?", "documents": docs,
         "reference": "Norvane Logistics, 2006; Labs 2013.", "reference_doc_ids": ["a", "b"],
         "key_facts": [["Norvane Logistics"], ["2006"], ["2013"]], "answerable": True, "hops": 2},
        {"id": "q3", "task": "Who founded Norvane Labs?", "documents": docs,
         "reference": "The documents do not say.", "reference_doc_ids": ["b"], "key_facts": [],
         "answerable": False, "hops": 0},
    ]  # fmt: skip
    dataset = _write(tmp_path / "data.jsonl", rows)
    assert is_grounded(dataset)
    tasks = {t.id: t for t in load_dataset(dataset)}
    usage = {"input_tokens": 10, "output_tokens": 5}
    results = _write(tmp_path / "run.jsonl", [
        {"id": "q1", "answer": "In 2006 [a].", "passages": ["a"], "usage": usage},
        {"id": "q2", "answer": "Norvane Logistics, in 2006.", "passages": ["a"], "usage": usage},
    ])  # fmt: skip
    scored = score_grounded(tasks, results)
    assert scored["errors"] == ["q3"] and scored["tokens_per_task"] == 10.0
    assert scored["fully_correct"] == {"q1": True, "q2": False, "q3": False}
    assert scored["by_hops"]["1"] == {
        "tasks": 1,
        "key_fact_recall": 1.0,
        "fully_correct": 1.0,
        "abstained": 0.0,
        "retrieval_recall": 1.0,
    }
    assert scored["by_hops"]["2+"]["key_fact_recall"] == pytest.approx(0.6667)
    assert scored["by_hops"]["2+"]["retrieval_recall"] == 0.5
    assert scored["by_hops"]["unanswerable"]["fully_correct"] == 0.0
    assert "key_fact_recall" not in scored["unanswerable"]
    assert scored["summary"]["tasks"] == 3
    assert scored["summary"]["key_fact_recall"] == pytest.approx((1 + 2 / 3) / 2, abs=1e-4)
    table = grounded_table([scored], by_hops=True)
    assert "| run | 2+ | 1 | 0.667 | 0.000 | 0.000 | 0.500 |" in table
    assert not math.isnan(scored["summary"]["fully_correct"])
