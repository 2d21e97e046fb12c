"""Each part of a question finds the sentence that states it in its own document."""

from __future__ import annotations

from core.questions.chains import chained
from core.questions.checks import conclusion
from core.questions.facts import find_fact, find_facts, names_another, period_close
from core.questions.plan import Part, QuestionPlan, plan_question
from core.questions.values import values
from core.text.search import ranking

DOCUMENTS = [
    {"id": "norvane-logistics", "text": "Norvane Logistics was founded in 1998 in Halden. "
     "It employs 420 people and runs 60 trucks."},
    {"id": "norvane-labs", "text": "Norvane Labs, a software firm, was established in 2012. "
     "It employs 35 engineers."},
    {"id": "garden", "text": "The Mirela garden opened to the public in 1931. It covers 42 "
     "hectares."},
]  # fmt: skip


def found_in(plan: QuestionPlan, docs: list) -> list:  # type: ignore[type-arg]
    """Each part's fact in `docs`, every part searched for by its own query."""
    return find_facts(plan, docs, [ranking(p.query, docs) for p in plan.parts])


def facts_for(question: str) -> list:  # type: ignore[type-arg]
    return found_in(plan_question(question), DOCUMENTS)


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


def test_a_thing_dated_without_a_start_word_beats_another_thing_that_opened() -> None:
    """Both documents name the subject; the one about the thing asked for wins on its words."""
    docs = [
        {"id": "lifeboat", "text": "The lifeboat station at Lutz Harbour has been in service "
         "since 1926."},
        {"id": "health", "text": "Lutz Harbour Health Centre opened in 2011."},
        {"id": "lido", "text": "Caddenholm Lido opened in 1936."},
    ]  # fmt: skip
    plan = plan_question("Is the Lutz Harbour lifeboat station older than Caddenholm Lido?")
    rankings = [ranking(p.query, docs) for p in plan.parts]
    station, lido = find_facts(plan, docs, rankings)
    assert (station.doc_id, lido.doc_id) == ("lifeboat", "lido")


def test_words_of_one_stem_are_one_key_word_and_came_out_is_a_release() -> None:
    docs = [
        {"id": "firm", "text": "Norvane Labs was founded in 2012. The company has 64 employees."},
        {"id": "phone", "text": "The Gannet G5, released in 2022, has a 4,500 mAh battery. "
         "At the G6's launch in 2024, Gannet said the G5 gets updates until 2027."},
    ]  # fmt: skip
    [staff] = find_facts(
        plan := plan_question("How many people does Norvane Labs employ?"),
        docs,
        [ranking(p.query, docs) for p in plan.parts],
    )
    assert staff.value.text == "64" and staff.sure  # "employ" shares its stem with "employees"
    plan = plan_question("Was Gannet already based in Lutz when the G5 came out?")
    facts = found_in(plan, docs)
    assert facts[-1].value.text == "2022"


def test_a_count_is_the_number_of_the_thing_asked_about() -> None:
    docs = [
        {"id": "salt", "text": "The Saltwren carries 420 passengers and 90 cars."},
        {"id": "grey", "text": "The Greywren carries 300 passengers and 60 cars."},
    ]
    plan = plan_question("How many cars can the Saltwren and the Greywren carry between them?")
    facts = found_in(plan, docs)
    assert [f.value.text for f in facts] == ["90", "60"]


def test_a_date_is_the_one_nearest_the_event_asked_about() -> None:
    docs = [
        {"id": "ilse", "text": "Ilse Marrow graduated in 2005. She worked at Kestrel from 2008 "
         "to 2012 and then left to found Norvane Labs in 2013."},
    ]  # fmt: skip
    plan = plan_question("How long after graduating did Ilse Marrow found Norvane Labs?")
    facts = found_in(plan, docs)
    assert [f.value.text for f in facts] == ["2005", "2013"]


def test_a_price_of_another_thing_is_not_the_fact_of_a_cost_no_document_gives() -> None:
    docs = [
        {"id": "farm", "text": "The Wendry wind farm was extended in 2023 with 8 turbines."},
        {"id": "castle", "text": "Wendry Castle is open daily. Entry costs 12 marks."},
    ]
    plan = plan_question("How much did the 2023 extension of the Wendry wind farm cost?")
    assert found_in(plan, docs) == [None]


def test_a_who_question_needs_a_sentence_naming_someone_it_does_not() -> None:
    docs = [{"id": "club", "text": "Tallow Rovers FC was founded in 1921. It plays in red."}]
    plan = plan_question("Who founded Tallow Rovers FC?")
    assert find_facts(plan, docs, [ranking(plan.parts[0].query, docs)], plan.parts[0].query) == [
        None
    ]
    docs = [{"id": "club", "text": "Tallow Rovers FC was founded in 1921 by Ada Brenn."}]
    [found] = find_facts(plan, docs, [ranking(plan.parts[0].query, docs)], plan.parts[0].query)
    assert found is not None and "Ada Brenn" in found.sentence


def test_how_old_when_dates_the_thing_s_start_and_the_event() -> None:
    docs = [
        {"id": "castle", "text": "Wendry Castle was built in 1342 by the lords of Wendry. It "
         "was a ruin from the 1700s until a restoration that ran from 1996 to 1999."},
        {"id": "firm", "text": "Gannet Mobile was founded in 2015 in Caddenholm."},
    ]  # fmt: skip
    plan = plan_question("How old was Wendry Castle when its restoration began?")
    assert (plan.answer_type, plan.relation) == ("duration", "difference")
    facts = found_in(plan, docs)
    assert [(f.doc_id, f.value.text) for f in facts] == [("castle", "1342"), ("castle", "1996")]


def test_a_count_in_a_year_is_one_stated_for_that_year_not_a_capacity() -> None:
    docs = [
        {"id": "ferries", "text": "Pellucid Ferries has five ferries. The largest carries 420 "
         "passengers and 90 cars."},
        {"id": "air", "text": "Oskeby Air carried 212,000 passengers in 2023."},
    ]  # fmt: skip
    plan = plan_question("How many passengers did Pellucid Ferries carry in 2023?")
    assert found_in(plan, docs) == [None]
    docs[0]["text"] += " In 2023 its ferries carried 610,000 passengers."
    [found] = found_in(plan, docs)
    assert found is not None and found.value.text == "610,000"


def test_a_year_in_a_document_s_own_dating_covers_its_sentences() -> None:
    docs = [{"id": "report", "text": "Brinmouth Savings Bank, annual report 2023. The bank had "
             "285 staff at the end of the year."}]  # fmt: skip
    plan = plan_question("How many staff did Brinmouth Savings Bank have in 2023?")
    [found] = found_in(plan, docs)
    assert found is not None and found.value.text == "285"


def test_a_share_counts_nothing_unless_a_share_is_asked() -> None:
    docs = [{"id": "bank", "text": "Brinmouth Savings Bank, annual report 2023. Customer "
             "deposits grew by 6 percent."}]  # fmt: skip
    plan = plan_question("How many customers does Brinmouth Savings Bank have?")
    assert found_in(plan, docs) == [None]
    plan = plan_question("By what percentage did Brinmouth Savings Bank's deposits grow?")
    [found] = found_in(plan, docs)
    assert found is not None and found.value.text == "6"


def test_each_year_of_a_change_is_found_only_in_a_sentence_of_that_year() -> None:
    docs = [{"id": "report", "text": "Brinmouth Savings Bank, annual report 2023. At the end "
             "of 2023 the bank had 285 staff."}]  # fmt: skip
    plan = plan_question(
        "By how much did Brinmouth Savings Bank's staff shrink between the end of 2021 and the "
        "end of 2023?"
    )
    in_2021, in_2023 = found_in(plan, docs)
    assert in_2021 is None  # no document gives 2021's staff: the gap cannot be worked out
    assert in_2023 is not None and in_2023.value.text == "285"


def test_a_count_is_the_one_nearest_the_words_asked_about() -> None:
    docs = [{"id": "ferries", "text": "Pellucid Ferries sails to Oskeby. There are six sailings "
             "a day in each direction in summer and three a day in winter."}]  # fmt: skip
    plan = plan_question("How many times a day does the Pellucid ferry sail each way in winter?")
    [found] = found_in(plan, docs)
    assert found is not None and found.value.text == "three"


def test_a_sentence_whose_number_counts_the_thing_asked_beats_one_that_only_names_it() -> None:
    docs = [{"id": "bank", "text": "Merrow Bank, annual report 2024. It closed one branch, and "
             "a mobile branch now calls twice a week. The bank had 10 branches."}]  # fmt: skip
    plan = plan_question("How many branches does Merrow Bank have now?")
    [found] = found_in(plan, docs)
    assert found is not None and found.value.text == "10"


def test_a_span_of_years_holds_the_year_asked() -> None:
    docs = [{"id": "fares", "text": "Railway fares from 1 April 2021 to 31 March 2024: a single "
             "ticket costs 6 marks."}]  # fmt: skip
    plan = plan_question("What did I pay for a single ticket in 2023?")
    [found] = found_in(plan, docs)
    assert found is not None and found.value.text == "6 marks"
    plan = plan_question("What did I pay for a single ticket in 2019?")
    assert found_in(plan, docs) == [None]


def test_already_dates_a_period_from_its_start() -> None:
    """Whether someone already worked somewhere at a time asks when the work began."""
    docs = [
        {"id": "quist", "text": "Mara Quist was born in 1950. From 1971 to 1990 she taught "
         "history at Pell College, and in 1991 she opened a bookshop."},
        {"id": "pell", "text": "Pell College opened in 1890. Its library opened in 1962."},
    ]  # fmt: skip
    plan = plan_question("Was Mara Quist already teaching at Pell College when its library opened?")
    quist, library = found_in(plan, docs)
    assert (quist.value.text, library.value.text) == ("1971", "1962")


def test_a_compound_of_the_question_finds_the_sentence_that_says_its_parts_apart() -> None:
    docs = [
        {"id": "orne", "text": "Lake Orne rules: camping is allowed in the two marked zones. "
         "Open fires are banned all year; camping stoves are welcome."},
    ]  # fmt: skip
    [fact] = found_in(plan_question("Can I light a campfire at Lake Orne?"), docs)
    assert fact.sentence.startswith("Open fires are banned")


def test_each_side_of_a_change_is_read_from_the_version_in_force_at_its_time() -> None:
    """Both fare tables state both prices; the nearest price to "season pass" in the version of
    each time is that side's fact."""
    docs = [
        {"id": "zoo-2021", "text": "Orne Ferry fares from 1 March 2021 until 28 February 2025: "
         "a day ticket between Orne and Pell costs 14 crowns and a season pass 60 crowns."},
        {"id": "zoo-2025", "text": "Orne Ferry fares in force since 1 March 2025: a day ticket "
         "between Orne and Pell costs 15 crowns and a season pass 66 crowns."},
    ]  # fmt: skip
    plan = plan_question(
        "How much more does a season pass at Orne Zoo cost since March 2025 than before?"
    )
    before, after = found_in(plan, docs)
    assert (before.doc_id, before.value.text) == ("zoo-2021", "60 crowns")
    assert (after.doc_id, after.value.text) == ("zoo-2025", "66 crowns")


def test_an_amount_is_the_one_whose_own_words_name_the_thing_asked() -> None:
    docs = [{"id": "fares", "text": "A single ticket between Orne and Pell costs 9 florins and a "
             "return ticket 16 florins."}]  # fmt: skip
    [single] = found_in(
        plan_question("How much does a single ticket between Orne and Pell cost?"), docs
    )
    assert single.value.text == "9 florins"  # "ticket" stands nearer 16 florins
    [back] = found_in(plan_question("How much does a return ticket cost?"), docs)
    assert back.value.text == "16 florins"


PERMITS = [
    {"id": "permits-2020", "text": "Permits for the Orne Glacier Trail, in force from 1 June "
     "2020. A day permit costs 8 crowns and a season permit 45 crowns."},
    {"id": "permits-2025", "text": "Permits for the Orne Glacier Trail, in force from 1 June "
     "2025; they replace the permits of 1 June 2020. A day permit costs 12 crowns and a season "
     "permit 60 crowns."},
]  # fmt: skip


def test_a_change_against_before_reads_the_version_replaced() -> None:
    """Blind gb15: "under the 2025 rules than it was before" names no time for its earlier
    side; "in 2025" is the version in force once 2025's change is made, not on 1 January."""
    plan = plan_question(
        "How much dearer is a season permit for the Orne Glacier Trail under the 2025 rules than "
        "it was before?"
    )
    before, after = found_in(plan, PERMITS)
    assert (before.doc_id, before.value.text) == ("permits-2020", "45 crowns")
    assert (after.doc_id, after.value.text) == ("permits-2025", "60 crowns")
    before, _ = found_in(plan, PERMITS[1:])
    assert before is None  # no earlier version: the side before is in no document


def test_words_for_now_name_no_topic() -> None:
    """Blind gb22: "Who's the director ... these days?" took "Visiting hours are from 14:00 to
    20:00 every day" for sharing "days"."""
    docs = [{"id": "hospital", "text": "St Orne's Hospital has 310 beds. Visiting hours are "
             "from 14:00 to 20:00 every day."}]  # fmt: skip
    asked = "Who's the director of St Orne's Hospital these days?"
    plan = plan_question(asked)
    assert find_facts(plan, docs, [["hospital"]], asked) == [None]


def test_people_living_in_a_town_are_its_inhabitants() -> None:
    """Blind gb09 took "It employs 212 people" from a chocolate maker's document that names
    the town, over "Gristane had 9,450 inhabitants"."""
    docs = [
        {"id": "chocolate", "text": "The Orne Chocolate Company makes the Gristane Peak bar. "
         "It employs 212 people."},
        {"id": "gristane", "text": "Gristane is a mountain town. Gristane had 9,450 inhabitants "
         "at the 2021 census."},
    ]  # fmt: skip
    [found] = found_in(plan_question("How many people live in Gristane?"), docs)
    assert (found.doc_id, found.value.text) == ("gristane", "9,450")


def test_still_so_at_a_time_reads_when_its_period_ended() -> None:
    """Blind gb12: "Was the silver mine still working when the railway opened?" asks when
    the mine closed (1889), not when it opened (1612)."""
    docs = [
        {"id": "town", "text": "Orne grew around a silver mine that opened in 1612 and closed "
         "in 1889."},
        {"id": "railway", "text": "The Orne Railway opened on 9 August 1897."},
    ]  # fmt: skip
    plan = plan_question("Was the silver mine in Orne still working when the Orne Railway opened?")
    assert plan.relation == "later"
    mine, railway = found_in(plan, docs)
    assert (mine.value.text, railway.value.text) == ("1889", "9 August 1897")
    assert conclusion(plan, [mine, railway]).text == "no"


def test_a_sentence_counting_what_the_question_counts_is_its_fact() -> None:
    """Blind gb17 took the bus's first sentence, sharing as many words, over the one that
    counts the bicycles the question counts ("three bikes")."""
    docs = [{"id": "bus", "text": "Post bus line 7 runs between Orne and Pell over the pass "
             "road. Bicycles travel on the rear rack, at most 4 bicycles per bus."}]  # fmt: skip
    [found] = found_in(plan_question("Can I bring three bikes on the post bus to Pell?"), docs)
    assert found.sentence.startswith("Bicycles")


def test_when_a_period_ended_is_read_from_its_words_not_any_later_date() -> None:
    span = "From 1970 to 1986 she worked at the Orne Infirmary."
    start = values(span, "date")[0]
    assert period_close(span, start).text == "1986"
    moved = "The mine opened in 1612, and its owner moved to Pell in 1700."
    assert period_close(moved, values(moved, "date")[0]).text == "1612"  # "to" ends nothing


def test_a_thing_named_in_passing_finds_its_fact_in_its_own_document() -> None:
    """Blind3 gd11: the cottage hospital's page names the infirmary it sends patients to; the
    infirmary's beds are in the infirmary's own page, though both sentences count beds and the
    cottage hospital's reads a little more like the question."""
    docs = [
        {"id": "cottage", "text": "Pell Cottage Hospital opened in 1908 and has 18 beds, most of "
         "them used by older patients recovering after treatment elsewhere. Its minor injuries "
         "unit is open from 8 am to 8 pm every day. The hospital has no operating theatre, so "
         "patients who need emergency surgery are taken to Pell Infirmary."},
        {"id": "infirmary", "text": "Pell Infirmary opened in 1921 and is the main hospital for "
         "the lakes. It has 86 beds, two operating theatres and an emergency department that is "
         "open 24 hours a day. A helicopter landing pad was added beside the car park in 2009."},
    ]  # fmt: skip
    beds = Part(query="Pell Infirmary How many beds does it have?", subject="Pell Infirmary",
                value="number", bridge=True)  # fmt: skip
    found = find_fact(1, beds, docs)
    assert found is not None and (found.doc_id, found.value.text) == ("infirmary", "86")


def test_still_so_reads_the_sentence_that_ends_it_not_the_one_that_starts_it() -> None:
    """Blind3 gd14: "still running the launches" shares "launch" with the firm's founding
    (a start event), but asks when she stopped: "ran the business until 1994"."""
    docs = [
        {"id": "launches", "text": "Orne Launches was started in 1962 by Ada Orne at Pell. She "
         "ran the business until 1994, when her son took over."},
        {"id": "hostel", "text": "Pell Youth Hostel opened in 1989 in an old boathouse."},
    ]  # fmt: skip
    plan = plan_question(
        "Was Ada Orne still running the launches herself when Pell Youth Hostel opened?"
    )
    ran, hostel = found_in(plan, docs)
    assert (ran.value.text, hostel.value.text) == ("1994", "1989")
    assert conclusion(plan, [ran, hostel]).text == "yes"


def test_a_who_question_is_not_answered_by_its_own_words_or_a_date() -> None:
    """Blind3 gd21: "the Quenford Lantern Regatta ... on the last Saturday of August" names
    no one for "Who started the Lantern Regatta at Quenford?"."""
    asked = "Who started the Lantern Regatta at Orne?"
    assert not names_another(
        "The Orne Lantern Regatta is held on the last Saturday of August.", asked
    )
    assert names_another("It was started by Ada Pell in May 1953.", asked)


def test_who_is_in_charge_asks_for_a_director() -> None:
    docs = [{"id": "slate", "text": "Orne Slate Company quarries slate at Pell. In March 2024 "
             "Ada Pell became managing director, succeeding Tom Orne."}]  # fmt: skip
    [found] = found_in(plan_question("Who's in charge at the Orne Slate Company these days?"), docs)
    assert found is not None and "Ada Pell" in found.sentence


def test_a_look_up_leading_to_the_next_is_a_sentence_naming_its_subject_and_something_new() -> None:
    """Blind2 gc10: "the town where Gadwall Brewing is based" shares no word with "Gadwall
    Brewing is a brewery in Wrenhaven"; the brewery's sentence about the towns it supplies names
    no town, so it cannot lead on."""
    docs = [
        {"id": "brewing", "text": "Tolm Brewing is a brewery in Arra, founded in 2009 by two "
         "friends. The brewery began supplying all five of the valley's towns in 2023."},
        {"id": "arra", "text": "Arra sits on a low ridge above the river. It is the smallest of "
         "the valley's towns, with 1,745 residents."},
        {"id": "pell", "text": "Pell is the largest of the valley's towns, with 23,840 residents."},
    ]  # fmt: skip
    asked = "The town where Tolm Brewing is based - how many people live there?"
    plan = chained(
        plan_question(asked),
        '{"facts": [{"about": "Tolm Brewing", "look_up": "the town where Tolm Brewing is based"},'
        ' {"about": "that town", "look_up": "how many people live in that town"}]}',
        asked,
    )
    assert plan is not None
    town, people = find_facts(plan, docs, [ranking(p.query, docs) for p in plan.parts], asked)
    assert town is not None and town.sentence.startswith("Tolm Brewing is a brewery in Arra")
    assert people is not None and (people.doc_id, people.value.text) == ("arra", "1,745")
