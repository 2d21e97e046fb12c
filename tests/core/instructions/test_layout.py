"""Checks on markdown and structure, with IFEval's strict edge cases, and their repairs."""

from __future__ import annotations

import json

import pytest

from core.instructions.layout import (
    BulletCount,
    ConstrainedResponse,
    CsvTable,
    HighlightedSections,
    JsonFormat,
    Placeholders,
    Sections,
    Title,
    TwoResponses,
    bullets,
    highlights,
)


def test_bullets_are_star_or_dash_lines_as_ifeval_counts_them() -> None:
    text = "Intro\n* one\n  * nested\n- two\n**bold line**\n---\n-5 degrees"
    assert bullets(text) == ["* one", "  * nested", "- two", "---", "-5 degrees"]


def test_bullet_count_says_how_many_more() -> None:
    finding = BulletCount(exactly=3).check("* one\n* two")
    assert finding is not None
    assert finding["message"].startswith("2 bullet points (lines starting with * or -)")
    assert "1 more needed" in finding["message"]
    assert BulletCount(exactly=2).check("* one\n* two") is None


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (BulletCount(exactly=3), "Steps:\n1. Mix the flour.\n2. Add water.\n3. Bake it."),
        (BulletCount(exactly=2), "• Red apples\n• Green pears"),
        (BulletCount(exactly=2), "* one\n---\n* two"),
        (BulletCount(exactly=2), "* one\n* two\n* three\n* four"),
        (BulletCount(at_most=1), "- alpha\n- beta"),
    ],
)
def test_bullet_repair_normalises_markers_and_folds_extras(spec: BulletCount, text: str) -> None:
    fixed = spec.repair(text)
    assert fixed is not None
    assert spec.check(fixed) is None
    for word in ("Mix", "water", "apples", "pears", "one", "two", "three", "four", "beta"):
        assert (word in text) <= (word in fixed)


def test_bullet_repair_cannot_invent_items() -> None:
    assert BulletCount(exactly=3).repair("A plain paragraph.") is None


def test_placeholders_count_square_brackets() -> None:
    assert Placeholders(at_least=2).check("Dear [name], at [address].") is None
    finding = Placeholders(at_least=2).check("Dear [name].")
    assert finding is not None
    assert "1 more needed" in finding["message"]


def test_highlights_count_single_and_double_stars_on_one_line() -> None:
    assert highlights("*one* and **two** and *\nno") == ["*one*", "**two**"]
    assert highlights("* * and ** **") == []


def test_highlighted_sections_repair_wraps_sentences_without_losing_words() -> None:
    spec = HighlightedSections(at_least=3)
    text = "First point here. More text.\n\nSecond point. Even more.\n\n*Already* done."
    finding = spec.check(text)
    assert finding is not None
    assert "2 more needed" in finding["message"]
    fixed = spec.repair(text)
    assert fixed is not None
    assert spec.check(fixed) is None
    assert fixed.replace("*", "").split() == text.replace("*", "").split()
    assert "*First point here.*" in fixed


def test_sections_split_like_ifeval() -> None:
    spec = Sections(at_least=2)
    assert spec.check("SECTION 1\nIntro.\n\nSECTION 2\nBody.") is None
    assert spec.check("Section 1\nIntro.\n\nSection 2\nBody.") is not None  # case matters
    assert Sections(at_least=2, splitter="Section").check("Section 1 a Section 2 b") is None
    finding = spec.check("SECTION 1\nOnly one.")
    assert finding is not None
    assert "1 sections" in finding["message"]


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (Sections(exactly=2), "Intro one.\n\nBody two.\n\nEnd three."),
        (Sections(exactly=3), "SECTION 1\nOne. Two. Three.\n\nFour."),
        (Sections(at_least=2, splitter="Part"), "Just one paragraph. With two sentences."),
    ],
)
def test_sections_repair_adds_numbered_headers(spec: Sections, text: str) -> None:
    fixed = spec.repair(text)
    assert fixed is not None
    assert spec.check(fixed) is None
    body = [w for w in fixed.split() if w != spec.splitter and not w.isdigit()]
    assert body == [w for w in text.split() if w != "SECTION" and not w.isdigit()]


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', '```json\n{"a": [1, 2]}\n```', "```\n[1]\n```", '```JSON\n"text"\n```'],
)
def test_json_format_accepts_plain_and_fenced_json(text: str) -> None:
    assert JsonFormat().check(text) is None


def test_json_format_rejects_prose_and_repairs_it() -> None:
    spec = JsonFormat()
    text = 'Here is the data: {"name": "Ada", "born": 1815} as asked.'
    assert spec.check(text) is not None
    fixed = spec.repair(text)
    assert fixed is not None
    assert json.loads(fixed) == {"name": "Ada", "born": 1815}
    prose = spec.repair("No JSON at all, sorry.")
    assert prose is not None
    assert json.loads(prose) == {"answer": "No JSON at all, sorry."}


def test_title_needs_something_inside_double_angular_brackets() -> None:
    spec = Title()
    assert spec.check("<<Winter Morning>>\nSnow fell.") is None
    assert spec.check("<<>> Snow fell.") is not None
    assert spec.check("<< >>") is not None
    assert spec.check("<<Broken\ntitle>>") is not None


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("# Winter Morning\nSnow fell.", "<<Winter Morning>>"),
        ("**Winter Morning**\nSnow fell.", "<<Winter Morning>>"),
        ("Title: Winter Morning\nSnow fell.", "<<Winter Morning>>"),
        ("Winter Morning\nSnow fell.", "<<Winter Morning>>"),
        ("Snow fell on the quiet town at dawn.", "<<Snow Fell On The Quiet Town At Dawn>>"),
        ("Snow fell, and the town slept.", "<<Snow Fell>>\n\nSnow fell"),
        (
            "The sky appears blue due to the way sunlight scatters in the air.",
            "<<The Sky Appears Blue>>",
        ),  # six words would end on "Due To"
        (
            "As the leaves shed their last hues,\nAutumn rain falls soft,\nOn the hill.",
            "<<As The Leaves Shed Their Last Hues>>\n\nAs the leaves",
        ),  # a poem's first line, ending on a comma, is a line of the poem, not its title
    ],
)
def test_title_repair(text: str, title: str) -> None:
    fixed = Title().repair(text)
    assert fixed is not None
    assert fixed.startswith(title)
    assert text.splitlines()[-1] in fixed  # the text goes on below its title


def test_constrained_response_and_its_repair() -> None:
    spec = ConstrainedResponse()
    assert spec.check("Thinking it over. My answer is yes.") is None
    assert spec.check("my answer is yes") is not None
    assert spec.repair("Well, my answer is no, I think.") == "Well, My answer is no. I think."
    assert spec.repair("Perhaps.") is None
    custom = ConstrainedResponse(options=("Option A", "Option B"))
    assert custom.check("I pick Option B.") is None


def test_two_responses() -> None:
    spec = TwoResponses()
    assert spec.check("First answer.\n******\nSecond answer.") is None
    assert spec.check("******\nFirst.\n******\nSecond.\n******") is None
    same = spec.check("Same.\n******\nSame.")
    assert same is not None
    assert "the same" in same["message"]
    three = spec.check("A\n******\nB\n******\nC")
    assert three is not None
    assert "3 responses" in three["message"]
    empty = spec.check("A\n******\n\n******\nB")
    assert empty is not None
    assert "response 2 is empty" in empty["message"]


def test_csv_table() -> None:
    spec = CsvTable(columns=["ID", "City"], rows=2)
    assert spec.check("ID,City\n1,Paris\n2,Rome") is None
    assert spec.check('"ID", "City"\n1,Paris\n2,"Rome, Italy"') is None
    header = spec.check("Id,City\n1,Paris\n2,Rome")
    assert header is not None
    assert header["message"] == "the header is ['Id', 'City'], it must be ['ID', 'City']"
    rows = spec.check("ID,City\n1,Paris")
    assert rows is not None
    assert rows["message"] == "1 data rows, exactly 2 required"
    fields = spec.check("ID,City\n1,Paris,France\n2,Rome")
    assert fields is not None
    assert fields["message"] == "line 2 has 3 fields, 2 required"


def test_csv_table_quoting_rules() -> None:
    quoted = CsvTable(columns=["A", "B"], rows=1, delimiter="\t", all_quoted=True)
    assert quoted.check('"A"\t"B"\n"x"\t"y"') is None
    assert quoted.check('"A"\t"B"\n"x"\ty') is not None
    special = CsvTable(columns=["A", "B"], rows=2, quoted_special=True)
    assert special.check('A,B\n1,"x&y"\n2,z') is None
    assert special.check("A,B\n1,x\n2,z") is not None
    plain_quotes = CsvTable(columns=["A", "B", "C"], rows=1, quoted_special=True)
    assert plain_quotes.check('A,B,C\n"Apple",200,"10"') is not None  # ",200," is no field
    extra = 'A,B,C,"Special Character"\n"Apple",200,"10"'
    assert plain_quotes.repair(extra) is None  # the cut alone does not pass
    assert plain_quotes.regroup(extra) == 'A,B,C\n"Apple",200,"10"'  # but is kept as a step
    assert plain_quotes.regroup('A,B,C\n"Apple",200,"10"') is None  # nothing to cut
    assert plain_quotes.nearness(extra) == 0  # the header is wrong: the first step
    assert plain_quotes.nearness('A,B,C\n"Apple",200,"10"') == 3 / 4  # all but the special
    assert plain_quotes.nearness('A,B,C\n"Apple & Co",200,"10"') == 1


def test_a_csv_table_is_cut_to_the_columns_and_rows_asked() -> None:
    spec = CsvTable(columns=["ID", "City"], rows=2, quoted_special=True)
    extra = 'ID,Country,City,"Note"\n1,FR,"Paris, France",a\n2,IT,Rome,b\n3,ES,Madrid,c\n4,PT,Li'
    assert spec.repair(extra) == 'ID,City\n1,"Paris, France"\n2,Rome'  # quotes kept as written
    header_only = 'ID,City,"Special Character"\n1,"Nice!"\n2,Rome\n3,Oslo\n4,Ber'
    assert spec.repair(header_only) == 'ID,City\n1,"Nice!"\n2,Rome'
    assert spec.repair("ID,Town\n1,Paris\n2,Rome") is None  # a column missing
    assert spec.repair('ID,City\n1,"Paris!"') is None  # a row missing: the model's work
    assert CsvTable(columns=["A", "B", "C"], rows=14).words_needed() == 90


def test_two_paragraphs_or_two_lines_become_two_responses() -> None:
    from core.instructions.layout import TwoResponses

    spec = TwoResponses()
    assert spec.repair("The door was open.\nNobody came.") == (
        "The door was open.\n******\nNobody came."
    )
    assert spec.repair("One.\n\nTwo.\n\nThree.") is None  # which two is not ours to choose
    stray = "********\n\nCall it Bakery Bliss.\n\nOr call it Bread Barn."
    assert spec.repair(stray) == "Call it Bakery Bliss.\n******\nOr call it Bread Barn."
