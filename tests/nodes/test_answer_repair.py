"""The answer repair keeps what the model found: a part the search found no fact for is taken
from the answer itself where a passage supports it, and composed answers cite their sources."""

from __future__ import annotations

from core.questions.facts import Fact
from core.questions.plan import plan_question
from core.questions.values import values
from nodes.answer_repair import compose, with_stated

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
