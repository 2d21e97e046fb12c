"""Which sentences get reworded, and how, for each rule a sentence at a time can meet."""

from __future__ import annotations

from core.instructions import Instruction, parse_instruction
from core.instructions.counts import sentence_types
from nodes.content import same_meaning
from nodes.sentence_changes import (
    MAX_CHANGES,
    conversions,
    joins,
    restatements,
    sentence_changes,
    spread,
    takes_mark,
    uses,
    what_is_asked,
)

TEXT = (
    "The harbour wakes at dawn. The boats go out to sea. The gulls follow the boats. "
    "The market opens at noon. The fish are sold by the kilo. The town sleeps at night."
)


def rule(**data: object) -> Instruction:
    return parse_instruction(data)


def test_statements_become_questions_until_the_ratio_holds() -> None:
    spec = rule(kind="sentence_type_ratio", declarative=2, questions=1)
    changes = sentence_changes(TEXT, [spec])
    assert len(changes) == 2 and all("question" in c.change for c in changes)
    text = TEXT
    for c in changes:  # reworded as asked, the ratio holds
        text = text.replace(c.sentence, c.sentence[:-1] + "?")
    assert spec.check(text) is None


def test_the_fewest_conversions_are_found_and_none_where_none_can_hold() -> None:
    ratio = rule(kind="sentence_type_ratio", declarative=2, questions=1)
    assert conversions({".": 13}, ratio) == {(".", "?"): 4, (".", "!"): 1}  # 8 : 4, one aside
    assert conversions({".": 2, "?": 4}, ratio) == {("?", "."): 2}
    balance = rule(kind="sentence_type_balance")
    assert conversions({".": 6}, balance) == {(".", "?"): 2, (".", "!"): 2}
    assert conversions({".": 5}, balance) is None  # five sentences cannot split three ways


def test_a_rewording_is_kept_only_if_it_passes_its_own_test() -> None:
    [change] = sentence_changes(TEXT, [rule(kind="sentence_type_balance")])[:1]
    assert change.done("Does the harbour wake at dawn?") or change.done("What a dawn!")
    assert not change.done("The harbour wakes at dawn.")
    assert not change.done("Does it wake? It does.")  # two sentences, not one


def test_an_overused_word_is_taken_out_of_the_sentences_that_use_it_most() -> None:
    spec = rule(kind="word_repeat_limit", at_most=4)
    changes = sentence_changes(TEXT, [spec])
    # "the" is used 8 times: the two sentences with two each lose it
    assert [c.sentence for c in changes] == [
        "The gulls follow the boats.",
        "The fish are sold by the kilo.",
    ]
    assert all(c.change == 'it does not use the word "the"' for c in changes)
    assert changes[0].done("Gulls follow boats.")
    assert not changes[0].done("The gulls follow the boats home.")


def test_missing_punctuation_marks_are_worked_into_different_sentences() -> None:
    spec = rule(kind="all_punctuation")
    changes = sentence_changes("Why now? " + TEXT, [spec])
    by_change = {c.change: c for c in changes}
    interrobang = next(c for c in changes if '"?!"' in c.change)
    assert interrobang.sentence == "Why now?"  # the question becomes the astonished one
    assert len({c.sentence for c in changes}) == len(changes)  # never two for one sentence
    assert any("semicolon" in c for c in by_change)
    assert interrobang.done("Why now?!") and not interrobang.done("Why now?")


def test_palindromes_are_woven_in_as_words_the_text_lacks() -> None:
    spec = rule(kind="palindrome_count", at_least=3)
    changes = sentence_changes("We kayak at noon. " + TEXT, [spec])
    words = [c.change.split('"')[1] for c in changes]
    assert len(words) == 2 and "kayak" not in words  # one is there already
    assert all(len(w) >= 5 and w == w[::-1] for w in words)


def test_the_wordiest_sentences_lose_small_words() -> None:
    spec = rule(kind="stop_word_ratio", percent=20)
    changes = sentence_changes(TEXT, [spec])
    assert changes and all("fewer words" in c.change for c in changes)
    assert changes[0].done("Fish sold by kilo.")
    assert not changes[0].done("")


def test_a_text_over_its_word_limit_has_its_longest_sentences_shortened() -> None:
    long = "The old fishing boats of the harbour go out to the open sea before the sun rises."
    text = f"The harbour wakes. {long} The gulls follow them all the way out to the far reef."
    spec = rule(kind="word_count", at_least=20, at_most=30)  # 35 words: 5 too many
    [change] = sentence_changes(text, [spec])
    assert change.sentence == long  # the longest: 17 words, at most 12 asked
    assert "fewer words (at most 12)" in change.change
    assert change.done("The harbour's old fishing boats sail out before sunrise.")
    assert change.done(long.replace(" open", "").replace(" old", ""))  # cuts add up
    assert not change.done(long)
    assert sentence_changes("The harbour wakes.", [spec]) == []  # within (under) the limit


def test_a_keyword_goes_into_the_sentence_the_rule_names() -> None:
    spec = rule(kind="keyword_in_sentence", keyword="lantern", sentence=3)
    [change] = sentence_changes(TEXT, [spec])
    assert change.sentence == "The gulls follow the boats." and "lantern" in change.change
    assert sentence_changes(TEXT, [rule(kind="keyword_in_sentence", keyword="x", sentence=9)]) == []


def test_every_other_round_a_keyword_gets_a_new_sentence_n_of_its_own() -> None:
    spec = rule(kind="keyword_in_sentence", keyword="lantern", sentence=3)
    [change] = sentence_changes(TEXT, [spec], offset=1)
    assert change.sentence == "The boats go out to sea." and change.sentences == 2
    assert change.done("The boats go out to sea. A lantern swings on each mast.")
    assert not change.done("The boats go out to sea with a lantern.")  # still sentence 2
    assert not change.done("A lantern boat goes out. A lantern swings.")  # not the old one


def test_the_next_round_asks_other_sentences_and_the_total_is_capped() -> None:
    spec = rule(kind="keyword_frequency", keyword="tide", at_least=2)
    first = [c.sentence for c in sentence_changes(TEXT, [spec], offset=0)]
    second = [c.sentence for c in sentence_changes(TEXT, [spec], offset=1)]
    assert len(first) == len(second) == 2 and first != second
    many = rule(kind="keyword_frequency", keyword="tide", at_least=30)
    assert len(sentence_changes(TEXT, [many])) <= MAX_CHANGES
    assert spread(list("abcdef"), 2, 0) == ["a", "d"] and spread(list("abc"), 5, 1) == list("bca")


def test_types_are_counted_as_the_ratio_rules_count_them() -> None:
    assert sentence_types("One. Two? Three!") == {".": 1, "?": 1, "!": 1}


def test_a_rewording_cut_short_or_turned_into_another_sentence_is_not_faithful() -> None:
    from nodes.sentence_changes import faithful

    old = "The smartest man in the city should confront his values head-on."
    assert faithful(old, "The smartest man in the city should confront his values head-on, "
                         "seen through a kaleidoscope.")  # fmt: skip
    assert not faithful(old, "The smartest man in the city should confront his values, using "
                             "the kaleidoscope to see")  # fmt: skip
    assert not faithful(old, "A kaleidoscope of colours filled the quiet room.")
    assert faithful("The the the dog ran home.", "Dog ran home.", cuts=True)
    rather = "Games are valued for their healing power rather than just being a source of fun."
    but = "Games are valued for their healing power, but not only as a source of fun."
    assert faithful(rather, but)  # "than", "just", "being" are no content to keep
    assert not faithful(rather, "Games are valued so that they can improve health.")


def test_no_rewording_is_asked_of_a_sentence_that_runs_over_lines() -> None:
    from nodes.sentence_changes import one_line_sentences

    text = "Plan it well.\n\n### Design Process\n\n1. **Research** the law. Then build it."
    assert one_line_sentences(text) == ["Plan it well.", "**Research** the law.", "Then build it."]
    spec = rule(kind="all_punctuation")
    assert all("\n" not in c.sentence for c in sentence_changes(text, [spec]))


def test_a_rewording_keeps_its_line_and_its_marker() -> None:
    from nodes.sentence_changes import kept_layout

    assert kept_layout("- **Cost**: it is high.", "- **Cost**: it is high, so we cut it.")
    assert not kept_layout("- **Cost**: it is high.", "**Cost**: it is high, so we cut it.")
    assert kept_layout("It is high.", "It is high; we cut it.")
    assert not kept_layout("It is high.", "1. It is high; we cut it.")
    assert not kept_layout("### Plan\n\n1. Go.", "Plan: go!")


def test_the_first_sentence_is_asked_to_open_with_a_verb() -> None:
    spec = rule(kind="starts_with_verb")
    [change] = sentence_changes(TEXT, [spec])
    assert change.sentence == "The harbour wakes at dawn." and "verb" in change.change
    assert change.done("Watch the harbour wake at dawn.")
    assert not change.done("The harbour wakes at dawn, quietly.")


def test_sentences_without_a_number_are_asked_for_one_as_many_as_are_missing() -> None:
    spec = rule(kind="number_count", at_least=2)
    changes = sentence_changes(TEXT, [spec])
    assert len(changes) == 2 and all("number" in c.change for c in changes)
    assert changes[0].done("The harbour wakes at 6 in the morning.")
    assert not changes[0].done("The harbour wakes at dawn, slowly.")


def test_a_keyword_woven_in_must_not_take_a_word_s_place() -> None:
    from nodes.sentence_changes import faithful, uses

    old = "He could build solutions that address the problems he faces."
    swapped = "He could build solutions that whisper the problems he faces."
    woven = "He could build solutions that quietly address, like a whisper, the problems he faces."
    change = uses(old, "whisper")
    assert change.adds and change.done(swapped) and change.done(woven)
    assert not faithful(old, swapped, adds=change.adds)
    assert faithful(old, woven, adds=change.adds)
    assert not uses(old, "but").adds  # a conjunction may take the place of "rather than"
    pronoun = "It captures the fundamental concept of zero-shot learning."
    assert not faithful(
        pronoun, "Emma captures the fundamental concept of zero-shot learning.", adds=True
    )
    assert faithful(
        pronoun,
        "As Emma notes, it captures the fundamental concept of zero-shot learning.",
        adds=True,
    )


def test_no_number_is_asked_for_where_the_sentences_could_not_hold_them() -> None:
    assert sentence_changes(TEXT, [rule(kind="number_count", exactly=36)]) == []


def test_too_few_sentences_to_balance_are_split_the_longest_first() -> None:
    text = (
        "A trained neural network is a set of numbers used by a program to bring about a "
        "result in a computer. It is a program by that definition!"
    )
    [change] = sentence_changes(text, [rule(kind="sentence_type_balance")])
    assert change.sentence.startswith("A trained neural network")
    assert change.change == 'it becomes two sentences, the second a question ending with "?"'
    assert change.done("A trained network is a set of numbers. Is it a program?")
    assert not change.done("Is a trained network a set of numbers a program uses?")
    assert sentence_changes("It rains. Wow!", [rule(kind="sentence_type_balance")]) == []


def test_the_sentences_of_the_request_said_back_are_restated() -> None:
    task = (
        "SHORT IT: Step into the lab and discover a world where alchemy binds reality. "
        "Join Ada's quest for knowledge in a blend of magic and science."
    )
    answer = (
        "Step into the lab and discover a world where alchemy binds reality. Join Ada's quest "
        "for knowledge in a blend of magic and science. It is a fine read for a rainy day."
    )
    changes = restatements(answer, task)
    assert [c.sentence for c in changes] == [
        "Step into the lab and discover a world where alchemy binds reality.",
        "Join Ada's quest for knowledge in a blend of magic and science.",
    ]  # the third sentence is the answer's own
    assert all(c.restates and "words of your own" in c.change for c in changes)
    first = changes[0]
    assert first.done("Enter a lab where alchemy shapes what is real.")
    assert not first.done("Step into the lab and discover a world where alchemy binds it.")
    assert what_is_asked(task, answer) == "SHORT IT:"  # what the sub-tasks are told is asked
    assert same_meaning(first.sentence, "Enter a lab where alchemy shapes what is real.")
    assert not same_meaning(first.sentence, "I like to eat pizza on Fridays with my friends.")


def test_each_broken_link_asks_a_sentence_to_open_with_the_last_word_before_it() -> None:
    spec = rule(kind="last_word_first_next")
    text = "The tide rises at dawn. Boats leave the harbour. Harbour lights fade by noon."
    [change] = sentence_changes(text, [spec])
    assert change.sentence == "Boats leave the harbour."
    assert '"dawn"' in change.change and '"harbour"' in change.change
    assert change.done("Dawn is when the boats leave the harbour.")
    assert not change.done("Dawn is when the boats leave.")  # the next link would break
    assert not change.done("At dawn the boats leave the harbour.")
    fixed = text.replace(change.sentence, "Dawn sees the boats leave the harbour.")
    assert spec.check(fixed) is None
    assert sentence_changes(fixed, [spec]) == []


def test_a_closing_mark_must_close_the_sentence_and_not_follow_another() -> None:
    assert takes_mark("Who could have known?!", "?!")
    assert not takes_mark("We justify the decisions.?!", "?!")
    assert takes_mark('Did he say "go"?', "?")
    assert not takes_mark("Did he say go?!", "?") and not takes_mark("Go!", "?")
    assert takes_mark("What a day!", "!") and not takes_mark("What a day.!", "!")
    assert takes_mark("First; second.", ";") and not takes_mark("First, second.", ";")


def test_a_keyword_the_sentence_has_only_inside_a_longer_word_is_asked_for_as_itself() -> None:
    spec = rule(kind="keyword_in_sentence", keyword="eat", sentence=1)
    [change] = sentence_changes("Eating breakfast is important. It helps.", [spec])
    assert change.change == 'it uses the word "eat" itself, as a word of its own (not "Eating")'
    assert not change.done("Eating breakfast is very important.")
    assert change.done("To eat breakfast is important.")


def test_a_conjunction_woven_in_must_join_something() -> None:
    """Asked for "yet", the model ended a sentence "... healing journey yet." (IFBench dev)."""
    assert joins("It helps, yet few use it.", "yet")
    assert joins("Play now, or rest.", "or")
    assert not joins("They heal on their own healing journey yet.", "yet")
    assert not joins("Is that so?", "so")
    change = uses("Games can heal people.", "yet")
    assert not change.done("Games can heal people yet.")
    assert change.done("Games can heal people, yet few know it.")


def test_missing_placeholders_are_asked_of_sentences_without_one() -> None:
    """ifeval-k45's agenda had none of the three placeholders asked for."""
    agenda = (
        "Section 1: Welcome\n- Greet the neighbours at the hall\n- Hand out the agenda\n"
        "- Meet at [time] by the gate\n- Thank everyone for coming"
    )
    spec = parse_instruction({"kind": "placeholders", "at_least": 3})
    changes = sentence_changes(agenda, [spec])
    assert len(changes) == 2
    assert all("[" not in c.sentence and "placeholder" in c.change for c in changes)
    greet = next(c for c in changes if "Greet" in c.sentence)
    assert greet.sentence == "Greet the neighbours at the hall"  # the item, not its marker
    assert greet.done("Greet the neighbours at [place]")
    assert not greet.done("Greet the neighbours at the hall")
    assert (
        sentence_changes(agenda, [parse_instruction({"kind": "placeholders", "at_least": 9})]) == []
    )
