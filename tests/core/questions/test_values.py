"""Values read from text compare as what they mean: dates by day, durations in days."""

from __future__ import annotations

from core.questions.values import dates, durations, money, numbers, times, values


def test_dates_in_every_common_form_compare_in_time_order() -> None:
    found = dates("Founded in 2009, moved on 2 May 2017, renamed in March 2017, sold 2020-01-15.")
    assert [v.text for v in found] == ["2009", "2 May 2017", "March 2017", "2020-01-15"]
    amounts = [v.amount for v in found]
    assert amounts[0] < amounts[2] < amounts[1] < amounts[3]


def test_durations_convert_units_so_months_and_years_compare() -> None:
    two_years, eighteen_months, week = durations("2 years, eighteen months and a week")
    assert two_years.amount > eighteen_months.amount > week.amount
    assert abs(week.amount - 7) < 1e-9


def test_working_days_are_durations_a_fifth_of_a_week_each() -> None:
    ten, fifteen, calendar = durations("up to 10 working days, 15 business days, 3 calendar days")
    assert (ten.text, ten.amount) == ("10 working days", 14.0)
    assert fifteen.amount == 21.0 and calendar.amount == 3.0
    assert numbers("Repairs take up to 10 working days.") == []


def test_a_year_before_1500_is_a_date_only_after_in_since_from_until_or_of() -> None:
    assert [v.text for v in dates("Built in 1342, it has 1342 seats.")] == ["1342"]
    assert [v.text for v in numbers("Built in 1342, it has 1342 seats.")] == ["1342"]


def test_a_number_inside_a_date_a_duration_or_a_clock_time_is_not_a_count() -> None:
    text = "Since 2017 it runs 1,200 trains, shifts of 9 hours, from 8:00."
    assert [v.amount for v in numbers(text)] == [1200.0]
    assert [v.amount for v in times(text)] == [480.0]
    assert values(text, "duration")[0].text == "9 hours"


def test_a_year_is_not_read_out_of_a_longer_number() -> None:
    assert dates("Order 120174 shipped.") == []


def test_money_in_a_currency_of_any_common_name() -> None:
    assert [
        v.amount for v in money("A ticket costs 7 marks, a pass 25 rupees or 3 shillings.")
    ] == [
        7.0,
        25.0,
        3.0,
    ]


def test_money_is_a_number_with_its_currency() -> None:
    found = money("A ticket is 18 crowns (€4.50); children pay 2.80 euros. It holds 1.7 litres.")
    assert [(v.text, v.amount) for v in found] == [
        ("18 crowns", 18.0),
        ("€4.50", 4.5),
        ("2.80 euros", 2.8),
    ]


def test_counts_written_in_words_are_numbers_but_one_and_parts_of_words_are_not() -> None:
    found = numbers("Six sailings a day in summer, three in winter, forty-two in all.")
    assert [(v.text, v.amount) for v in found] == [
        ("Six", 6.0), ("three", 3.0), ("forty-two", 42.0)
    ]  # fmt: skip
    assert numbers("One of them is a two-year plan, four minutes away.") == []


def test_once_and_twice_are_counts_but_once_meaning_when_is_not() -> None:
    found = numbers("Books can be renewed once. Once the snow melts, it opens twice a year.")
    assert [(v.text, v.amount) for v in found] == [("once", 1.0), ("twice", 2.0)]


def test_a_duration_in_two_units_is_one_duration_but_a_list_is_not() -> None:
    [trip] = durations("The trip takes 1 hour 35 minutes in each direction.")
    assert trip.text == "1 hour 35 minutes" and round(trip.amount * 1440) == 95
    assert len(durations("2 years, eighteen months and a week")) == 3
