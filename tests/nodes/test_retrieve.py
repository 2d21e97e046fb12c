"""Hybrid retrieval on the grounded dev set: the right document first, comparable ones only;
a question of several parts searched part by part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.run_config import load_config
from nodes.plan import make_plan
from nodes.retrieve import hybrid_search, retrieve

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "grounded_qa_dev.jsonl"


def test_the_reference_document_ranks_first_on_the_dev_set() -> None:
    tasks = [json.loads(line) for line in DATA.read_text().splitlines()]
    firsts = [hybrid_search(t["task"], t["documents"], 3)[0]["doc_id"] for t in tasks]
    hits = sum(f in t["reference_doc_ids"] for f, t in zip(firsts, tasks, strict=True))
    assert hits / len(tasks) >= 0.9


def test_documents_that_share_both_signals_are_kept_together() -> None:
    docs = [
        {"id": "a", "text": "The bridge over the Vess opened in 1932 and carries trains."},
        {"id": "b", "text": "The bridge over the Vess was repainted in 1990; it carries trains."},
        {"id": "c", "text": "Tova is a note-taking app with encrypted sync."},
    ]
    ids = [p["doc_id"] for p in hybrid_search("bridge over the Vess trains", docs, 3)]
    assert set(ids) == {"a", "b"}


def test_no_documents_no_passages() -> None:
    assert hybrid_search("anything", [], 3) == []


def test_documents_of_stop_words_and_punctuation_do_not_break_retrieval() -> None:
    """Found by schemathesis: a document with no indexable word made BM25 indexing raise."""
    docs = [{"id": "a", "text": "!!! ..."}, {"id": "b", "text": "the and of"}]
    passages = hybrid_search("When did the harbor open?", docs, 3)
    assert passages == []  # nothing relevant: none, and no error


def _retrieved(task: str, docs: list[dict[str, str]]) -> tuple[list[str], list[Any]]:
    state: dict[str, Any] = {"task": task, "documents": docs, "config": "refine_default"}
    state["plan"] = make_plan(state, load_config("refine_default"), [])  # type: ignore[arg-type]
    out = retrieve(state)  # type: ignore[arg-type]
    return [p["doc_id"] for p in out["passages"]], out["facts"]


def test_each_part_of_a_comparison_finds_its_own_document() -> None:
    """Searched as one, the question keeps one of the two documents it needs (the other is cut
    as not comparable); searched by part, both are kept, each with its fact."""
    docs = [
        {"id": "bridge", "text": "The Senna Bridge opened in October 1978. The Senna Bridge "
         "carries the coast road over the Senna. The Senna Bridge toll was 9 crowns."},
        {"id": "hospital", "text": "Brinmouth General Hospital opened in 1952."},
        {"id": "garden", "text": "The Mirela garden covers 42 hectares."},
    ]  # fmt: skip
    question = "Which opened first, the Senna Bridge or Brinmouth General Hospital?"
    assert len(hybrid_search(question, docs, 3)) == 1
    ids, facts = _retrieved(question, docs)
    assert {"bridge", "hospital"} <= set(ids) and "garden" not in ids
    assert [(f["doc_id"], f["value"]["text"]) for f in facts] == [
        ("bridge", "October 1978"),
        ("hospital", "1952"),
    ]


def test_a_one_part_question_keeps_the_plain_search() -> None:
    docs = [{"id": "a", "text": "Kestrel runs 84 locomotives."}, {"id": "b", "text": "Tova."}]
    ids, facts = _retrieved("How many locomotives does Kestrel run?", docs)
    assert ids == ["a"] and facts[0]["doc_id"] == "a"


def test_retrieval_searches_the_version_in_force_when_the_question_asks() -> None:
    """The superseded version matches a question about now as well as the current one does
    (same words, an older number): it is not searched."""
    docs = [
        {"id": "old", "text": "Vess Park camping rules of 2016: fires are forbidden from May to "
         "September. These rules were replaced by the rules of 1 April 2023."},
        {"id": "new", "text": "Vess Park camping rules, in force since 1 April 2023: fires are "
         "forbidden all year."},
    ]  # fmt: skip
    ids, _ = _retrieved("Can I light a fire in Vess Park in December?", docs)
    assert ids == ["new"]
    ids, _ = _retrieved("Could I light a fire in Vess Park in December 2020?", docs)
    assert ids == ["old"]


def test_what_the_new_version_does_not_say_again_is_read_from_the_old_one() -> None:
    """Blind gb07: only the hut's rules of 2019 give its height; those of 2023 replace them
    and say nothing of it, so a question about now found no height for the hut."""
    docs = [
        {"id": "hut-2019", "text": "Rules of Orne Hut, in force from 1 June 2019. Orne Hut "
         "stands at 2,610 metres and has 36 bunks. Guests may stay at most 5 nights."},
        {"id": "hut-2023", "text": "Rules of Orne Hut, in force from 15 May 2023; they replace "
         "the rules of 1 June 2019. Guests may stay at most 3 nights, and groups of up to 8 "
         "people may book."},
        {"id": "pass", "text": "The Orne pass road crosses the range at 2,214 metres."},
    ]  # fmt: skip
    ids, facts = _retrieved("What's higher up, Orne Hut or the Orne pass road?", docs)
    assert [f["doc_id"] for f in facts] == ["hut-2019", "pass"] and "hut-2019" in ids
    _, [nights] = _retrieved("How many nights may I stay at Orne Hut?", docs)
    assert nights["doc_id"] == "hut-2023"  # the new version says it: the old one is not read
