"""The grounded multi-document sets and the key facts of the shared grounded set: shape, counts
and self-consistency (every key fact is in its reference and, unless computed, in its
documents; references of answerable rows do not abstain, those of unanswerable rows do)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.datasets import (
    FACTS_FILES,
    GROUNDED_MULTI_BLIND,
    GROUNDED_MULTI_BLIND2,
    GROUNDED_MULTI_BLIND3,
    GROUNDED_MULTI_DEV,
    GROUNDED_MULTI_FRESH,
    GROUNDED_MULTI_HELDOUT,
    GROUNDED_QA_DEV,
    EvalTask,
    load_dataset,
)
from evals.facts import abstains, fact_metrics, hops_group, states

SETS = {
    GROUNDED_MULTI_DEV: {"documents": 44, "questions": 44, "unanswerable": 6, "prefix": "gm"},
    GROUNDED_MULTI_HELDOUT: {"documents": 30, "questions": 20, "unanswerable": 3, "prefix": "gh"},
    GROUNDED_MULTI_FRESH: {"documents": 30, "questions": 24, "unanswerable": 4, "prefix": "gf"},
    GROUNDED_MULTI_BLIND: {"documents": 30, "questions": 24, "unanswerable": 4, "prefix": "gb"},
    GROUNDED_MULTI_BLIND2: {"documents": 30, "questions": 24, "unanswerable": 4, "prefix": "gc"},
    GROUNDED_MULTI_BLIND3: {"documents": 30, "questions": 24, "unanswerable": 4, "prefix": "gd"},
}
"""Each set's minimum counts and its id prefix."""
COMPUTED: dict[str, set[str]] = {
    # sums and differences the answer must work out (the inputs are in the documents)
    "gm03": {"704"},  # 640 + 64 employees
    "gm10": {"15 years"},  # 2011 - 1996
    "gm18": {"39 years"},  # 2017 - 1978
    "gm21": {"480"},  # 420 + 60 beds
    "gm25": {"4 crowns"},  # 52 - 48
    "gm27": {"19,700"},  # 8,200 + 11,500
    "gm35": {"0.2 litres"},  # 1.7 - 1.5
    "gm41": {"48 years"},  # 2002 - 1954
    "gm45": {"18 crowns"},  # 2 x 9, the child free
    "gm48": {"150"},  # 90 + 60 cars
    "gm49": {"127 years"},  # 1998 - 1871
    "gm57": {"25"},  # 310 - 285
    "gm62": {"5 days"},  # 9 - 4
    "gm63": {"7 days"},  # 21 - 14
    "gm70": {"8 years"},  # 2013 - 2005
    "gh02": {"335"},  # 260 + 75
    "gh06": {"3 marks"},  # 28 - 25
    "gh07": {"3 marks"},  # half of 6
    "gh11": {"500 mAh"},  # 5,000 - 4,500
    "gh14": {"3 days"},  # 8 - 5
    "gh16": {"33 years"},  # 2024 - 1991
    "gh18": {"3,500"},  # 44,500 - 41,000
    "gh19": {"30", "117"},  # 22 + 8 turbines, 22 x 3.5 + 8 x 5 MW
    "gh24": {"10 years"},  # 2009 - 1999
    "gh27": {"654 years"},  # 1996 - 1342
    "gf09": {"3 florins"},  # 12 - 9
    "gf10": {"126"},  # members, 2024 less 2021
    "gf11": {"4 florins"},  # 14 - 10
    "gf12": {"27"},  # staff, 2022 less 2024
    "gf16": {"182"},  # 240 - 58 beds
    "gb05": {"182"},  # 310 - 128 beds
    "gb06": {"31 years"},  # 1962 - 1931
    "gb07": {"396 metres"},  # 2,610 - 2,214
    "gb08": {"47 minutes"},  # 1 hour 35 minutes - 48 minutes
    "gb09": {"2,850"},  # 12,300 - 9,450 inhabitants
    "gb13": {"7 crowns"},  # 31 - 24
    "gb14": {"8 branches"},  # 41 - 33
    "gb15": {"15 crowns"},  # 60 - 45
    "gc20": {"51.00"},  # 3 x (12.00 + 2 x 2.50) euros, three adults and their bicycles
    "gd04": {"08:05"},  # 07:10 + 55 minutes
    "gd05": {"12 years"},  # 1903 - 1891
    "gd06": {"35 metres"},  # 64 - 29
    "gd07": {"115 years"},  # 1962 - 1847
    "gd08": {"22"},  # 42 - 20 beds
    "gd09": {"33 years"},  # 2004 - 1971
    "gd15": {"£4"},  # 19 - 15 pounds
    "gd16": {"2900"},  # 21,300 - 18,400 tonnes
    "gd19": {"104"},  # 86 + 18 beds
}
"""Key facts (by their first form) that no document states: they are computed from ones that
do. Every other key fact, yes and no apart, is in the text of the row's reference documents."""
YES_NO = ({"yes"}, {"no"})


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module", params=list(SETS), ids=lambda p: p.stem)
def dataset(request: pytest.FixtureRequest) -> tuple[Path, list[EvalTask]]:
    return request.param, load_dataset(request.param)


def test_counts_and_shape(dataset: tuple[Path, list[EvalTask]]) -> None:
    path, tasks = dataset
    want = SETS[path]
    raw = rows(path)
    assert len(tasks) >= want["questions"]
    ids = [t.id for t in tasks]
    assert len(set(ids)) == len(ids)
    assert ids == [f"{want['prefix']}{i:02d}" for i in range(1, len(ids) + 1)]
    corpus = raw[0]["documents"]
    assert all(r["documents"] == corpus for r in raw)  # the full corpus on every row
    assert isinstance(corpus, list) and len(corpus) >= want["documents"]
    doc_ids = [d["id"] for d in corpus]
    assert len(set(doc_ids)) == len(doc_ids)
    for doc in corpus:
        assert 40 <= len(doc["text"].split()) <= 110, doc["id"]
    for row in raw:
        assert set(row) - {"question_kind"} == {
            "id",
            "task",
            "documents",
            "reference",
            "reference_doc_ids",
            "key_facts",
            "answerable",
            "hops",
        }
    unanswerable = [t for t in tasks if not t.answerable]
    multi = [t for t in tasks if t.answerable and (t.hops or 0) >= 2]
    assert len(unanswerable) >= want["unanswerable"]
    assert 2 * len(multi) >= len(tasks)
    assert all(t.hops == 0 and not t.key_facts for t in unanswerable)


@pytest.mark.parametrize(
    "other",
    [
        GROUNDED_MULTI_HELDOUT,
        GROUNDED_MULTI_FRESH,
        GROUNDED_MULTI_BLIND,
        GROUNDED_MULTI_BLIND2,
        GROUNDED_MULTI_BLIND3,
    ],
    ids=lambda p: p.stem,
)
def test_the_measuring_sets_are_other_worlds_than_dev(other: Path) -> None:
    dev, held = load_dataset(GROUNDED_MULTI_DEV, 1)[0], load_dataset(other, 1)[0]
    dev_ids = {d.id for d in dev.documents or []}
    held_ids = {d.id for d in held.documents or []}
    assert not dev_ids & held_ids
    dev_words = {w for d in dev.documents or [] for w in d.text.split() if w[:1].isupper()}
    ordinary = {w for d in held.documents or [] for w in d.text.split() if w.islower()}
    held_names = {d.id.split("-")[0] for d in held.documents or []} - ordinary  # not "museum"
    assert not {n.capitalize() for n in held_names} & dev_words


def test_references_and_documents_hold_the_key_facts(
    dataset: tuple[Path, list[EvalTask]],
) -> None:
    _, tasks = dataset
    known = {d.id for d in tasks[0].documents or []}
    for task in tasks:
        assert set(task.reference_doc_ids) <= known, task.id
        assert len(set(task.reference_doc_ids)) == len(task.reference_doc_ids)
        if task.answerable:
            assert task.hops == len(task.reference_doc_ids) >= 1, task.id
            assert task.key_facts, task.id
        text = " ".join(task.document_text(i) for i in task.reference_doc_ids)
        computed = COMPUTED.get(task.id, set())
        for forms in task.key_facts:
            assert forms and all(f.strip() for f in forms), task.id
            assert states(task.reference or "", forms), (task.id, forms)
            if {f.lower() for f in forms} in YES_NO:
                continue
            in_documents = states(text, forms)
            assert in_documents != (forms[0] in computed), (task.id, forms)
        first = task.key_facts[0] if task.key_facts else []
        polar = task.task.split()[0] in {"Is", "Was", "Does", "Did", "Can", "Could"}
        # "Is it quicker to fly or ...?" is a choice; "Is A much bigger than B? How many more
        # people live there?" asks the gap, and "much" is no fact (blind2 gc07)
        if polar and " or " not in task.task and task.task.count("?") == 1:
            assert {f.lower() for f in first} in YES_NO, task.id  # yes/no first
        assert abstains(task.reference or "") is not task.answerable, task.id
        assert fact_metrics(task, task.reference or "")["fully_correct"] == 1.0, task.id


def test_every_computed_fact_belongs_to_its_row() -> None:
    tasks = {t.id: t for path in SETS for t in load_dataset(path)}
    for task_id, facts in COMPUTED.items():
        assert facts <= {forms[0] for forms in tasks[task_id].key_facts}, task_id


def test_answer_types_and_hops_groups_are_spread(dataset: tuple[Path, list[EvalTask]]) -> None:
    _, tasks = dataset
    groups = [hops_group(t) for t in tasks]
    assert {"1", "2+", "unanswerable"} <= set(groups) and "unknown" not in groups
    openings = {t.task.split()[0] for t in tasks}
    asking = {"How", "Which", "Was", "Is", "Who", "Who's", "What", "What's", "When", "Where"}
    assert len(openings & asking) >= 5
    yes = sum(1 for t in tasks if t.key_facts and t.key_facts[0] == ["yes"])
    no = sum(1 for t in tasks if t.key_facts and t.key_facts[0] == ["no"])
    assert yes >= 3 and no >= 1


def test_the_facts_side_file_matches_the_shared_set() -> None:
    side = rows(FACTS_FILES["grounded_qa_dev"])
    shared = rows(GROUNDED_QA_DEV)
    assert [r["id"] for r in side] == [r["id"] for r in shared]
    assert all(set(r) == {"id", "key_facts", "answerable"} for r in side)
    tasks = load_dataset(GROUNDED_QA_DEV)
    assert [t.key_facts for t in tasks] == [r["key_facts"] for r in side]
    for task in tasks:
        assert task.answerable and task.key_facts
        text = " ".join(task.document_text(i) for i in task.reference_doc_ids)
        for forms in task.key_facts:
            assert states(task.reference or "", forms), (task.id, forms)
            assert states(text, forms), (task.id, forms)
        assert fact_metrics(task, task.reference or "")["fully_correct"] == 1.0
    assert load_dataset(GROUNDED_QA_DEV, 1)[0].request().keys() == {"id", "task", "documents"}
