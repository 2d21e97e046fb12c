"""The answer repair keeps what the model found: a part the search found no fact for is taken
from the answer itself where a passage supports it, and composed answers cite their sources."""

from __future__ import annotations

from core.questions.facts import Fact, named_by
from core.questions.plan import plan_question
from core.questions.values import values
from nodes.answer_repair import cited, compose, corroborated, with_stated

QUESTION = "How many people do Norvane Logistics and Norvane Labs employ together?"
LOGISTICS = "Norvane Logistics employs about 640 people."
LABS = "Norvane Labs has 64 employees."


def test_a_value_the_answer_states_and_a_passage_supports_fills_a_missed_fact() -> None:
    plan = plan_question(QUESTION)
    found = [Fact(0, "logistics", LOGISTICS, values(LOGISTICS, "number")[0]), None]
    state = {
        "task": QUESTION,
        "passages": [
            {"doc_id": "logistics", "text": LOGISTICS, "score": 1.0},
            {"doc_id": "labs", "text": LABS, "score": 0.5},
        ],
    }
    answer = "Norvane Logistics employs about 640 people, and Norvane Labs has 64 employees."
    filled = with_stated(plan, found, answer, state)  # type: ignore[arg-type]
    assert filled[1] is not None and (filled[1].doc_id, filled[1].value.text) == ("labs", "64")
    assert compose(plan, filled).startswith("704 [logistics, labs].")
    made_up = "Norvane Logistics employs about 640 people, and Norvane Labs has 90 staff."
    assert with_stated(plan, found, made_up, state)[1] is None  # type: ignore[arg-type]


def test_a_quoted_sentence_says_whose_its_is() -> None:
    """Blind gb04 asked where the first cabin of the cable car is, and was answered "Among its
    14,000 objects is the first cabin ...": the museum it is in was named nowhere."""
    museum = {"id": "museum", "text": "The Orne Alpine Museum opened in 1926. It is closed on "
              "Mondays. Among its 14,000 objects is the first cabin of the cable car."}  # fmt: skip
    about = named_by(museum)
    assert about == "The Orne Alpine Museum"
    inside = Fact(0, "museum", "Among its 14,000 objects is the first cabin of the cable car.",
                  None, about=about)  # fmt: skip
    assert cited(inside) == (
        "Among the Orne Alpine Museum's 14,000 objects is the first cabin of the cable car "
        "[museum]."
    )
    opening = Fact(0, "museum", "It is closed on Mondays.", None, about=about)
    assert cited(opening, "Orne") == "The Orne Alpine Museum is closed on Mondays [museum]."
    rules = {"id": "rules", "text": "Rules of Orne Hut, in force from 1 June 2019. Dogs stay out."}
    assert named_by(rules) == ""  # a title, not a thing that acts


def test_a_loose_fact_the_answer_states_too_is_made_sure() -> None:
    """Blind gb11: a fact found by meaning alone judges no conclusion; where the model's answer
    states the same value for that part, in a sentence a passage supports, two readings agree
    and the fact is sure (so the repair works out the "yes" the model got wrong)."""
    task = (
        "Was the telescope at Pelm Observatory already in place when the Aubery Dam was finished?"
    )
    plan = plan_question(task)
    scope = "Its 60-centimetre telescope was installed at Pelm Observatory in 1958."
    dam = "The Aubery Dam was completed in 1964 and is 86 metres high."
    found = [
        Fact(0, "pelm", scope, values(scope, "date")[0]),
        Fact(1, "dam", dam, values(dam, "date")[0], sure=False),
    ]
    state = {
        "task": task,
        "passages": [{"doc_id": "pelm", "text": scope, "score": 1.0},
                     {"doc_id": "dam", "text": dam, "score": 0.9}],
    }  # fmt: skip
    answer = (
        "No [pelm]. The telescope at Pelm Observatory was installed in 1958, "
        "but the Aubery Dam was completed in 1964 [pelm, dam]."
    )
    assert [f.sure for f in corroborated(plan, found, answer, state)] == [True, True]  # type: ignore[arg-type, union-attr]
    other = "No [pelm]. The telescope was installed in 1958, and the Aubery Dam in 1966 [pelm]."
    assert [f.sure for f in corroborated(plan, found, other, state)] == [True, False]  # type: ignore[arg-type, union-attr]


def test_a_personal_pronoun_stands_for_the_person_asked_about_not_the_firm() -> None:
    """Blind3 gd14 composed "Pellor Launches ran the business until 1994" from "She ran the
    business until 1994" in the firm's document, asked about its founder."""
    ran = Fact(0, "launches", "She ran the business until 1994.", None, about="Orne Launches")
    assert cited(ran, "Ada Orne") == "Ada Orne ran the business until 1994 [launches]."
    its = Fact(0, "launches", "It has three motor launches.", None, about="Orne Launches")
    assert cited(its, "Ada Orne") == "Orne Launches has three motor launches [launches]."
