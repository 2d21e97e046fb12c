"""The deterministic validators on hand-made drafts."""

from __future__ import annotations

from typing import Any

import pytest

from core.text.plain import sentences
from nodes.validate import (
    SUPPORT_OVERLAP,
    check_citations,
    check_grounding,
    check_instructions,
    check_length,
    check_repetition,
    check_required_words,
    plan_talk,
    repeated_sentences,
    run_checks,
    support,
)

DOCS = [
    {
        "id": "kestrel",
        "text": "Kestrel Freight runs 84 locomotives, of which 31 are battery-electric.",
    },
    {"id": "garden", "text": "The Mirela garden covers 42 hectares on the south bank."},
]


def state(**extra: Any) -> dict[str, Any]:
    passages = [{"doc_id": d["id"], "text": d["text"], "score": 1.0} for d in DOCS]
    return {"task": "t", "documents": DOCS, "passages": passages, "constraints": {}, **extra}


def test_required_words_score_and_finding() -> None:
    s = state(constraints={"required_words": ["dog", "snow", "piano", "wine"]})
    score, findings = check_required_words("The dog ran through the snow.", s)
    assert score == 0.5
    assert findings[0]["data"] == ["piano", "wine"]
    assert findings[0]["severity"] == "error"


def test_a_word_only_in_a_list_of_words_is_not_used() -> None:
    """Dev cgh001's comma list of 24 of its 27 words outscored a redrafted story of 13."""
    s = state(constraints={"required_words": ["dog", "snow", "piano", "wine", "coffee"]})
    listed = "Snow falls, a dog barks, the piano waits, wine pours, coffee steams."
    assert check_required_words(listed, s)[0] == 0.0
    score, [finding] = check_required_words(f"The dog ran home. {listed}", s)
    assert score == 0.2 and finding["data"] == ["snow", "piano", "wine", "coffee"]


def test_length_limits() -> None:
    s = state(constraints={"max_words": 3, "max_sentences": 1})
    score, findings = check_length("One two three four. Five.", s)
    assert score == 0.0
    assert {f["data"][0] for f in findings} == {"max_words", "max_sentences"}
    assert check_length("One two.", s) == (1.0, [])


def test_repeated_sentences_are_found() -> None:
    text = "The dog ran. A cat sat. The dog ran! The cat sat on a mat."
    assert repeated_sentences(text) == ["The dog ran!"]
    score, _ = check_repetition(text, state())
    assert score == 0.75


def test_two_versions_of_a_fact_are_not_one_sentence_said_twice() -> None:
    """Fresh gf09's repaired answer quoted the fares of 2020 and of 2023, the same words with
    other numbers: flagged as a repeat, it was dropped and the answer fell back to one fare."""
    text = (
        "A single ticket cost 9 florins and a return ticket 16 florins [fares-2020]. "
        "A single ticket costs 12 florins and a return ticket 21 florins [fares-2023]."
    )
    assert repeated_sentences(text) == []
    again = "A single ticket cost 9 florins and a return 16 florins [fares-2020]."
    assert repeated_sentences(f"{text} {again}") == [again]


def test_grounding_accepts_supported_and_rejects_invented_numbers() -> None:
    ok = "Kestrel runs 84 locomotives, and 31 are battery-electric [kestrel]."
    assert check_grounding(ok, state()) == (1.0, [])
    score, findings = check_grounding("Kestrel has 40 battery-electric locomotives.", state())
    assert score == 0.0
    assert findings[0]["source"] == "grounding"


def test_a_yes_or_no_alone_claims_nothing_for_grounding_to_check() -> None:
    """ "Yes [d11, d07]." opening a right answer was judged unsupported (its one word is in no
    passage), and the loop restated or dropped it; the answer check judges the yes."""
    answer = "Yes [kestrel]. Kestrel runs 84 locomotives, and 31 are battery-electric [kestrel]."
    assert check_grounding(answer, state()) == (1.0, [])


def test_numbers_of_the_question_are_its_premise_not_a_claim() -> None:
    answer = "A Kestrel driver on a shift that starts at 23:00 gets a 15 percent supplement."
    source = "Night shifts, those starting after 22:00, carry a 15 percent supplement for drivers."
    assert support(answer, source) == 0.0  # 23:00 is in no document...
    question = "What supplement does a Kestrel driver get for a shift that starts at 23:00?"
    assert support(answer, source, question) >= SUPPORT_OVERLAP  # ...but it is in the question
    assert support("They get 20 percent.", source, question) == 0.0  # a number of its own is not


def test_citations_unknown_and_missing() -> None:
    score, findings = check_citations("It has 31 [kestrel]. It is big [nowhere].", state())
    assert {f["severity"] for f in findings} == {"error", "warning"}
    assert score < 0.5
    assert check_citations("It has 31 [kestrel].", state()) == (1.0, [])
    assert check_citations("It has 31 [document id: kestrel].", state()) == (1.0, [])


def test_run_checks_only_runs_the_planned_validators() -> None:
    s = state(plan={"validators": ["repetition"]}, constraints={"required_words": ["zebra"]})
    result = run_checks("No zebras here.", s)
    assert list(result["scores"]) == ["repetition"]


def test_a_count_that_misses_earns_partial_credit_and_nothing_else_does() -> None:
    plan = {"instructions": [
        {"kind": "conjunction_count", "at_least": 4, "read_from": "at least 4 conjunctions"},
        {"kind": "no_commas", "read_from": "no commas"},
    ]}  # fmt: skip
    state = {"task": "t", "plan": plan}
    score, findings = check_instructions("Tea and cake, but no jam.", state)  # type: ignore[arg-type]
    assert [f["source"] for f in findings] == [
        "instruction:conjunction_count", "instruction:no_commas",
    ]  # fmt: skip
    assert score == (0.5 * 2 / 4 + 0.0) / 2  # two of four conjunctions; a comma is a comma
    assert check_instructions("", state)[0] == 0.0  # type: ignore[arg-type]
    assert check_instructions("Tea and cake but no jam or bread so yes.", state) == (1.0, [])  # type: ignore[arg-type]


def test_a_rule_with_parts_earns_credit_for_the_parts_it_meets() -> None:
    plan = {"instructions": [{"kind": "all_punctuation", "read_from": "every punctuation mark"}]}
    state = {"task": "t", "plan": plan}
    one_missing = check_instructions("Tea, cake; jam: yes! Why? Really?!", state)[0]  # type: ignore[arg-type]
    three_missing = check_instructions("Tea, cake. Why? Why not?!", state)[0]  # type: ignore[arg-type]
    assert one_missing == pytest.approx(0.5 * 6 / 7)  # no full stop
    assert three_missing == pytest.approx(0.5 * 4 / 7)  # no ; : !
    assert 0 < three_missing < one_missing < 0.5  # nearer scores higher, never as a pass


def test_a_sentence_that_only_strings_words_together_is_a_list() -> None:
    from nodes.validate import check_repetition, listing_sentences

    listed = (
        "Snow blankets the street, a dog barks, coffee steams in the morning light, window "
        "view is beautiful, scarf protects the face, the dog runs."
    )
    told = "In the morning, when the snow fell, the dog ran to the window, and I drank coffee."
    apposed = "The mother, her hair a white mist, stood at the deck, her eyes on the lake."
    assert listing_sentences(f"{listed} {told} {apposed}") == [listed]
    salad = "Individual, oil, item, sweep the mow."  # lone words, then a verb: still a list
    colours = "Red, white and blue flags waved, and we sang."
    assert listing_sentences(f"{salad} {colours} {told}") == [salad]
    woven = {"config": "refine_default"}  # it looks for lists
    score, [finding] = check_repetition(f"{told} {listed}", woven)  # type: ignore[arg-type]
    assert score == 0.5 and finding["data"] == ["listing", listed]


def test_sentences_describing_the_plan_are_found_only_where_words_are_required() -> None:
    meta = "The plan for this story is to follow a hike. The next sentence describes a tent."
    story = "The first snow fell, and the story of that winter began with a dog at the window."
    assert plan_talk(f"{meta} {story}") == sentences(meta)
    words = {"config": "refine_default", "constraints": {"required_words": ["hike", "tent"]}}
    score, [finding] = check_repetition(f"{meta} {story}", words)  # type: ignore[arg-type]
    assert finding["data"] == ["plan", *sentences(meta)] and score == pytest.approx(1 / 3)
    echoed = "I thought about the words given to me, and I sat down."  # the prompts' own name
    assert plan_talk(f"{story} {echoed}") == [echoed]
    free = {"config": "refine_default", "task": "Describe the plan."}  # plans are the topic
    assert check_repetition(meta, free) == (1.0, [])  # type: ignore[arg-type]


def test_an_answer_looping_on_one_phrase_does_not_answer_its_question() -> None:
    from core.questions.facts import Fact
    from core.questions.plan import plan_question
    from core.questions.values import dates
    from nodes.validate import check_answer_to_question

    question = plan_question("When was the main telescope installed?")
    source = "The main telescope was installed in 1974."
    found = Fact(0, "d", source, dates(source)[0]).as_dict()
    state = {"task": "When was the main telescope installed?",
             "documents": [{"id": "d", "text": source}],
             "passages": [{"doc_id": "d", "text": source, "score": 1.0}],
             "plan": {"question": question.model_dump()}, "facts": [found]}  # fmt: skip
    loop = "It was installed in 1974, and its main telescope was installed in 1974, " * 6
    score, findings = check_answer_to_question(loop, state)  # type: ignore[arg-type]
    assert score == 0.0 and findings[0]["data"] == ["looping"]
    answer = "The main telescope was installed in 1974 [d]."
    assert check_answer_to_question(answer, state)[0] == 1.0  # type: ignore[arg-type]


def test_a_comparison_sentence_is_supported_by_its_two_documents_together() -> None:
    from nodes.validate import sources_of

    passages = [
        ("bridge", "The Senna Bridge opened in October 1978 and is 640 metres long."),
        ("hospital", "Brinmouth General Hospital opened in 1952 and has 420 beds."),
        ("garden", "The Mirela garden covers 42 hectares."),
    ]
    both = "The Senna Bridge opened in 1978, after Brinmouth General Hospital opened in 1952."
    assert sources_of(both, passages) == ["bridge", "hospital"]
    assert sources_of("The Senna Bridge opened in 1978.", passages) == ["bridge"]
    assert sources_of("The Senna Bridge opened in 1979.", passages) == []  # a year in neither


def test_a_number_worked_out_from_two_in_the_passages_is_supported() -> None:
    from nodes.validate import support

    passage = "The bank had 41,000 members at the end of 2022 and 44,500 at the end of 2024."
    assert support("The bank gained 3,500 members.", passage) > 0
    assert support("The bank had 85,500 members in all.", passage) > 0
    assert support("The bank gained 3,600 members.", passage) == 0.0


def test_a_value_worked_out_from_the_facts_is_grounded_though_no_document_states_it() -> None:
    from core.questions.facts import find_facts
    from core.questions.plan import plan_question
    from core.text.search import ranking

    docs = [
        {"id": "film", "text": "The Lutz Film Festival lasts eight days each spring."},
        {"id": "folk", "text": "Merrow Folk Days lasts five days each summer."},
    ]
    task = "Which lasts longer, Merrow Folk Days or the Lutz Film Festival, and by how many days?"
    plan = plan_question(task)
    facts = find_facts(plan, docs, [ranking(p.query, docs) for p in plan.parts], task)  # type: ignore[arg-type]
    asked = {
        "task": task,
        "documents": docs,
        "passages": [{"doc_id": d["id"], "text": d["text"], "score": 1.0} for d in docs],
        "plan": {"question": plan.model_dump()},
        "facts": [f.as_dict() if f else None for f in facts],
    }
    answer = (
        "The Lutz Film Festival lasts eight days [film]. It lasts longer by 3 days [film, folk]."
    )
    assert check_grounding(answer, asked)[0] == 1.0  # type: ignore[arg-type]
    wrong = (
        "The Lutz Film Festival lasts eight days [film]. It lasts longer by 4 days [film, folk]."
    )
    assert check_grounding(wrong, asked)[0] == 0.5  # type: ignore[arg-type]


def test_an_amount_of_money_is_worked_out_only_from_amounts_of_money() -> None:
    farm = "It opened with 22 turbines of 3.5 MW. In 2023 it gained 8 turbines of 5 MW."
    assert support("The extension cost £1.5 million.", farm) == 0.0  # 5 MW less 3.5 MW
    fares = "A pass cost 25 marks until 2024 and costs 28 marks now."
    assert support("A pass costs 3 marks more now.", fares) > 0.0  # 28 less 25 marks


def test_an_amount_with_a_unit_is_supported_only_in_that_unit() -> None:
    """Blind gb20: "about 3 miles north" passed as the gap between 1958 and 1961 in a passage
    that gives no distance; a unit of measure must be the passage's own, or worked out from
    two amounts in it."""
    from nodes.validate import measures, support

    cableway = "Corvell Cableways was founded in 1958, and the cable car opened in 1961."
    assert support("Orvik Gap lies about 3 miles north of the cable car.", cableway) == 0.0
    dams = "The Aubery Dam is 86 metres high. The Scarrow weir is a 64-metre wall."
    assert support("The Aubery Dam is 22 metres higher than the weir.", dams) > 0.0
    assert support("The Aubery Dam is 86 m high.", dams) > 0.0
    assert support("The Aubery Dam is 86 feet high.", dams) == 0.0
    road = "Vehicles over 7.5 tonnes may not use the pass road."
    asked = "Could a 12-tonne lorry use the pass road?"
    assert support("A 12-tonne lorry is over 7.5 tonnes [road].", road, asked) > 0.0
    assert measures("£1.5 m and 1,140 m") == {("1140", "metre")}  # money is not metres
