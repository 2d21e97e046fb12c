"""Word edits: which sub-tasks a round asks for a word story's missing words (no model)."""

from core.run_config import load_config
from core.state import RefineState
from nodes.validate import repeated_sentences
from nodes.word_edits import (
    REWORD_TRIES,
    WordEdit,
    cover_ask,
    cover_missing,
    echoes,
    gains,
    inserted_only,
    plan_edits,
    quoted,
    reworded,
)

CONFIG = load_config("refine_default")
STORY = (
    "The girl walked to the frozen lake in the morning. "
    "Her mother made hot coffee in the kitchen. "
    "They sat by the window and watched the birds."
)
SENTENCES = [
    "The girl walked to the frozen lake in the morning.",
    "Her mother made hot coffee in the kitchen.",
    "They sat by the window and watched the birds.",
]


def test_a_first_round_asks_for_pairs_each_into_a_sentence_of_its_own() -> None:
    edits = plan_edits(STORY, ["skate", "ice", "cup"], set(), CONFIG)
    assert [e.words for e in edits] == [("skate", "ice"), ("cup",)]
    assert not any(e.follow for e in edits)
    assert edits[0].sentence == SENTENCES[0]  # the lake is most about skating on ice
    assert len({e.sentence for e in edits}) == 2


def test_a_refused_ask_is_not_made_again_and_the_word_goes_alone_to_the_next_sentence() -> None:
    refused = WordEdit(SENTENCES[0], ("skate", "ice")).key
    edits = plan_edits(STORY, ["skate", "ice"], {refused}, CONFIG)
    assert [e.words for e in edits] == [("skate",), ("ice",)]  # one word at a time now
    assert all(e.key != refused for e in edits)
    assert len({e.sentence for e in edits}) == 2  # never two rewordings of one sentence


def test_a_word_two_sentences_refused_gets_sentences_of_its_own_each_after_another() -> None:
    tried = {WordEdit(s, ("skate",)).key for s in SENTENCES[:REWORD_TRIES]}
    anchors = []
    for _ in SENTENCES:
        [edit] = plan_edits(STORY, ["skate"], tried, CONFIG)
        assert edit.follow and edit.words == ("skate",)
        anchors.append(edit.sentence)
        tried.add(edit.key)
    assert sorted(anchors) == sorted(SENTENCES)  # each sentence followed once
    assert plan_edits(STORY, ["skate"], tried, CONFIG) == []


async def test_a_round_with_no_ask_left_spends_nothing() -> None:
    tried = {WordEdit(s, ("skate",)).key for s in SENTENCES}
    tried |= {WordEdit(s, ("skate",), follow=True).key for s in SENTENCES}
    state: RefineState = {
        "task": "Write a story.",
        "constraints": {"required_words": ["girl", "skate"]},
        "tried": sorted(tried),
    }
    text, usage, asked = await cover_missing(STORY, ["skate"], state, CONFIG)
    assert (text, usage["calls"], asked) == (STORY, 0, [])


def test_the_sentence_task_asks_for_the_word_itself_where_the_draft_derived_it() -> None:
    draft = "A snowy morning, a dog runs to the snow-covered window."
    ask = cover_ask("A dog runs.", ["snow", "scarf"], draft)
    assert 'a sentence from a story: "A dog runs."' in ask  # it continues that sentence
    assert "uses all of these words: snow, scarf." in ask
    assert "Write each word exactly as given: snow (not snowy)." in ask
    assert "exactly" not in cover_ask("A dog runs.", ["scarf"], draft)  # nothing derived from it


def test_a_continuation_that_says_its_sentence_again_is_an_echo() -> None:
    anchor = "The toe moved, causing the sander to work."
    assert echoes("The toe floated, causing the sander to work.", anchor)
    assert not echoes("The lady bathed in the cool stream while the concert went on.", anchor)
    assert not echoes("A dog barked.", "")


def test_an_edit_is_judged_by_the_repeats_it_adds_not_those_the_text_had() -> None:
    required = ["piano", "wine", "lamp"]
    text = (
        "She pressed the piano with her hand, feeling the cold air. "
        "She pressed the wine with her hand, feeling the cold air."  # kept: the only "wine"
    )
    assert repeated_sentences(text)
    woven = text + " A lamp glowed in the window."
    assert gains(woven, text, required)
    echoed = text + " She pressed the lamp with her hand, feeling the cold air."
    assert not gains(echoed, text, required)


def test_an_edit_that_takes_a_used_word_out_is_refused_whatever_it_adds() -> None:
    required = ["piano", "wine", "lamp", "snow"]
    text = "She played the piano by the lamp."
    assert gains("She played the piano by the lamp, sipping wine in the snow.", text, required)
    assert not gains("She played the piano, sipping wine in the snow.", text, required)


def test_an_ask_is_remembered_in_words_a_person_reads_in_the_thread_state() -> None:
    assert WordEdit("It snowed.", ("skate", "ice")).key == "reword: skate, ice | It snowed."
    assert WordEdit("It snowed.", ("ice",), follow=True).key == "follow: ice | It snowed."


def test_a_part_way_edit_is_kept_only_where_it_put_words_in() -> None:
    old = "The hurdle was a small obstacle that the kids had to jump over."
    assert inserted_only(old, old.replace("over.", "over on the cliff."))
    assert inserted_only("The car was fast.", "The red car was fast.")
    assert not inserted_only("The car was a fast machine.", "The bench was a fast machine.")
    assert not inserted_only(old, old)  # nothing put in


def test_a_rewording_that_places_one_of_its_two_words_is_kept_and_the_other_is_left() -> None:
    required = ["girl", "lake", "cliff", "bow"]
    edit = WordEdit(SENTENCES[0], ("cliff", "bow"))
    one = "The girl walked to the frozen lake below the cliff in the morning."
    assert reworded(STORY, edit, one, required) == STORY.replace(SENTENCES[0], one)
    swapped = "The girl walked to the frozen cliff in the morning."  # "lake" swapped out
    assert reworded(STORY, edit, swapped, ["girl", "cliff", "bow"]) is None
    both = "The girl walked to the frozen lake below the cliff, bow in hand, in the morning."
    assert reworded(STORY, edit, both, required) == STORY.replace(SENTENCES[0], both)


def test_the_words_a_continuation_must_use_are_quoted_as_a_list_reads() -> None:
    assert quoted(["run"]) == '"run"'
    assert quoted(["flour", "bread"]) == '"flour" and "bread"'
    assert quoted(["a", "b", "c"]) == '"a", "b" and "c"'


def test_an_edit_that_writes_a_required_thing_word_as_an_action_is_refused() -> None:
    required = ["priest", "rink", "wine"]
    text = "The priest poured the wine."
    assert not gains("The priest rinks the wine.", text, required)
    assert gains("The priest poured the wine by the rink.", text, required)
