"""The question planner splits a question into the facts it needs and says what kind of answer
it wants."""

from __future__ import annotations

import pytest

from core.questions.plan import (
    answer_type,
    asks_gap,
    changed,
    entities,
    is_question,
    plan_question,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Is the garden open on Sundays?", "yes_no"),
        ("At most how long may a driver work in one shift?", "duration"),
        ("For how many days are deleted notes kept?", "duration"),
        ("In which year did the office move?", "date"),
        ("When are drivers paid?", "when"),
        ("What happens when I export 2,000 notes?", "other"),
        ("How many locomotives are battery-electric?", "number"),
        ("What time does the garden close in November?", "time"),
        ("Who founded the company?", "name"),
        ("How much does the Lumo K2 kettle cost?", "money"),
        ("What do two adults and a 10-year-old pay to get in?", "money"),
    ],
)
def test_the_kind_of_answer_comes_from_the_wording(question: str, kind: str) -> None:
    assert answer_type(question) == kind


def test_a_choice_between_two_things_needs_a_fact_for_each() -> None:
    plan = plan_question("Which was founded first, Kestrel Freight or Tova Labs?")
    assert plan.options == ["Kestrel Freight", "Tova Labs"]
    assert [p.subject for p in plan.parts] == ["Kestrel Freight", "Tova Labs"]
    assert plan.relation == "earlier" and {p.value for p in plan.parts} == {"date"}


def test_a_condition_needs_a_fact_for_each_clause() -> None:
    plan = plan_question("Was the head office already in Orlen when the Mirela garden opened?")
    assert plan.answer_type == "yes_no" and plan.relation == "earlier"
    assert [p.query for p in plan.parts] == [
        "the head office already in Orlen",
        "the Mirela garden opened",
    ]


def test_a_than_comparison_asks_the_same_of_the_other_thing() -> None:
    plan = plan_question("Is Kestrel's warranty longer than Tova's?")
    assert [p.query for p in plan.parts] == ["Kestrel's warranty longer", "Tova's warranty longer"]
    assert plan.relation == "more" and plan.parts[0].value == "duration"


def test_both_sides_of_a_comparison_are_measured_alike() -> None:
    # only the first side says "longer": the other's value is a duration all the same
    plan = plan_question(
        "Does Parcelo keep its tracking data longer than Gleam keeps deleted records?"
    )
    assert [p.subject for p in plan.parts] == ["Parcelo", "Gleam"]
    assert [p.value for p in plan.parts] == ["duration", "duration"]


def test_a_sum_needs_a_fact_for_each_thing_summed() -> None:
    plan = plan_question("How many locomotives do Kestrel Freight and Norvane Labs have together?")
    assert plan.relation == "sum"
    assert [p.subject for p in plan.parts] == ["Kestrel Freight", "Norvane Labs"]
    assert all(p.value == "number" for p in plan.parts)


def test_a_capitalised_opening_word_is_not_the_subject() -> None:
    plan = plan_question(
        "Without renewing, how many days longer can I keep a book at Tallowford than at Quessly?"
    )
    assert [p.subject for p in plan.parts] == ["Tallowford", "Quessly"]


def test_a_sum_said_as_between_them_needs_a_fact_for_each_thing() -> None:
    plan = plan_question(
        "How many beds do Brinmouth Hospital and Varnholt Clinic have between them?"
    )
    assert plan.relation == "sum"
    assert [p.subject for p in plan.parts] == ["Brinmouth Hospital", "Varnholt Clinic"]


def test_how_long_between_two_events_needs_both_dates() -> None:
    plan = plan_question("How long after Kestrel Freight was founded did Tova release its app?")
    assert plan.relation == "difference" and plan.answer_type == "duration"
    assert [p.value for p in plan.parts] == ["date", "date"]
    assert plan.parts[0].query == "Kestrel Freight was founded"


def test_before_or_after_is_a_choice_of_order() -> None:
    plan = plan_question("Did Kestrel move its office before or after Tova was released?")
    assert plan.options == ["before", "after"] and len(plan.parts) == 2


def test_a_plain_question_is_one_part_about_its_named_thing() -> None:
    plan = plan_question("Can I bring my dog to the Mirela garden?")
    assert not plan.multi and plan.parts[0].subject == "Mirela"


def test_names_skip_question_words_articles_and_the_pronoun_i() -> None:
    assert entities("Which came first, the Palm Hall or Kestrel's depot? I wonder") == [
        "Palm Hall",
        "Kestrel",
    ]


def test_a_request_that_is_not_a_question_is_not_planned_as_one() -> None:
    assert is_question("When did it open?") and is_question("Tell me: is it open?")
    assert not is_question("Summarise the documents in three sentences.")


def test_a_clause_that_only_qualifies_the_one_fact_is_not_a_second_part() -> None:
    plan = plan_question("How many spectators did Pitfield Park hold before it was extended?")
    assert not plan.multi and plan.answer_type == "number"


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("When was Oskeby harbour built?", "date"),
        ("When did Halden Cycles start making e-bikes?", "date"),
        ("When is the Museum of Salt open?", None),
    ],
)
def test_when_something_happened_is_a_date_when_it_is_open_is_not(
    question: str, value: str | None
) -> None:
    assert plan_question(question).parts[0].value == value


def test_a_name_after_a_possessive_is_the_thing_asked_about() -> None:
    plan = plan_question("How many times can I renew a book at Tallowford library's East Branch?")
    assert plan.parts[0].subject == "East Branch"
    plan = plan_question(
        "How many days longer can I keep a book from Tallowford's main library than from its "
        "East Branch?"
    )
    assert [p.subject for p in plan.parts] == ["Tallowford", "East Branch"]
    assert "days longer" in plan.parts[1].query  # asked alike of both


def test_a_condition_s_clause_about_its_thing_names_the_thing_named_before() -> None:
    """ "when its library opened": the library of the last thing named in the first clause."""
    plan = plan_question("Was Mara Quist already teaching at Pell College when its library opened?")
    assert plan.relation == "earlier" and len(plan.parts) == 2
    assert plan.parts[1].query == "Pell College's library opened"
    assert [p.value for p in plan.parts] == ["date", "date"]


def test_a_question_about_that_carries_the_sentences_it_refers_to() -> None:
    plan = plan_question(
        "A group of 12 wants to camp by Lake Orne for five nights. Is that allowed?"
    )
    assert plan.answer_type == "yes_no" and not plan.multi
    assert "five nights" in plan.parts[0].query and plan.parts[0].subject == "Lake Orne"
    alone = plan_question("Lake Orne is large. Is camping allowed at Lake Orne?")
    assert alone.parts[0].query == "Is camping allowed at Lake Orne?"  # nothing referred to


@pytest.mark.parametrize(
    ("question", "sides"),
    [
        (
            "By how much did the price of a day ticket at Orne Zoo go up in 2025?",
            ["the price of a day ticket at Orne Zoo in 2024",
             "the price of a day ticket at Orne Zoo in 2025"],
        ),
        (
            "How many pupils did Pell School lose between the end of 2019 and the end of 2022?",
            ["Pell School pupils at the end of 2019", "Pell School pupils at the end of 2022"],
        ),
        (
            "How much more does a season pass cost since March 2025 than before?",
            ["a season pass cost earlier than in March 2025", "a season pass cost in March 2025"],
        ),
        (
            "How much dearer is a season permit for the Orne Trail under the 2025 rules than it "
            "was before?",
            ["a season permit for the Orne Trail earlier than in 2025",
             "a season permit for the Orne Trail in 2025"],
        ),
        (
            "How much more does an adult return on the Orne ferry cost now compared with the old "
            "fares?",
            ["an adult return on the Orne ferry cost earlier than now",
             "an adult return on the Orne ferry cost now"],
        ),
    ],
)  # fmt: skip
def test_a_change_over_time_is_one_thing_at_two_times_earlier_first(
    question: str, sides: list[str]
) -> None:
    plan = plan_question(question)
    assert plan.relation == "difference" and [p.query for p in plan.parts] == sides
    assert all(p.dated for p in plan.parts)
    assert plan.parts[0].value == plan.parts[1].value != "date"


def test_a_change_without_two_times_is_no_change_question() -> None:
    assert changed("How many pupils did Pell School lose?") == []
    assert not plan_question("How much did a season pass cost in March 2025?").multi


def test_after_its_event_qualifies_the_one_fact_asked_for() -> None:
    plan = plan_question("When did the Orne Gallery reopen after its renovation?")
    assert not plan.multi and plan.parts[0].subject.endswith("Orne Gallery")


def test_the_other_side_of_than_replaces_a_possessive_name_as_written() -> None:
    plan = plan_question("How many more beds does St Bride's Hospital have than Orne Hospital?")
    assert [p.subject for p in plan.parts] == ["St Bride Hospital", "Orne Hospital"]
    assert "Orne Hospital" in plan.parts[1].query and "Bride" not in plan.parts[1].query


@pytest.mark.parametrize(
    "question",
    [
        "How much is a single ticket on the Orne railway?",
        "What is the annual budget of the Orne Rescue Trust?",
        "How much dearer is a day permit than a night permit?",
    ],
)
def test_a_price_asked_in_other_words_is_money(question: str) -> None:
    """Blind gb21 and gb24 ("How much is a single ticket ...?", "What is the annual budget of
    ...?"), which no document answers, were asked as a number or anything, and took "climbs 360
    metres" and "is a charity that funds mountain rescue" for their answers."""
    assert answer_type(question) == "money"


@pytest.mark.parametrize(
    "question",
    [
        "Does Gristane or Mendle have more people living in it, and by how many?",
        "What's higher up, Orne Hut or the top of the Orne pass road? By how many metres?",
        "Which is the quicker ride, bus line 7 to Orne or the railway to Pell, and what's the "
        "difference in travel time?",
    ],
)
def test_a_choice_with_its_gap_asked_in_a_users_words(question: str) -> None:
    """Blind gb07-gb09: a choice opened by "Does", a gap asked in a sentence of its own, and
    "what's the difference": each is two options compared, and how far apart they are."""
    plan = plan_question(question)
    assert len(plan.options) == 2 and plan.gap and plan.relation in ("more", "less")
    assert [p.subject for p in plan.parts] != ["", ""]
    assert not any(p.query.lower().startswith("what") for p in plan.parts)


def test_a_request_after_the_question_is_context_not_the_question() -> None:
    plan = plan_question("When did the Pell Tramway first open? I'd like the exact date.")
    assert [p.query for p in plan.parts] == ["When did the Pell Tramway first open?"]
    assert plan.parts[0].subject == "Pell Tramway"


def test_a_stated_case_before_a_yes_no_question_is_part_of_what_it_asks() -> None:
    plan = plan_question("We're a party of 9 walkers. Can we all sleep at Brenn Hut?")
    assert "9 walkers" in plan.parts[0].query and plan.parts[0].subject == "Brenn Hut"
    owned = plan_question("Our trailer weighs 3 tonnes. Is the Kell Bridge open to it?")
    assert owned.parts[0].subject == "Kell Bridge"  # "Our" opens a sentence, it names nothing


@pytest.mark.parametrize(
    "question",
    [
        "Which is taller, the Tolm tower or the Arra spire? And by roughly how much?",
        "Is Tolm much bigger than Arra? How many more people live there, roughly?",
    ],
)
def test_a_gap_asked_in_its_own_words_follows_the_comparison(question: str) -> None:
    plan = plan_question(question)
    assert plan.multi and plan.gap and plan.relation == "more"
    assert all(p.value == "number" for p in plan.parts)


def test_what_a_gap_follow_up_counts_goes_into_each_side() -> None:
    plan = plan_question("Is Tolm much bigger than Arra? How many more people live there?")
    assert all(p.query.endswith("people live") for p in plan.parts)


def test_being_around_longer_is_being_older() -> None:
    plan = plan_question("Which clinic has been around longer, Tolm Clinic or Arra Clinic?")
    assert plan.relation == "earlier" and all(p.value == "date" for p in plan.parts)


def test_the_year_before_is_the_year_before_the_one_named() -> None:
    plan = plan_question("Did Tolm Dairy sell more cheese in 2024 than the year before?")
    assert [p.query for p in plan.parts] == [
        "Tolm Dairy sell more cheese in 2024",
        "Tolm Dairy sell more cheese in 2023",
    ]


def test_since_a_year_is_from_then_to_now() -> None:
    assert changed("How much has a day ticket on the Tolm tram gone up since 2022?") == [
        "a day ticket on the Tolm tram in 2022",
        "a day ticket on the Tolm tram now",
    ]
    assert answer_type("How much has an adult return on the ferry gone up?") == "money"


def test_a_longer_ride_by_distance_is_a_length_and_options_may_end_in_a_comma() -> None:
    plan = plan_question(
        "Distance-wise, which is the longer ride: the tram from Tolm to Arra, or the bus to Arra?"
    )
    assert plan.options == ["tram from Tolm to Arra", "bus to Arra"]
    assert all(p.value == "number" for p in plan.parts)


def test_a_lone_opening_adverb_or_ing_word_is_no_name() -> None:
    assert entities("Roughly how many people work for Tolm Launches?") == ["Tolm Launches"]
    assert entities("Thinking of taking my dad to Arra Museum. Is it open?") == ["Arra Museum"]
    assert entities("Honestly, is Ely open?") == ["Ely"]
    # a town that happens to end so, before a verb, stays a name
    assert entities("Kettering has 5 pools. Ely is small.") == ["Kettering", "Ely"]


def test_a_few_words_and_a_colon_before_the_question_are_context() -> None:
    plan = plan_question("Out of curiosity: who founded the Tolm boatyard?")
    assert plan.answer_type == "name"


def test_a_comparison_after_a_lead_naming_both_and_its_gap_in_any_words() -> None:
    plan = plan_question(
        "Between the Tolm and the Arra, which steamer has been around longer, and how many "
        "years older is she?"
    )
    assert plan.options == ["Tolm", "Arra"] and plan.gap and plan.relation == "earlier"
    deeper = plan_question(
        "Is Tolm Water much deeper than Arra Water? How many metres in it, comparing their "
        "deepest points?"
    )
    assert [p.subject for p in deeper.parts] == ["Tolm Water", "Arra Water"] and deeper.gap
    assert not asks_gap("How many beds does Tolm Infirmary have?")  # a thing of its own


def test_a_rise_asked_now_against_a_year_said_before() -> None:
    plan = plan_question(
        "I last took the Tolm ferry in 2021. How much more is an adult return now?"
    )
    assert [p.query for p in plan.parts] == ["an adult return in 2021", "an adult return now"]
    assert plan.relation == "difference" and all(p.dated for p in plan.parts)


def test_an_amount_set_against_another_year_in_a_follow_up() -> None:
    plan = plan_question(
        "How much cheese did Tolm Dairy sell in 2024? And was that more or less than in 2022, "
        "by how much?"
    )
    assert [p.query for p in plan.parts] == [
        "How much cheese did Tolm Dairy sell in 2022?",
        "How much cheese did Tolm Dairy sell in 2024?",
    ]
    assert plan.relation == "more" and plan.gap and all(p.dated for p in plan.parts)
