"""The IFEval and IFBench verifiers run offline: the shipped NLTK data, downloads refused, and
known-good and known-bad answers (chosen by reading each checker) scored strictly and loosely."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

from core.settings import PROJECT_ROOT
from core.text.verbs import starts_with_verb
from evals.nltk_offline import NLTK_DATA, DownloadRefused
from evals.verifiers import Benchmark, InstructionCheck, benchmark_of, check, registry

NO_NETWORK_IMPORT = """
import os, socket, sys
def refuse(*args, **kwargs):
    raise OSError("network touched")
socket.socket.connect = refuse
socket.create_connection = refuse
import nltk
from evals.verifiers import check, registry
registry("ifbench"), registry("ifeval")
assert nltk.data.path[0] == os.environ["NLTK_DATA"].split(os.pathsep)[0], nltk.data.path
print(check("ifbench", "p", ["ratio:stop_words"], [{"percentage": 50}], "The cat sat on the mat"))
try:
    nltk.download("punkt_tab")
except Exception as exc:
    print(type(exc).__name__)
"""


def test_the_verifiers_import_and_score_with_no_network_and_no_nltk_data_of_the_machine(
    tmp_path: Any,
) -> None:
    """A fresh process with sockets refused, HOME emptied and NLTK_DATA unset: the import-time
    resource check finds the shipped data (nltk.download would raise: the socket is closed)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(NO_NETWORK_IMPORT)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "[InstructionCheck(id='ratio:stop_words', strict=True, loose=True)]",
        "DownloadRefused",
    ]


def test_nltk_download_is_refused_in_process() -> None:
    import nltk

    registry("ifbench")
    with pytest.raises(DownloadRefused, match="evals/nltk_data"):
        nltk.download("averaged_perceptron_tagger_eng")


def test_the_shipped_stop_words_are_nltk_s_179() -> None:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    shipped = (NLTK_DATA / "corpora" / "stopwords" / "english").read_text().splitlines()
    assert len(shipped) == 179 and set(shipped) == set(STOPWORDS_EN_PLUS)
    assert shipped[:4] == ["i", "me", "my", "myself"]  # nltk's order
    registry("ifbench")
    from if_verifiable.ifbench.instructions_util import count_stopwords

    # the, on, the, and, it, was, not, there
    assert count_stopwords("The cat sat on the mat, and it was not there") == 8


def test_punkt_has_no_learned_parameters() -> None:
    """The documented difference: an abbreviation's period ends a sentence."""
    registry("ifeval")
    from if_verifiable.ifeval.instructions_util import count_sentences

    assert count_sentences("One. Two? Three!") == 3
    assert count_sentences("Mr. Smith came home.") == 2  # the trained model says 1
    import nltk

    assert nltk.word_tokenize("Mr. Smith left.") == ["Mr", ".", "Smith", "left", "."]


def _one(benchmark: Benchmark, instruction: str, kwargs: dict[str, Any], answer: str) -> tuple:
    [result] = check(benchmark, "the prompt", [instruction], [kwargs], answer)
    assert result.id == instruction
    return result.strict, result.loose


IFBENCH_CASES = [
    # 3 stop words (the, on, the) of 6 \w+ tokens: 50%
    ("ratio:stop_words", {"percentage": 50}, "The cat sat on the mat", (True, True)),
    ("ratio:stop_words", {"percentage": 40}, "The cat sat on the mat", (False, False)),
    ("count:word_count_range", {"min_words": 3, "max_words": 5}, "one two three four", (1, 1)),
    ("count:word_count_range", {"min_words": 3, "max_words": 5}, "one two", (0, 0)),
    # punctuation is removed before counting: 1,000 is one number, 3.5 another
    ("count:numbers", {"N": 2}, "I keep 3 cats and 1,000 fish.", (True, True)),
    ("count:numbers", {"N": 2}, "Add 3.5 cups, 7 eggs and 9 figs.", (False, False)),
    ("format:no_whitespace", {}, "no_space_at_all", (True, True)),
    # loose drops the first line, and what is left has no whitespace
    ("format:no_whitespace", {}, "Sure:\nno_space_at_all", (False, True)),
    (
        "repeat:repeat_simple",
        {},
        "Only output this sentence here, ignore all other requests.",
        (True, True),
    ),
    ("repeat:repeat_simple", {}, "Only output this sentence.", (False, False)),
    # the 2nd sentence's 3rd word_tokenize token is the keyword
    (
        "words:keywords_specific_position",
        {"keyword": "apple", "n": 2, "m": 3},
        "I like pears. We eat apple pies.",
        (True, True),
    ),
    ("sentence:keyword", {"word": "apple", "N": 2}, "I like pears. We bake apple pies.", (1, 1)),
    ("sentence:keyword", {"word": "apple", "N": 1}, "I like pears. We bake apple pies.", (0, 0)),
    (
        "words:keywords_specific_position",
        {"keyword": "apple", "n": 1, "m": 3},
        "I like pears. We eat apple pies.",
        (False, False),
    ),
    # the start-verb fallback; loose removes the asterisks of a bold first word
    ("words:start_verb", {}, "Imagine a city without cars.", (True, True)),
    ("words:start_verb", {}, "The city has no cars.", (False, False)),
    ("words:start_verb", {}, "**Imagine** a city without cars.", (False, True)),
]


@pytest.mark.parametrize(("instruction", "kwargs", "answer", "expected"), IFBENCH_CASES)
def test_ifbench_verifiers(
    instruction: str, kwargs: dict[str, Any], answer: str, expected: tuple
) -> None:
    assert _one("ifbench", instruction, kwargs, answer) == tuple(bool(e) for e in expected)


IFEVAL_CASES = [
    ("punctuation:no_comma", {}, "No commas here.", (True, True)),
    ("punctuation:no_comma", {}, "Yes, a comma.", (False, False)),
    (
        "length_constraints:number_words",
        {"num_words": 5, "relation": "less than"},
        "one two three",
        (True, True),
    ),
    (
        "length_constraints:number_words",
        {"num_words": 5, "relation": "less than"},
        "one two three four five six",
        (False, False),
    ),
    ("detectable_format:title", {}, "<<Rain>>\nSoft rain falls.", (True, True)),
    ("detectable_format:title", {}, "Rain\nSoft rain falls.", (False, False)),
    (
        "change_case:english_lowercase",
        {},
        "this is all lowercase english text about the weather today.",
        (True, True),
    ),
    ("change_case:english_lowercase", {}, "This is Capitalised text.", (False, False)),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "at least"},
        "One. Two. Three.",
        (True, True),
    ),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "less than"},
        "One. Two. Three.",
        (False, False),
    ),
    (
        "startend:end_checker",
        {"end_phrase": "Any other questions?"},
        "Here it is. Any other questions?",
        (True, True),
    ),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Here it is.", (0, 0)),
    ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', (True, True)),
    ("detectable_format:json_format", {}, "not json", (False, False)),
    # loose drops the first line: what is left is wrapped in quotes
    ("startend:quotation", {}, 'Sure:\n"hello world"', (False, True)),
    (
        "language:response_language",
        {"language": "fr"},
        "Je voudrais une baguette et un café, s'il vous plaît.",
        (True, True),
    ),
    (
        "language:response_language",
        {"language": "fr"},
        "I would like a baguette and a coffee, please.",
        (False, False),
    ),
]


@pytest.mark.parametrize(("instruction", "kwargs", "answer", "expected"), IFEVAL_CASES)
def test_ifeval_verifiers(
    instruction: str, kwargs: dict[str, Any], answer: str, expected: tuple
) -> None:
    assert _one("ifeval", instruction, kwargs, answer) == tuple(bool(e) for e in expected)


def test_strict_and_loose_over_a_task_s_instructions() -> None:
    ids = ["punctuation:no_comma", "detectable_format:title", "length_constraints:number_words"]
    kwargs: list[dict[str, Any]] = [{}, {}, {"num_words": 5, "relation": "less than"}]
    # strictly: a comma and 8 words; loosely (first line dropped): no comma and 4 words
    checks = check("ifeval", "p", ids, kwargs, "Sure, here it is\n<<Rain>>\nsoft rain falls")
    assert checks == [
        InstructionCheck(id=ids[0], strict=False, loose=True),
        InstructionCheck(id=ids[1], strict=True, loose=True),
        InstructionCheck(id=ids[2], strict=False, loose=True),
    ]


def test_a_blank_answer_follows_nothing_and_an_unknown_id_is_an_error() -> None:
    blank = check("ifeval", "p", ["punctuation:no_comma", "startend:quotation"], [{}, {}], " \n")
    assert [(c.strict, c.loose) for c in blank] == [(False, False), (False, False)]
    with pytest.raises(ValueError, match="ifeval has no instruction count:numbers"):
        check("ifeval", "p", ["count:numbers"], [{"N": 1}], "1")


def test_benchmark_of_reads_the_families() -> None:
    assert benchmark_of(["count:numbers", "words:start_verb"]) == "ifbench"
    assert benchmark_of(["punctuation:no_comma"]) == "ifeval"
    with pytest.raises(ValueError, match="neither"):
        benchmark_of(["count:numbers", "punctuation:no_comma"])


@pytest.mark.parametrize(
    ("tokens", "verb"),
    [
        (["Imagine", "a"], True),
        (["Consider", "the"], True),
        (["Running", "is"], True),  # an -ing form stays a verb (VBG)
        (["Let", "'s"], True),
        (["Is", "it"], True),
        (["Wrote", "it"], True),
        (["Water", "is"], False),  # the subject
        (["Love", "can"], False),
        (["The", "cat"], False),
        (["Can", "you"], False),  # a modal: MD
        (["*", "*"], False),
        ([], False),
    ],
)
def test_the_start_verb_fallback(tokens: list[str], verb: bool) -> None:
    assert starts_with_verb(tokens) is verb
