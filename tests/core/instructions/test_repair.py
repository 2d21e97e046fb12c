"""Repairing against several instructions at once: every repair that helps, none that undoes
another."""

from __future__ import annotations

from core.instructions import check_all, parse_instructions, repair_all

DRAFT = (
    "Snow fell over the quiet town, and the dog barked at the window. Coffee steamed on the "
    "table.\n\nA scarf hung by the door. Nobody spoke, and then the sun rose."
)


def test_repairs_combine_and_all_pass() -> None:
    instructions = parse_instructions(
        [
            {"kind": "all_lowercase"},
            {"kind": "no_commas"},
            {"kind": "end_phrase", "phrase": "Any other questions?"},
            {"kind": "title"},
            {"kind": "paragraph_count", "exactly": 2},
            {"kind": "quotation"},
        ]
    )
    fixed, kinds = repair_all(DRAFT, instructions)
    assert check_all(fixed, instructions) == []
    assert set(kinds) == {i.kind for i in instructions}
    assert fixed.startswith('"<<')
    assert fixed.endswith('any other questions?"')
    assert "nobody spoke and then the sun rose." in fixed


def test_a_repair_that_breaks_another_is_not_kept() -> None:
    instructions = parse_instructions(
        [{"kind": "word_count", "at_most": 24}, {"kind": "end_phrase", "phrase": "Any questions?"}]
    )
    fixed, kinds = repair_all(DRAFT, instructions)
    assert kinds == ["word_count"]  # the phrase would push the count over again
    assert len(check_all(fixed, instructions)) == 1


def test_nothing_to_repair() -> None:
    instructions = parse_instructions(
        [{"kind": "no_commas"}, {"kind": "forbidden_words", "words": ["dog"]}]
    )
    fixed, kinds = repair_all(DRAFT, instructions)
    assert kinds == ["no_commas"]
    assert "dog" in fixed  # in the opening sentence, which a repair never takes out
    assert repair_all("   ", instructions) == ("   ", [])


def test_a_rule_s_second_way_to_repair_is_taken_where_the_first_breaks_another() -> None:
    """A title on top would come before the request said back (ifeval-k26); one after it
    keeps both."""
    request = "Explain in two sentences why the sky looks blue."
    instructions = parse_instructions(
        [{"kind": "repeat_prompt", "prompt": request}, {"kind": "title"}]
    )
    draft = f"{request} The sky scatters blue light most. So blue reaches the eye from all over."
    fixed, kinds = repair_all(draft, instructions)
    assert kinds == ["title"] and check_all(fixed, instructions) == []
    assert fixed == (
        f"{request}\n\n<<The Sky Scatters Blue Light Most>>\n\n"
        "The sky scatters blue light most. So blue reaches the eye from all over."
    )


def test_a_title_goes_after_a_request_of_several_sentences() -> None:
    request = "Describe the sea. Keep it short."
    instructions = parse_instructions(
        [{"kind": "repeat_prompt", "prompt": request}, {"kind": "title"}]
    )
    fixed, _ = repair_all(f"{request} The sea is grey today. Waves roll in.", instructions)
    assert (
        fixed == f"{request}\n\n<<The Sea Is Grey Today>>\n\nThe sea is grey today. Waves roll in."
    )
