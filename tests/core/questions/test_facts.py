"""Each part of a question finds the sentence that states it in its own document."""

from __future__ import annotations

from core.questions.facts import find_facts
from core.questions.plan import plan_question
from core.text.search import ranking

DOCUMENTS = [
    {"id": "norvane-logistics", "text": "Norvane Logistics was founded in 1998 in Halden. "
     "It employs 420 people and runs 60 trucks."},
    {"id": "norvane-labs", "text": "Norvane Labs, a software firm, was established in 2012. "
     "It employs 35 engineers."},
    {"id": "garden", "text": "The Mirela garden opened to the public in 1931. It covers 42 "
     "hectares."},
]  # fmt: skip


def facts_for(question: str) -> list:  # type: ignore[type-arg]
    plan = plan_question(question)
    rankings = [ranking(p.query, DOCUMENTS) for p in plan.parts]
    return find_facts(plan, DOCUMENTS, rankings)


def test_near_namesakes_each_find_their_own_document() -> None:
    logistics, labs = facts_for("Which was founded first, Norvane Logistics or Norvane Labs?")
    assert (logistics.doc_id, logistics.value.text) == ("norvane-logistics", "1998")
    assert (labs.doc_id, labs.value.text) == ("norvane-labs", "2012")  # "established": similar


def test_a_part_no_document_states_has_no_fact() -> None:
    logistics, garden = facts_for(
        "Was Norvane Logistics founded before the Mirela garden got its glasshouse?"
    )
    assert logistics is not None and logistics.doc_id == "norvane-logistics"
    assert garden is None or garden.doc_id == "garden"  # the garden's only date is its opening


def test_which_is_older_dates_a_founding_not_another_event_of_the_same_thing() -> None:
    """ "won the cup in 1978" shares "club" with the question; the founding shares no word with
    it and is the age asked for."""
    docs = [
        {"id": "rovers", "text": "Tallow Rovers FC was founded in 1921. The club won the "
         "regional cup in 1978 and 2016."},
        {"id": "athletic", "text": "The club has won the cup four times, most recently in 2022. "
         "Quell Athletic was founded in 1919 by miners."},
    ]  # fmt: skip
    plan = plan_question("Which football club is older, Tallow Rovers or Quell Athletic?")
    rankings = [ranking(p.query, docs) for p in plan.parts]
    rovers, athletic = find_facts(plan, docs, rankings)
    assert (rovers.value.text, athletic.value.text) == ("1921", "1919")
