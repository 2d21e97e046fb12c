"""The loop count of the coherence family: sentences that repeat an earlier one's frame."""

from __future__ import annotations

import pytest

from evals.datasets import EvalTask
from evals.metrics import task_metrics
from evals.repetition import repeated_frames, sentence_words
from graph.runner import TaskResult

GOAT_LOOP = (
    "There was a bird that would always scramble the goat's chest. "
    "The goat was always fixing the bird's wings, but the bird would never let him. "
    "The bird was always tattooing the goat's neck, but the goat would never let him. "
    "The bird was always plastering the goat's legs, but the goat would never let him. "
    "The bird was always reporting the goat's behavior, but the goat would never let him."
)
"""A refined dev answer (cgh001) in part, as the engine returned it: one frame, three times."""

OPENER_LOOP = (
    "As a little girl, she would often remove her snow vest. "
    "She would then dunk her snowball and step into a wooden toy box. "
    "She would then plaster the wall with pieces of paper. "
    "She would then use headphones to listen to music."
)
"""Dev cgh000's first draft in part: every sentence after the first opens the same way."""

STORY = (
    "Snow fell all night, and by morning it reached the window sill. Mara made coffee while "
    "the dog pressed its nose to the glass. When she opened the door, he ran out, barking at "
    "the drifts. She wound her scarf twice around her neck and followed him into the white."
)


def test_a_frame_said_again_with_other_words_counts_in_every_sentence_after_the_first() -> None:
    assert repeated_frames(GOAT_LOOP) == pytest.approx(2 / 5)  # the bird's frame, then twice
    swapped = GOAT_LOOP.replace("The bird was always reporting", "Then the bird kept reporting")
    assert repeated_frames(swapped) == pytest.approx(2 / 5)  # another opener, the same frame


def test_sentences_opening_with_the_same_three_words_count_as_a_loop() -> None:
    assert repeated_frames(OPENER_LOOP) == pytest.approx(2 / 4)


def test_a_story_that_moves_on_has_no_repeated_frame() -> None:
    assert repeated_frames(STORY) == 0.0
    assert repeated_frames("One sentence only.") == repeated_frames("") == 0.0


def test_each_line_of_a_list_is_a_sentence_of_its_own() -> None:
    bullets = "- Pack the tent\n- Pack the stove\n- Check the weather"
    assert sentence_words(bullets) == [
        ["pack", "the", "tent"], ["pack", "the", "stove"], ["check", "the", "weather"],
    ]  # fmt: skip
    assert repeated_frames(bullets) == 0.0  # "pack the" is two words, not a frame


async def test_constrained_answers_get_the_loop_count_without_the_second_model() -> None:
    task = EvalTask(id="t", task="use them", constraints={"required_words": ["goat", "bird"]})
    result = TaskResult(thread_id="1", answer=GOAT_LOOP, first_draft="A goat and a bird.")
    scored = await task_metrics(task, result, coherence=False)
    assert scored.values["repeated_frames"] == pytest.approx(2 / 5)
    assert "perplexity" not in scored.values
