"""The content guard: an answer that follows the rules by saying nothing, or by saying one
phrase over and over, does not pass."""

from __future__ import annotations

from typing import Any

from core.state import RefineState
from nodes.content import content_guard, echoes, hollow, looping, said_once, too_short

STORY = (
    "The team trained every morning before sunrise. They ran drills on the wet grass and "
    "talked about the final. The coach reminded them that every pass mattered. On match day "
    "they walked out together, calm and ready."
)


def state(*instructions: dict[str, Any], first: str = STORY) -> RefineState:
    return {  # type: ignore[typeddict-item]
        "task": "Write a motivational message for a football team.",
        "first_draft": first,
        "plan": {"instructions": list(instructions)},
    }


def test_one_phrase_said_over_and_over_is_a_loop() -> None:
    loop = "WE WILL WIN. " + "GO GET THEM " * 40
    assert looping(loop) and hollow(loop, state())
    score, [finding] = content_guard(loop, state())
    assert score == 0.0 and finding["data"] == ["looping"]


def test_a_refrain_in_a_real_text_is_not_a_loop() -> None:
    refrain = f"{STORY} Go get them, team. {STORY.replace('morning', 'evening')} Go get them."
    assert not looping(refrain) and not looping("go go go go go")  # too short to judge
    assert content_guard(refrain, state())[0] == 1.0


def test_a_few_words_do_not_answer_a_request_for_writing() -> None:
    assert too_short("Go get them!", state())
    assert not too_short("Go get them!", state({"kind": "word_count", "at_most": 3}))
    assert not too_short("yes", state({"kind": "constrained_response"}))
    score, [finding] = content_guard("Go get them!", state())
    assert score == 0.0 and finding["data"] == ["too_short"]


def test_an_answer_that_drops_most_of_the_first_draft_fails_unless_a_rule_caps_it() -> None:
    short = "The team trained every morning before sunrise and walked out calm and ready."
    assert content_guard(short, state())[0] == 0.0
    assert content_guard(short, state({"kind": "sentence_count", "at_most": 1}))[0] == 1.0


def test_an_answer_keeps_what_a_repeating_first_draft_said_once() -> None:
    """A draft that says its lines again and again is held to its lines, not its length: the
    cut without the repeats keeps all of it."""
    lines = (
        "Recycle your bottles today. Waste is a resource we can use again. "
        "Join us in keeping the planet green. "
    )
    looped = lines + "Recycle your bottles today. Join us in keeping the planet green. " * 8
    assert said_once(looped) == said_once(lines) == 19
    assert len(lines.split()) / len(looped.split()) < 0.4  # by length alone it kept too little
    assert content_guard(lines.strip(), state(first=looped))[0] == 1.0


PASSAGE = (
    "Moreover, video games are being acknowledged for their therapeutic potential rather than "
    "just being a source of amusement. Playing games created with psychological concepts in "
    "mind can help people deal with anxiety."
)


def test_the_request_said_back_is_no_answer() -> None:
    asked: RefineState = {  # type: ignore[typeddict-item]
        "task": f"can you rephrase this: {PASSAGE} Use at least 4 different conjunctions.",
        "first_draft": PASSAGE,
        "plan": {"instructions": [{"kind": "conjunction_count", "at_least": 4}]},
    }
    assert echoes(PASSAGE, asked) and hollow(PASSAGE, asked)
    score, [finding] = content_guard(PASSAGE, asked)
    assert score == 0.0 and finding["data"] == ["echo"]
    rephrased = (
        "Video games are now seen as a way to heal, not only as fun. Games built on ideas "
        "from psychology can help players cope with anxiety, and they can aid recovery too."
    )
    assert not echoes(rephrased, asked)
    quoting = (
        f"The passage argues one thing. {PASSAGE.split('.')[0]}. I agree with it, since "
        "play lowers stress, and I have seen friends recover faster when they had a game to "
        "look forward to every evening after work."
    )
    assert not echoes(quoting, asked)  # quoting a sentence of it is still answering
    repeat = {**asked, "plan": {"instructions": [{"kind": "repeat_prompt", "prompt": "x"}]}}
    assert not echoes(PASSAGE, repeat)  # asked for the request's words back
    assert not echoes("Moreover, video games are being acknowledged.", asked)  # too short to say
