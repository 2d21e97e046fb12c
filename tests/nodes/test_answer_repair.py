"""The answer repair keeps what the model found: a part the search found no fact for is taken
from the answer itself where a passage supports it, and composed answers cite their sources."""

from __future__ import annotations

from core.questions.facts import Fact, named_by
from core.questions.plan import plan_question
from core.questions.values import values
from nodes.answer_repair import cited, compose, with_stated

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
