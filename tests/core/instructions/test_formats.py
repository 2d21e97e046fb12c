"""Checks on line and character formats, on passing and failing answers, with their repairs."""

from __future__ import annotations

import pytest

from core.instructions.formats import (
    CustomBullets,
    EmojiPerSentence,
    IndentStairs,
    ItalicThesis,
    NestedBrackets,
    NestedQuotes,
    NoWhitespace,
    OneWordPerLine,
    OptionsOnly,
    QuotesExplained,
    SentencesThenBullets,
    SubBullets,
    TemplateLabels,
    TitleCase,
    is_emoji,
)


def test_is_emoji() -> None:
    assert is_emoji("😀")
    assert is_emoji("☀")
    assert not is_emoji("a")
    assert not is_emoji("!")


@pytest.mark.parametrize(
    ("text", "passes"),
    [
        ("Snow fell ❄️. The dog ran 🐕!", True),
        ("Snow fell. ❄️ The dog ran 🐕", True),  # the emoji opens the next split
        ("Snow fell ❄️. The dog ran.", False),
        ("", False),
    ],
)
def test_emoji_per_sentence(text: str, passes: bool) -> None:
    assert (EmojiPerSentence().check(text) is None) is passes


def test_emoji_finding_names_the_sentence() -> None:
    finding = EmojiPerSentence().check("Snow fell ❄️. The dog ran.")
    assert finding is not None
    assert finding["message"] == "sentence 2 does not end with an emoji: The dog ran."


def test_emoji_repair_marks_every_sentence() -> None:
    spec = EmojiPerSentence()
    assert spec.repair("Snow fell. The dog ran! Why") == "Snow fell ✨. The dog ran ✨! Why ✨"
    assert spec.repair('He said "go." Then left.') == 'He said "go ✨." Then left ✨.'


def test_emoji_repair_leaves_a_sentence_that_has_one() -> None:
    spec = EmojiPerSentence()
    once = spec.repair("Snow fell. The dog ran")
    assert once == "Snow fell ✨. The dog ran ✨"
    assert spec.repair(f"{once}. It slept.") == "Snow fell ✨. The dog ran ✨. It slept ✨."


def test_indent_stairs_and_repair() -> None:
    spec = IndentStairs()
    assert spec.check("a\n b\n\n   c") is None
    finding = spec.check("a\n b\n b2")
    assert finding is not None
    assert finding["message"] == "line 3 is indented 1 spaces, more than 1 needed"
    assert spec.repair("one\ntwo\n\nthree") == "one\n two\n  three"


def test_one_word_per_line_and_repair() -> None:
    spec = OneWordPerLine()
    assert spec.check("Snow\nfell,\nsoftly.") is None
    assert spec.check("Snow fell\nsoftly") is not None
    assert spec.repair("Snow fell, softly - now.") == "Snow\nfell,\nsoftly\nnow."


def test_options_only() -> None:
    spec = OptionsOnly(options=["yes", "no", "maybe"])
    assert spec.check("Yes.") is None
    assert spec.check("Yes, because it rains.") is not None
    assert spec.repair("I would say maybe, given the rain.") == "maybe"
    assert spec.repair("yes or no") is None  # two options: ambiguous


def test_letter_options_must_match_exactly() -> None:
    spec = OptionsOnly(options=["a)", "b)", "c)", "d)"])
    assert spec.check("b)") is None
    assert spec.check("B)") is not None
    assert spec.check("b) because") is not None
    assert spec.repair("b") == "b)"  # the letter alone, as a 1.5B drafter answered
    assert spec.repair("B. Inadmissible, because the earlier assault was not molestation.") == "b)"
    assert spec.repair("Both could be right.") is None  # no option opens the answer


def test_quotes_explained() -> None:
    spec = QuotesExplained()
    assert spec.check('He said "go" and left. She said "stay" softly.') is None
    touching = spec.check('He said "go" "now" to me.')
    assert touching is not None
    assert "follow each other" in touching["message"]
    ending = spec.check('He said "go".')
    assert ending is not None
    assert "ends with a quoted phrase" in ending["message"]


def test_nested_quotes() -> None:
    spec = NestedQuotes()
    assert spec.check('He said "she said \'they said "go" now\' then" ok') is None
    assert spec.check("He said \"she said 'go' then\" ok") is not None


def test_nested_brackets() -> None:
    spec = NestedBrackets()
    assert spec.check("a (b [c {d (e [f] e) d} c] b) a") is None
    assert spec.check("a (b [c {d} c] b) a") is not None
    assert spec.check("(([[{ mismatched ])) }") is not None


def test_sub_bullets() -> None:
    spec = SubBullets()
    assert spec.check("* Fruit\n  - apple\n* Veg\n  - leek") is None
    finding = spec.check("* Fruit\n  - apple\n* Veg")
    assert finding is not None
    assert finding["message"] == "bullet 2 has no '-' sub-bullet: Veg"
    assert spec.check("No bullets at all - none.") is not None


def test_sentences_then_bullets() -> None:
    spec = SentencesThenBullets()
    assert spec.check("It rains. We stay in.\n* tea\n* books") is None
    few = spec.check("It rains.\n* tea\n* books")
    assert few is not None
    assert few["message"] == "1 sentences before the bullets, 2 needed"
    after = spec.check("It rains. We stay.\n* tea\n* books\nThe end.")
    assert after is not None
    assert "line 4 follows the bullets" in after["message"]
    assert spec.check("It rains. We stay.\n* tea") is not None


def test_custom_bullets_and_repair() -> None:
    spec = CustomBullets(marker="SEPARATOR")
    assert spec.check("SEPARATOR tea\nSEPARATOR books") is None
    assert spec.check("* tea") is not None
    fixed = spec.repair("Items:\n* tea\n- books\n3. jam")
    assert fixed == "Items:\nSEPARATOR tea\nSEPARATOR books\nSEPARATOR jam"


def test_italic_thesis_and_repair() -> None:
    spec = ItalicThesis()
    assert spec.check("<i>Rain helps.</i> Crops grow.") is None
    assert spec.check("<em>Rain helps.</em> Crops grow.") is None
    assert spec.check("<i>Rain helps.</i>") is not None
    assert spec.check("<i> </i> Crops grow.") is not None
    assert spec.check("Rain helps. Crops grow.") is not None
    assert spec.repair("Rain helps. Crops grow.") == "<i>Rain helps.</i> Crops grow."


def test_title_case_and_repair() -> None:
    spec = TitleCase()
    assert spec.check("The Snow Fell On 3 iPhones.") is None
    finding = spec.check("The snow Fell on a mat.")
    assert finding is not None
    assert finding["message"] == "3 words start in lower case: snow, on, mat"  # "a" passes
    assert spec.repair("the snow fell.") == "The Snow Fell."


def test_template_labels_keep_case() -> None:
    spec = TemplateLabels(labels=["My Answer:", "My Conclusion:", "Future Outlook:"])
    assert spec.check("My Answer: yes My Conclusion: good Future Outlook: bright") is None
    finding = spec.check("My Answer: yes my conclusion: good")
    assert finding is not None
    assert finding["message"] == "template labels missing: My Conclusion:, Future Outlook:"


def test_no_whitespace_and_repair() -> None:
    spec = NoWhitespace()
    assert spec.check("Snow_fell.") is None
    finding = spec.check("Snow fell\n.")
    assert finding is not None
    assert finding["message"] == "2 whitespace characters, none allowed"
    assert spec.repair("Snow fell\n.") == "Snowfell."


def test_quotes_explained_fails_an_answer_of_punctuation_only() -> None:
    assert QuotesExplained().check("```\n[1]\n```") is not None


def test_indent_stairs_keeps_one_of_two_blank_lines_as_ifbench_does() -> None:
    assert IndentStairs().check("a\n\n b") is None
    assert IndentStairs().check("a\n\n\n b") is not None  # the second blank line stays, at 0


def test_only_the_bullets_may_follow_a_blank_line() -> None:
    spec = SentencesThenBullets()
    assert spec.check("It rains. We stay in.\n\n* tea\n* books") is None
    finding = spec.check("It rains.\n\nWe stay in.\n* tea\n* books")
    assert finding is not None
    assert finding["message"] == "line 3: a blank line may only come just before the bullets"


ECLIPSE = (
    "Solar eclipses block sunlight. Plants slow photosynthesis. **Stomata** close in the dark."
    "\n\nTemperature drops a little. Animals get confused. The effect ends quickly."
)


def test_sub_bullets_repair_groups_sentences_under_bullets() -> None:
    spec = SubBullets()
    assert spec.repair(ECLIPSE) == (
        "* Solar eclipses block sunlight.\n  - Plants slow photosynthesis.\n"
        "  - Stomata close in the dark.\n* Temperature drops a little.\n"
        "  - Animals get confused.\n  - The effect ends quickly."
    )
    assert spec.repair("One sentence only.") is None  # no sub-bullet to give it


def test_sentences_then_bullets_repair_keeps_two_sentences_then_lists_the_rest() -> None:
    repaired = SentencesThenBullets().repair(ECLIPSE)
    assert repaired == (
        "Solar eclipses block sunlight. Plants slow photosynthesis.\n"
        "* Stomata close in the dark.\n* Temperature drops a little.\n"
        "* Animals get confused.\n* The effect ends quickly."
    )
    assert SentencesThenBullets().repair("Too short. Only three. Sentences.") is None


def test_template_labels_repair_shares_the_text_out_under_the_labels() -> None:
    spec = TemplateLabels(labels=["My Answer:", "My Conclusion:"])
    assert spec.repair(ECLIPSE) == (
        "My Answer: Solar eclipses block sunlight. Plants slow photosynthesis. **Stomata** close "
        "in the dark.\n\nMy Conclusion: Temperature drops a little. Animals get confused. The "
        "effect ends quickly."
    )
    assert spec.repair("My Answer: yes. The rest.") is None  # a half-used template is the model's


def test_nested_quotes_repair_makes_apostrophes_typographic_so_they_open_no_quote() -> None:
    spec = NestedQuotes()
    broken = 'She said: "He told me \'don\'t go past the sign that reads "Open"\' today."'
    assert spec.check(broken) is not None  # the apostrophe in "don't" closed the single quote
    fixed = spec.repair(broken)
    assert fixed == broken.replace("don't", "don\u2019t")
    assert spec.check(fixed) is None


def test_nested_quotes_repair_quotes_a_sentence_s_own_phrases_within_each_other() -> None:
    spec = NestedQuotes()
    text = (
        'She said "hi". This belief has led to the loss of many of the country\'s unique '
        "cultural heritage. It isn't new."
    )
    fixed = spec.repair(text)
    assert fixed == (
        'She said "hi". This belief has led "to the loss \'of many "of the country\u2019s '
        'unique cultural heritage"\'". It isn\u2019t new.'
    )
    assert spec.check(fixed) is None
    assert spec.repair("Too short to quote. Far too short.") is None


@pytest.mark.parametrize(
    "text",
    [
        "The infinite is a concept that goes beyond all numbers, and we cannot grasp it with "
        "our finite minds. It is vast.",
        "Infinity has no end. We try to picture it in our heads and in our songs, but the "
        "picture always falls short of the thing itself, which keeps going!",
        "The answer is C since the layer has two hundred kernels across fourteen channels "
        "every time",
    ],
)
def test_nested_brackets_repair_nests_a_sentence_s_own_phrases(text: str) -> None:
    spec = NestedBrackets()
    fixed = spec.repair(text)
    assert fixed is not None and spec.check(fixed) is None
    assert fixed.translate(str.maketrans("", "", "()[]{},")).split() == (
        text.replace(",", "").split()
    )  # every word kept, in order
    if text[-1] in ".!?":
        assert fixed[-1] == text[-1]  # the end mark stays last


def test_nested_brackets_repair_takes_phrase_words_and_needs_room() -> None:
    spec = NestedBrackets()
    fixed = spec.repair(
        "We try to picture it in our heads and in our songs, but the picture falls short "
        "of the thing itself, which keeps going."
    )
    assert fixed == (
        "We try (to picture it [in our heads and {in our songs, but the picture falls short "
        "(of the thing itself [which keeps going])}])."
    )
    assert spec.repair("Too short to nest. Far too short.") is None
    assert (
        spec.repair(
            "A (bracketed) sentence that already has one opened somewhere in it "
            "and would not nest cleanly at all."
        )
        is None
    )


def test_nested_marks_go_around_inline_code_but_never_into_a_formula() -> None:
    code = (
        "The `nn.Conv1d` layer is a type of convolutional layer designed for processing "
        "one-dimensional input and producing one-dimensional output."
    )
    brackets = NestedBrackets().repair(code)
    assert brackets is not None and "`nn.Conv1d`" in brackets
    assert NestedQuotes().repair(code) is None  # quoting code reads as quoting the code
    formula = "The count of solutions to \\(x_1 + x_2 = n\\) is given by a binomial coefficient."
    assert NestedBrackets().repair(formula) is None
