"""The model's chain of look-ups is trusted only where it can be checked: the first is about a
thing the question names and finds a name, the next is about "that" thing; anything else leaves
the rules' plan as it was."""

from __future__ import annotations

import json

from core.questions.chains import chained, worth_asking
from core.questions.plan import plan_question

CHAIN = "The town where Harwick Brewing is based - how many people live there?"


def reply(*facts: tuple[str, str]) -> str:
    return json.dumps({"facts": [{"about": a, "look_up": q} for a, q in facts]})


def test_a_described_thing_is_found_first_then_asked_about() -> None:
    rules = plan_question(CHAIN)
    assert not rules.multi and worth_asking(CHAIN, rules)
    plan = chained(
        rules,
        reply(
            ("Harwick Brewing", "the town where Harwick Brewing is based"),
            ("that town", "how many people live in that town"),
        ),
        CHAIN,
    )
    assert plan is not None
    first, then = plan.parts
    assert (first.query, first.subject, first.bridge) == (
        "the town where Harwick Brewing is based",
        "Harwick Brewing",
        False,
    )
    assert then.bridge and then.subject == "" and then.value == rules.parts[0].value == "number"
    assert plan.answer_type == "number" and plan.relation == "none" and plan.compared == 0


def test_the_found_thing_may_be_called_by_its_own_noun_again() -> None:
    asked = "Who founded the yard that built the Venn lifeboat?"
    plan = chained(
        plan_question(asked),
        reply(
            ("Venn lifeboat", "the yard that built the Venn lifeboat"),
            ("the yard", "who founded the yard"),
        ),
        asked,
    )
    assert plan is not None and plan.parts[1].bridge
    other = reply(
        ("Venn lifeboat", "the yard that built the Venn lifeboat"),
        ("the crew", "who leads the crew"),
    )
    assert chained(plan_question(asked), other, asked) is None


def test_the_first_look_up_names_its_subject_where_the_model_left_it_out() -> None:
    question = "Which ferry did Corran Yard build, and who runs the company that owns it?"
    asked = "Which of the ferries that Corran Yard built is the largest?"
    plan = chained(
        plan_question(asked),
        reply(("Corran Yard", "which ferries it built"), ("those ferries", "the largest one")),
        asked,
    )
    assert plan is not None and plan.parts[0].query == "Corran Yard: which ferries it built"
    assert plan_question(question).multi  # the rules split an "and" themselves: no call
    assert not worth_asking(question, plan_question(question))


def test_a_reply_that_chains_nothing_leaves_the_rules_plan() -> None:
    rules = plan_question(CHAIN)
    named = ("Harwick Brewing", "the town where Harwick Brewing is based")
    unusable = [
        "not json",
        json.dumps({"facts": []}),
        reply(named),  # one look-up: nothing to chain
        # the second is about a thing of its own, not what the first found
        reply(named, ("Harwick", "how many people live in Harwick")),
        # the first is about a thing the question never names
        reply(("Selby Maltings", "the town where it is based"), ("that town", "its people")),
        # the first finds no name ("the lighthouse at Quaysend" is named already)
        reply(("Harwick Brewing", "Harwick Brewing's brewery"), ("that brewery", "its size")),
    ]
    for text in unusable:
        assert chained(rules, text, CHAIN) is None, text


def test_only_a_one_part_question_with_a_describing_clause_is_worth_a_call() -> None:
    for question in [
        "When did Harwick Brewing open?",
        "Which opened first, Harwick Brewing or the Selby Maltings?",
    ]:
        assert not worth_asking(question, plan_question(question)), question
    multi = plan_question("Which opened first, Harwick Brewing or the Selby Maltings?")
    assert chained(multi, reply(("Harwick Brewing", "where"), ("that", "x y z")), "") is None
