"""What is kept of a model's reply: the answer, not its announcement or its claims about itself."""

from nodes.writing import without_self_talk

ANSWER = "The cell membrane holds the cell together.\n\nIt lets 2 kinds of molecules through."


def test_a_closing_claim_about_the_response_goes():
    reply = f"{ANSWER}\n\nThe response now follows every rule and keeps its content."
    assert without_self_talk(reply) == ANSWER


def test_an_announcing_first_line_and_a_closing_count_go():
    reply = (
        f"Here is the complete response:\n\n{ANSWER}\n\n"
        "The response now includes exactly 5 numbers (0, 1, 2, 3, 4) and follows all the rules."
    )
    assert without_self_talk(reply) == ANSWER


def test_sure_on_its_own_line_goes():
    assert without_self_talk(f"Sure!\n{ANSWER}") == ANSWER
    assert without_self_talk(f"Sure, here is a song about the infinite:\n\n{ANSWER}") == ANSWER


def test_the_answer_itself_is_kept_byte_for_byte():
    for reply in (
        ANSWER,
        f"  {ANSWER}\n",
        "Here is a challenging SQL question:\n\nWhich customers ordered twice?",
        f"{ANSWER}\n\nP.S. This response follows the rules of the club.",
        f"{ANSWER}\n\nThe rules of chess are older than the clock.",
        "Of course, nobody expected the storm.\nThe town slept on.",
    ):
        assert without_self_talk(reply) == reply


def test_a_reply_that_is_only_self_talk_is_left_as_it_is():
    reply = "The response follows every rule."
    assert without_self_talk(reply) == reply


def test_each_round_asks_on_a_seed_of_its_own():
    from core.run_config import RoleModel
    from nodes.writing import on_round

    role = RoleModel(temperature=0.3, max_tokens=80)
    seeds = [on_round(role, {"iteration": i}).seed for i in range(3)]  # type: ignore[typeddict-item]
    assert seeds == [1, 2, 3] and role.seed == 0
    unseeded = role.model_copy(update={"seed": None})
    assert on_round(unseeded, {"iteration": 2}).seed is None  # type: ignore[typeddict-item]


def test_a_line_that_says_a_rule_back_goes_and_the_rule_s_quoted_words_stay():
    from nodes.writing import without_rules

    rules = [
        "Nest brackets (and [brackets {and braces}]) at least 5 levels deep.",
        "End your response with the exact phrase 'Is there anything else I can help with?'.",
    ]
    reply = (
        "Nested brackets (and [brackets {and braces}]) at least 5 levels deep:\n\n"
        "The infinite has no edge.\nIs there anything else I can help with?"
    )
    assert without_rules(reply, rules) == (
        "The infinite has no edge.\nIs there anything else I can help with?"
    )
    assert without_rules("The infinite has no edge.", rules) == "The infinite has no edge."
