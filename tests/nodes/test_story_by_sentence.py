"""A word story told again a sentence at a time: what each ask shows, and which reply is kept."""

from __future__ import annotations

from nodes.prompts import recognise
from nodes.story_by_sentence import new_sentence, sentence_ask

TOLD = [
    "Mia carried the lantern down to the harbour.",
    "She tied the boat to the post with a rope.",
    "A gull landed on the bow and watched her.",
]


def test_the_first_ask_opens_the_story_and_the_next_show_its_last_two_sentences() -> None:
    opening = recognise(sentence_ask([], ["lantern", "harbour"]))
    assert opening == ("story_opening", {"words": "lantern, harbour", "notes": None})
    name, fields = recognise(sentence_ask(TOLD, ["net", "storm"])) or ("", {})
    assert name == "story_next" and fields["words"] == "net, storm"
    assert fields["story"] == " ".join(TOLD[1:])  # not the whole story: the last two sentences


def test_a_new_sentence_of_the_story_is_kept_without_its_quotes() -> None:
    reply = '"Then a storm rolled in, and Mia pulled the net aboard."'
    assert new_sentence(reply, TOLD) == "Then a storm rolled in, and Mia pulled the net aboard."


def test_the_last_sentence_said_again_is_passed_over_for_the_one_after_it() -> None:
    reply = "A gull landed on the bow and watched her. Then the storm came, and she ran."
    assert new_sentence(reply, TOLD) == "Then the storm came, and she ran."
    carried_on = "A gull landed on the bow and watched her, and the storm came."
    assert new_sentence(carried_on, TOLD) == ""  # a told sentence carried on is no new one


def test_the_instruction_said_back_a_list_of_words_or_a_cut_reply_is_not_kept() -> None:
    echoed = "At most 25 words, about the same people, she ran with the net."
    assert new_sentence(echoed, TOLD) == ""
    assert new_sentence("Net, storm, bread, map, bell, rope, sail.", TOLD) == ""
    assert new_sentence("Then the storm broke over the net and", TOLD) == ""
    assert new_sentence("", TOLD) == ""


def test_a_sentence_told_before_with_a_new_opening_is_not_kept() -> None:
    """Read in the 30-task dev run: the same clause again after another opening."""
    told = ["As the person continued to float, they noticed their coat soak up the soap."]
    again = "As the person reached the station, they noticed their coat soak up the soap."
    assert new_sentence(again, told) == ""
    onward = "At the station the groom waited with a pitcher of lemonade."
    assert new_sentence(f"{again} {onward}", told) == onward


def test_a_sentence_that_writes_one_of_its_thing_words_as_an_action_is_not_kept() -> None:
    reply = "Then Mia rinks the net. Then Mia carried the net to the rink."
    assert new_sentence(reply, TOLD, ["net", "rink"]) == "Then Mia carried the net to the rink."
