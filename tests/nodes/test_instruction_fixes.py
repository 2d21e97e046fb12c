"""Limits on the model work a run spends on instructions."""

from __future__ import annotations

from typing import Any

from core.run_config import load_config
from core.state import RefineState
from nodes.instruction_fixes import (
    MAX_REWORDS,
    before_the_closing,
    follow_instructions,
    until_it_loops,
)

TEXT = (
    "The harbour wakes at dawn. The fishing boats go out to sea. The gulls follow them over the "
    "grey water until noon."
)


def state(**spent: int) -> RefineState:
    usage: dict[str, Any] = {"by_node": {node: {"calls": n} for node, n in spent.items()}}
    return {  # type: ignore[typeddict-item]
        "task": "Describe a harbour. Use the word 'lantern' at least 20 times.",
        "plan": {"instructions": [
            {"kind": "keyword_frequency", "keyword": "lantern", "at_least": 20},
        ]},
        "usage": usage,
        "iteration": 3,
        "config": "refine_default",
    }  # fmt: skip


async def test_once_the_run_s_rewordings_and_rewrite_are_spent_no_model_call_is_made() -> None:
    followed = await follow_instructions(
        TEXT, state(reword=MAX_REWORDS, rewrite=1), load_config("refine_default")
    )
    assert followed is not None
    text, usage = followed
    assert text == TEXT and usage["calls"] == 0  # no server is running: a call would fail


def test_a_text_growing_towards_the_sentence_a_keyword_is_ruled_into_earns_credit() -> None:
    from nodes.validate import check_instructions

    ruled: RefineState = {  # type: ignore[typeddict-item]
        "task": "t",
        "plan": {"instructions": [{"kind": "keyword_in_sentence", "keyword": "x", "sentence": 10}]},
    }
    short, _ = check_instructions("One. Two. Three. Four.", ruled)
    longer, _ = check_instructions("One. Two. Three. Four. Five. Six. Seven. Eight.", ruled)
    assert 0 < short < longer < 0.5  # nearer is better, and never a pass


def test_a_sub_task_carries_a_short_gist_of_the_request_in_any_script() -> None:
    from nodes.instruction_fixes import GIST_CHARS, gist

    assert gist("Describe a harbour.") == "Describe a harbour."
    assert gist(" ".join(["tide"] * 40)) == " ".join(["tide"] * 30) + " ..."
    long_without_spaces = "中国书法" * 200 + " Include ten palindromes."
    assert len(gist(long_without_spaces)) <= GIST_CHARS + 4


def test_a_reworded_sentence_that_says_the_old_one_first_keeps_only_the_new() -> None:
    from nodes.instruction_fixes import without_the_old

    old = "Games are seen as therapy rather than fun."
    assert without_the_old(old, f"{old} Games are seen as therapy, but not as fun.") == (
        "Games are seen as therapy, but not as fun."
    )
    assert without_the_old(old, "Games are seen as therapy, yet not as fun.") == (
        "Games are seen as therapy, yet not as fun."
    )
    assert without_the_old(old, old) == old  # nothing else said: left for the tests after


def test_a_rewording_that_copies_the_request_is_not_kept() -> None:
    from nodes.instruction_fixes import borrowed, gist

    task = (
        "What should the world's smartest man, surrounded by corruption, greed, inequity, "
        "madness, inequality, an establishment who preached conspiracy theories and wild "
        "speculations over truth, do with his life? Include keyword labyrinth five times."
    )
    about = gist(task)
    old = "He should then consider the consequences of his actions."
    copied = (
        "He should then consider the consequences of his actions in the labyrinth of "
        "corruption, greed, inequity, madness, inequality, an establishment ..."
    )
    assert borrowed(old, copied, about)
    kept = "He should then weigh, in this labyrinth, what his actions cause."
    assert not borrowed(old, kept, about)
    said_before = "Corruption, greed, inequity, madness, inequality and an establishment rule."
    assert not borrowed(said_before, said_before[:-1] + " in a labyrinth.", about)


def test_a_label_before_a_reworded_sentence_is_not_kept() -> None:
    from nodes.instruction_fixes import unlabelled

    assert unlabelled("Exclamation: I lament the chaos!") == "I lament the chaos!"
    assert unlabelled("Rewritten sentence: Is it late?") == "Is it late?"
    assert unlabelled("Question time: is it late?") == "Question time: is it late?"


def test_a_rewording_that_quotes_the_old_sentence_is_not_kept() -> None:
    from nodes.instruction_fixes import quoted_more

    old = "The war was fought on all continents."
    assert quoted_more(old, '"The war was fought on all continents," do you think it was?')
    assert not quoted_more(old, "Was the war fought on all continents?")
    assert not quoted_more('She said "go" twice.', 'Did she say "go" twice?')
    song = 'Is the song "Silence Skull\'s hollow" full of sharp lines?'
    assert not quoted_more("The song is full of sharp lines.", song)  # a title quoted


def test_a_continuation_before_the_closing_says_nothing_the_closing_says() -> None:
    """ifeval-k43's continuation ended on the closing line the request asked for."""
    closing = "**Conclusion**\nLibraries matter.\n\nVisit your library."
    more = "Libraries also teach adults to read. Visit your library."
    assert before_the_closing(more, closing) == "Libraries also teach adults to read."
    own = "Libraries lend tools too.\n\nIn conclusion, they serve everyone."
    assert before_the_closing(own, closing) == "Libraries lend tools too."
    assert before_the_closing("Visit your library.", closing) == ""


def test_a_continuation_stops_where_it_says_a_sentence_again() -> None:
    """ifeval-k42's continuation swapped one word a sentence until its token cap."""
    before = "Leaves fall in autumn. They turn red and gold."
    more = (
        "Children rake them into piles and jump in. "
        "The leaves are a reminder of the end of the year. "
        "The leaves are a reminder of the end of the season. "
        "Then winter comes."
    )
    assert until_it_loops(more, before) == (
        "Children rake them into piles and jump in. "
        "The leaves are a reminder of the end of the year."
    )
    assert until_it_loops("They turn red and gold again.", before) == ""
    assert until_it_loops("Winter comes next.", before) == "Winter comes next."
