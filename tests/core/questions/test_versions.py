"""Versions of one dated document: a question is answered from the one in force when it asks."""

from __future__ import annotations

from core.questions.versions import NOW, asked_date, in_force, in_force_at, version_of

OLD = {
    "id": "ferry-fares-old",
    "text": "Lissel Ferry fares from 1 May 2020 until 30 April 2024: a crossing costs 5 marks. "
    "Dogs travel free.",
}
NEW = {
    "id": "ferry-fares-new",
    "text": "Lissel Ferry fares, current version, in force since 1 May 2024: a crossing costs "
    "6 marks. Dogs pay 1 mark.",
}
RULES_OLD = {
    "id": "dune-rules-a",
    "text": "Orve Dunes access rules of 2015: walkers keep to the marked paths. These rules were "
    "replaced by the rules of 1 June 2022.",
}
RULES_NEW = {
    "id": "dune-rules-b",
    "text": "Orve Dunes access rules, in force since 1 June 2022: dogs must be on a lead.",
}
OTHER = {"id": "lighthouse", "text": "The Orve lighthouse was built in 1890 on the north cape."}
DOCS = [OLD, NEW, RULES_OLD, RULES_NEW, OTHER]


def _kept(question: str) -> list[str]:
    return [d["id"] for d in in_force(DOCS, question)]


def test_a_document_dates_itself_in_its_first_sentence() -> None:
    old, new = version_of(OLD), version_of(NEW)
    assert old is not None and new is not None
    assert old.of == new.of == "lissel ferry fares"
    assert (old.start, old.end) == (20200501.0, 20240430.0) and new.end is None
    replaced = version_of(RULES_OLD)
    assert replaced is not None and replaced.end == 20220601.0  # said in a later sentence
    assert version_of({"id": "x", "text": "Dogs travel free."}) is None


def test_a_question_about_now_keeps_the_latest_version_of_each_thing() -> None:
    assert _kept("How much does a ferry crossing cost?") == [
        NEW["id"],
        RULES_NEW["id"],
        "lighthouse",
    ]
    assert asked_date("Can I still take my dog on the ferry?") == NOW


def test_a_question_naming_a_date_keeps_the_version_in_force_then() -> None:
    kept = _kept("I crossed on the Lissel ferry in March 2023. What did I pay?")
    assert OLD["id"] in kept and NEW["id"] not in kept
    assert RULES_OLD["id"] not in kept  # replaced in June 2022
    assert RULES_NEW["id"] in kept


def test_a_question_about_the_change_keeps_every_version() -> None:
    for question in (
        "By how much did a ferry crossing go up in 2024?",
        "How much more does a crossing cost now than before?",
        "What were the previous dune rules?",
        "I last took the ferry in 2021. How much more is a crossing now?",
    ):
        assert _kept(question) == [d["id"] for d in DOCS]


def test_different_things_that_date_themselves_are_not_versions_of_each_other() -> None:
    g5 = {"id": "g5", "text": "The Gannet G5 phone was released in 2022."}
    g6 = {"id": "g6", "text": "The Gannet G6 phone was released in 2024."}
    assert in_force([g5, g6], "How big is the G5's battery?") == [g5, g6]


def test_a_version_holds_through_the_day_it_ends_and_before_is_the_one_replaced() -> None:
    """'fares from 1 May 2020 until 30 April 2024' still hold on 30 April; the version before
    the one in force now is the old one; a day before every version reads the first."""
    fares = [OLD, NEW]
    assert [d["id"] for d in in_force_at(fares, 20240430.0)] == [OLD["id"]]
    assert [d["id"] for d in in_force_at(fares, 20240501.0)] == [NEW["id"]]
    assert [d["id"] for d in in_force_at(fares, NOW, before=True)] == [OLD["id"]]
    assert [d["id"] for d in in_force_at(fares, 20100101.0)] == [OLD["id"]]
