"""Reading verifiable instructions out of a plain-language request, by rules.

Each rule is a pattern for one way of saying an instruction ("in under 120 words", "all in
lowercase", "end with 'Any questions?'") and a builder that turns the match into a spec's
fields. Every result is validated by the spec (`parse_instruction`): an item that does not
validate is dropped and logged, never trusted. Rules run most specific first, and a stretch of
the request that one rule has read is not read again by another ("words in all capital letters
should appear 3 times" is a count of capital words, not "all capital letters").

The rules are written for how people and the published benchmarks word instructions; they
never see a benchmark's instruction ids. What they miss, `nodes/plan.py` may still find with
one model call (see `core/instructions/model_extract.py`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core.instructions.language import LANGUAGES
from core.instructions.registry import Instruction, parse_instruction

log = logging.getLogger(__name__)

NUMBER_WORDS = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "single": 1, "once": 1, "two": 2, "twice": 2,
    "three": 3, "thrice": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "twenty-five": 25, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "hundred": 100, "a hundred": 100, "one hundred": 100,
}  # fmt: skip
_NUMBER_WORDS = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS if len(w) > 2), key=len)[::-1])
NUM = rf"(?:\d[\d,]*|{_NUMBER_WORDS})"
"""A count in digits or words."""
ORDINAL = (
    r"(?:\d+(?:-?(?:st|nd|rd|th))?|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
    r"|tenth)"
)
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
REL = (
    r"(?:at least|no fewer than|not fewer than|no less than|not less than|a minimum of|"
    r"minimum of|more than|over|at most|no more than|not more than|a maximum of|maximum of|"
    r"up to|fewer than|less than|under|below|exactly|precisely|just|only)"
)
"""A count relation in words."""
WRITING = (
    r"(?:your\s+|the\s+|this\s+)?(?:response|answer|reply|email|letter|story|essay|poem|"
    r"message|note|post|text|speech)"
)
"""What a request calls the answer when it says where it starts or ends."""
WORD = r"[\w-]+(?:'\w+)?"
"""A word, with an inner apostrophe ("don't") but not a closing quote ("'tide'")."""
QUOTED = r"[\"“'‘`](?P<q>[^\"”“'’`\n]{1,300}?)[\"”'’`]"
"""A phrase in quotation marks (straight or curly, double or single)."""
RESPONSE = (
    r"(?:your |the |whole |entire |full )*"
    r"(?:response|answer|reply|output|text|essay|email|letter|story|poem)"
)


def number(text: str) -> int:
    """A count written in digits ("1,000") or words ("twice")."""
    text = text.lower().strip()
    if text in NUMBER_WORDS:
        return NUMBER_WORDS[text]
    return int(text.replace(",", ""))


def ordinal(text: str) -> int:
    text = text.lower().strip()
    return ORDINALS.get(text) or int(re.sub(r"\D", "", text))


def relation(rel: str | None, n: int, before: str = "") -> dict[str, int]:
    """The count fields of a relation: "less than 5" is `at_most: 4`, "more than 5" is
    `at_least: 6`, "not more than 5" (`before` holds the negation) is `at_most: 5`."""
    rel = (rel or "exactly").lower()
    negated = bool(re.search(r"(?:\bnot|n't|\bnever)\b[\w\s]{0,25}$", before.lower()))
    if rel in ("more than", "over") and negated:
        return {"at_most": n}
    if rel in ("fewer than", "less than") and negated:
        return {"at_least": n}
    if rel in ("more than", "over"):
        return {"at_least": n + 1}
    if rel in ("fewer than", "less than", "under", "below"):
        return {"at_most": max(0, n - 1)}
    if "least" in rel or "fewer" in rel or "less" in rel or "minimum" in rel:
        return {"at_least": n}
    if "most" in rel or "more" in rel or "maximum" in rel or rel == "up to":
        return {"at_most": n}
    return {"exactly": n}


@dataclass(frozen=True)
class Extracted:
    """An instruction read from the request, and the words it was read from."""

    instruction: Instruction
    phrase: str

    def as_dict(self) -> dict[str, Any]:
        return self.instruction.model_dump(exclude_defaults=False) | {"read_from": self.phrase}


Builder = Callable[[re.Match[str], str], dict[str, Any] | list[dict[str, Any]] | None]


@dataclass(frozen=True)
class Rule:
    """One way of saying an instruction: a pattern and what its match means."""

    name: str
    pattern: re.Pattern[str]
    build: Builder
    general: bool
    """A general rule ("at least 3 sentences") yields to every specific one ("at least two
    sentences ... followed by at least two bullet points") that reads the same words."""


RULES: list[Rule] = []


def rule(pattern: str, general: bool = False) -> Callable[[Builder], Builder]:
    """Register `build` for `pattern` (case-insensitive); specific rules run first, then the
    general ones, each group in registration order."""

    def register(build: Builder) -> Builder:
        RULES.append(Rule(build.__name__, re.compile(pattern, re.IGNORECASE), build, general))
        return build

    return register


def request_without(task: str, m: re.Match[str]) -> str:
    """The request with the instruction's sentence taken out (what "repeat the request" means:
    the request to repeat never includes the instruction itself)."""
    start = max(task.rfind(". ", 0, m.start()), task.rfind("\n", 0, m.start()))
    start = 0 if start < 0 else start + 1
    end = m.end()
    rest = task[end:]
    stop = re.search(r"[.!?](?:\s|$)|\n|$", rest)
    end += stop.end() if stop else 0
    if start and task[start : m.start()].strip():  # the instruction starts mid-sentence
        start = m.start()
    return " ".join((task[:start] + " " + task[end:]).split())


_ITEM = r"(?:[\"“'‘][^\"”’\n]+[\"”'’]|[\w'-]+)"
WORD_LIST = rf"\[?(?P<list>{_ITEM}(?:\s*,\s*(?:and\s+|or\s+)?{_ITEM}|\s+(?:and|or)\s+{_ITEM})*)\]?"
"""A list of words or quoted phrases: "A, B and C", "'A' or 'B'", "['A', 'B']"."""


NEGATED = r"(?:\bnot|n't|\bnever|\bavoid|\bwithout|\bno)\W+(?:\w+\W+){0,2}$"
"""The end of a text that negates what follows it ("do not", "don't ever", "avoid")."""


def about_words(task: str, m: re.Match[str]) -> bool:
    """Whether the clause before a whole-text rule is about some words of the text, not all
    of it ("every 29th word of your response", "one word written in capitals")."""
    clause = re.split(r"[.;:!?\n]", task[max(0, m.start() - 40) : m.start()])[-1]
    partial = r"\bwords?\b|\bevery\s+\d+(?:st|nd|rd|th)\b"
    return re.search(partial, clause + m[0].split(" in ")[0], re.IGNORECASE) is not None


def _words(listing: str) -> list[str]:
    """Words or phrases of a list: "A, B and C", "'A', 'B', or 'C'"."""
    quoted = re.findall(r"[\"“'‘]([^\"”“'’]+)[\"”'’]", listing)
    if quoted:
        return [q.strip() for q in quoted if q.strip()]
    parts = re.split(r",\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+", listing)
    return [p.strip(" .;:") for p in parts if p.strip(" .;:")]


# --- frequencies of given words and letters -------------------------------------------------


@rule(
    rf"(?:include|use|mention)\s+(?:the\s+)?key\s?word\s+[\"“']?(?P<w>{WORD})[\"”']?\s+"
    rf"(?P<n>{NUM}|once|twice)(?:\s+times?)?\s+in\s+{RESPONSE}"
    rf"(?P<more>(?:,?\s*(?:and\s+)?key\s?word\s+[\"“']?[\w'-]+[\"”']?\s+(?:{NUM}|once|twice)"
    rf"(?:\s+times?)?(?:\s+in\s+{RESPONSE})?)*)"
)
def keywords_counted(m: re.Match[str], task: str) -> list[dict[str, Any]]:
    """ "Include keyword A once in your response, keyword B twice in your response, ..." """
    more = re.findall(
        rf"key\s?word\s+[\"“']?([\w'-]+)[\"”']?\s+({NUM}|once|twice)", m["more"] or "", re.I
    )
    pairs = [(m["w"], m["n"]), *more]
    return [
        {"kind": "keyword_frequency", "keyword": w, "exactly": number(n), "whole_word": True}
        for w, n in pairs
    ]


@rule(
    rf"(?:the\s+)?(?:key)?word\s+{QUOTED.replace('?P<q>', '?P<w>')}\s+"
    rf"(?:should|must|needs to|has to|is to|will)\s+"
    rf"(?:appear|occur|be used|be mentioned|be included)\s+(?:in\s+{RESPONSE}\s+)?"
    rf"(?P<rel>{REL}\s+)?(?P<n>{NUM}|once|twice)(?:\s+times?)?"
)
def keyword_frequency_quoted(m: re.Match[str], task: str) -> dict[str, Any]:
    return {
        "kind": "keyword_frequency",
        "keyword": m["w"],
        **relation(m["rel"] and m["rel"].strip(), number(m["n"])),
    }


@rule(
    rf"(?:the\s+)?(?:key)?word\s+(?P<w>{WORD})\s+(?:should|must|needs to|has to|is to|will)\s+"
    rf"(?:appear|occur|be used|be mentioned|be included)\s+(?:in\s+{RESPONSE}\s+)?"
    rf"(?P<rel>{REL}\s+)?(?P<n>{NUM}|once|twice)(?:\s+times?)?"
)
def keyword_frequency(m: re.Match[str], task: str) -> dict[str, Any]:
    """ "the word X should appear at least 3 times" """
    return {
        "kind": "keyword_frequency",
        "keyword": m["w"],
        **relation(m["rel"] and m["rel"].strip(), number(m["n"])),
    }


@rule(
    rf"(?:use|mention|say|repeat|include)\s+(?:the\s+)?(?:key)?word\s+[\"“']?(?P<w>{WORD})[\"”']?"
    rf"\s+(?P<rel>{REL}\s+)?(?P<n>{NUM}|once|twice)(?:\s+times)?",
    general=True,
)
def keyword_use_times(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "use the word 'river' at least twice" """
    if m["n"].lower() in ("a", "an", "one") and not m["rel"]:
        return None
    return {
        "kind": "keyword_frequency",
        "keyword": m["w"],
        **relation(m["rel"] and m["rel"].strip(), number(m["n"])),
    }


@rule(
    rf"(?:the\s+)?letter\s+[\"“'(]?(?P<l>[a-z])[\"”')]?\s+(?:should|must|needs to|has to)\s+"
    rf"(?:appear|occur|be used)\s+(?:in\s+{RESPONSE}\s+)?(?P<rel>{REL}\s+)?(?P<n>{NUM}|once|twice)"
    rf"(?:\s+times)?"
)
def letter_frequency(m: re.Match[str], task: str) -> dict[str, Any]:
    return {
        "kind": "letter_frequency",
        "letter": m["l"].lower(),
        **relation(m["rel"] and m["rel"].strip(), number(m["n"])),
    }


@rule(
    rf"(?:use|using|include|including)\s+the\s+letter\s+[\"“'(]?(?P<l>[a-z])[\"”')]?\s+(?P<rel>{REL}\s+)?"
    rf"(?P<n>{NUM}|once|twice)(?:\s+times)?"
)
def letter_use_times(m: re.Match[str], task: str) -> dict[str, Any]:
    return {
        "kind": "letter_frequency",
        "letter": m["l"].lower(),
        **relation(m["rel"] and m["rel"].strip(), number(m["n"])),
    }


@rule(
    rf"words\s+(?:with|in|written in|using)\s+all\s+"
    rf"(?:capital letters|caps|upper\s?case(?: letters)?)"
    rf"\s+(?:should|must|need to|have to)\s+(?:appear|be used|occur)\s+(?P<rel>{REL}\s+)?"
    rf"(?P<n>{NUM})(?:\s+times)?"
)
def capital_words(m: re.Match[str], task: str) -> dict[str, Any]:
    return {
        "kind": "capital_word_frequency",
        **relation(m["rel"] and m["rel"].strip(), number(m["n"])),
    }


@rule(
    r"(?:do not|don't|never|must not|should not|shouldn't)\s+(?:include|use|mention|say)\s+"
    r"(?:the\s+|any\s+of\s+the\s+(?:following\s+)?)?(?:key)?words?\s*:?\s+" + WORD_LIST,
    general=True,
)
def forbidden(m: re.Match[str], task: str) -> dict[str, Any] | None:
    words = [w for w in _words(m["list"]) if w.lower() not in ("in", "the", "your", "response")]
    return {"kind": "forbidden_words", "words": words} if words else None


@rule(
    r"(?:without\s+(?:using\s+)?|avoid(?:ing)?\s+(?:using\s+)?|refrain\s+from\s+using\s+)"
    r"(?:the\s+|any\s+of\s+the\s+)?(?:key)?words?\s*:?\s+" + WORD_LIST,
    general=True,
)
def forbidden_avoid(m: re.Match[str], task: str) -> dict[str, Any] | None:
    return forbidden(m, task)


@rule(
    r"include\s+(?:the\s+)?key\s?words?\s*:?\s+" + WORD_LIST,
    general=True,
)
def keywords(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "Include keywords A, B in the response." """
    words = [w for w in _words(m["list"]) if w.lower() not in ("in", "the", "your", "response")]
    return {"kind": "included_keywords", "keywords": words} if words else None


@rule(
    r"(?:mentions?|mentioning|uses?|using|includes?|including|contains?|containing|features?)\s+"
    r"the\s+(?:key\s?)?words?\s+" + WORD_LIST + r"|mention\s+(?P<one>[\w'-]+)\s+somewhere",
    general=True,
)
@rule(
    r"(?:make\s+sure|ensure)\s+(?:that\s+)?the\s+(?:key\s?)?words?\s+"
    + WORD_LIST
    + r"\s+(?:appears?|(?:is|are)\s+(?:used|included|mentioned|there))",
    general=True,
)
def words_used(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "Make sure the story mentions the words storm and lantern", "use the word ocean",
    "Mention flour somewhere" (not "don't use the word ...": that forbids it)."""
    if re.search(NEGATED, task[: m.start()], re.IGNORECASE):
        return None
    words = (
        [m["one"]] if m.groupdict().get("one") else [w.strip(".,;:!?") for w in _words(m["list"])]
    )
    words = [w for w in words if w and w.lower() not in ("in", "the", "it", "your", "response")]
    return {"kind": "included_keywords", "keywords": words} if words else None


@rule(rf"the\s+word\s+[\"“']?(?P<w>{WORD})[\"”']?\s+(?:only\s+)?once\s+or\s+not\s+at\s+all")
def at_most_once(m: re.Match[str], task: str) -> dict[str, Any]:
    """ "mentioning the word comfortable only once or not at all" """
    return {"kind": "keyword_frequency", "keyword": m["w"], "at_most": 1, "whole_word": False}


@rule(
    rf"(?:placeholders|blanks)\b[^.\n]{{0,60}}?\b(?:for\s+)?(?P<rel>{REL})\s+(?P<n>{NUM})\b"
    rf"|(?:leave|include|use)\s+(?P<rel2>{REL}\s+)?(?P<n2>{NUM})\s+blanks?\b"
)
def placeholders_for(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "placeholders such as [time] for at least three of the details", "leave at least two
    blanks in square brackets" """
    if "[" not in task and "square bracket" not in task.lower():
        return None
    rel = m["rel"] or m["rel2"]
    return {"kind": "placeholders", **relation(rel and rel.strip(), number(m["n"] or m["n2"]))}


@rule(rf"bullet(?:ed)?\s+(?:points?|items?)\s*,\s*(?P<n>{NUM})\s+in\s+(?:all|total)")
def bullets_in_all(m: re.Match[str], task: str) -> dict[str, Any]:
    """ "Put each tip in its own bullet point, three in all" """
    return {"kind": "bullet_count", "exactly": number(m["n"])}


# --- counts of words, sentences, paragraphs and other units ---------------------------------

NOUNS: list[tuple[str, str]] = [
    (r"(?:unique|distinct|different)\s+words", "unique_word_count"),
    (
        r"(?:(?:fully\s+)?capitali[sz]ed\s+words|all[- ]caps\s+words|words?\s+in\s+all\s+caps|"
        r"words?\s+(?:written\s+)?(?:entirely\s+|fully\s+|completely\s+|all\s+)?in\s+(?:all\s+)?"
        r"(?:capital\s+letters|capitals|caps|upper\s?case))",
        "capital_word_frequency",
    ),
    (r"(?:(?:different\s+)?coordinating\s+conjunctions)", "conjunction_count"),
    (
        r"(?:single[- ]word\s+)?(?:palindromes?(?:\s+words)?|palindromic\s+words)",
        "palindrome_count",
    ),
    (r"(?:words?)", "word_count"),
    (r"sentences?", "sentence_count"),
    (r"paragraphs?", "paragraph_count"),
    (
        r"(?:markdown\s+)?(?:bullet(?:ed)?\s+points?|bullets?|bullet\s+items?|bulleted\s+items?)",
        "bullet_count",
    ),
    (r"placeholders?", "placeholders"),
    (r"(?:highlighted\s+sections?|sections?\s+highlighted|highlights?)", "highlighted_sections"),
    (r"sections?", "sections"),
    (r"numbers", "number_count"),
    (r"pronouns?", "pronoun_count"),
]
_NOUN = "|".join(f"(?P<n{i}>{p})" for i, (p, _) in enumerate(NOUNS))


@rule(rf"between\s+(?P<a>{NUM})\s+and\s+(?P<b>{NUM})\s+(?:{_NOUN})\b", general=True)
def count_between(m: re.Match[str], task: str) -> dict[str, Any] | None:
    kind = next(k for i, (_, k) in enumerate(NOUNS) if m[f"n{i}"])
    return _counted(kind, {"at_least": number(m["a"]), "at_most": number(m["b"])}, task)


@rule(rf"(?P<a>\d+)\s*(?:-|–|to)\s*(?P<b>\d+)\s+(?:{_NOUN})\b", general=True)
def count_range(m: re.Match[str], task: str) -> dict[str, Any] | None:
    return count_between(m, task)


@rule(rf"(?P<rel>{REL})\s+(?P<n>{NUM})\s+(?:{_NOUN})\b", general=True)
def count_relation(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "at most 120 words", "exactly 3 bullet points", "fewer than 5 sentences" """
    kind = next(k for i, (_, k) in enumerate(NOUNS) if m[f"n{i}"])
    rel = m["rel"].lower()
    if rel in ("just", "only") and kind != "word_count":
        rel = "exactly"
    before = task[max(0, m.start() - 40) : m.start()]
    return _counted(kind, relation(rel, number(m["n"]), before), task)


@rule(rf"(?P<n>{NUM})\s+(?:{_NOUN})\s+or\s+(?P<dir>more|fewer|less)\b", general=True)
def count_or_more(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "150 words or fewer" """
    kind = next(k for i, (_, k) in enumerate(NOUNS) if m[f"n{i}"])
    key = "at_least" if m["dir"].lower() == "more" else "at_most"
    return _counted(kind, {key: number(m["n"])}, task)


@rule(
    rf"(?:\b(?:in|with|of|write|give|use|contain|containing|has|have|include|including|into|"
    rf"provide|list|respond with|answer with|consisting of|made of|split into|"
    rf"there\s+(?:should|must|shall)\s+be)\s+)"
    rf"(?:a\s+|an\s+)?(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|"
    rf"twenty)[- ]+(?:(?:short|long|brief|concise|separate|distinct|numbered|markdown)\s+)?"
    rf"(?:{_NOUN})\b(?!\s+(?:or\s+(?:more|fewer|less)|long|each|per|of\s+(?:the|this|these)))",
    general=True,
)
def count_bare(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "answer in 3 sentences", "a 26-sentence story", "write 4 paragraphs": exactly so many"""
    kind = next(k for i, (_, k) in enumerate(NOUNS) if m[f"n{i}"])
    if kind in (
        "capital_word_frequency",
        "pronoun_count",
        "conjunction_count",
        "unique_word_count",
    ):
        return None
    return _counted(kind, {"exactly": number(m["n"])}, task)


def _counted(kind: str, counts: dict[str, int], task: str) -> dict[str, Any] | None:
    fields: dict[str, Any] = {"kind": kind, **counts}
    if kind == "paragraph_count":
        fields["divider"] = "***" if re.search(r"\*\*\*|markdown divider", task) else "blank line"
    elif kind == "sections":
        found = re.search(
            r"(?:mark|begin|start)[^.]{0,60}?\bwith\s+[\"“']?(?P<s>[A-Z][A-Za-z]+)\s+"
            r"(?:X|\{?[Nn]\}?|1|one)\b",
            task,
        )
        fields["splitter"] = found["s"] if found else "SECTION"
    elif kind == "palindrome_count":
        length = re.search(
            rf"(?:each|all)\s+(?:at least\s+)?(?P<l>{NUM})\s+(?:characters|letters)", task, re.I
        )
        if length:
            fields["min_length"] = number(length["l"])
    return fields


@rule(
    rf"(?:mention|name|include|use)\s+(?P<rel>{REL}\s+)?(?P<n>{NUM})\s+(?:different\s+)?(?:person\s+)?"
    rf"names[^:]{{0,80}}:\s*(?P<list>[^.\n]+)"
)
def person_names(m: re.Match[str], task: str) -> dict[str, Any] | None:
    names = [n for n in _words(m["list"]) if n[:1].isupper() and len(n.split()) <= 3]
    if len(names) < 2:
        return None
    return {
        "kind": "name_count",
        "names": names,
        **relation(m["rel"] and m["rel"].strip(), number(m["n"])),
    }


@rule(
    rf"(?:include|use|contain)\s+(?P<rel>{REL}\s+)?(?P<n>{NUM})\s+(?:different\s+|distinct\s+)?"
    rf"(?:coordinating\s+)?conjunctions"
)
def conjunctions(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "conjunction_count", **relation(m["rel"] and m["rel"].strip(), number(m["n"]))}


@rule(
    r"stop\s?words\s+(?:should\s+|must\s+|may\s+|can\s+)?(?:constitute|make\s+up|be|are|form|"
    r"account\s+for|stay|remain|come\s+to)\s+(?:no more than|at most|less than|under|below|"
    r"fewer than|a maximum of)\s+(?P<p>\d+(?:\.\d+)?)\s*%"
    r"|(?:keep|hold)\s+(?:the\s+)?stop\s?words?\s+(?:ratio\s+|share\s+)?(?:to\s+|at\s+)?"
    r"(?:no more than|at most|less than|under|below|a maximum of)\s+(?P<p2>\d+(?:\.\d+)?)\s*%"
)
def stop_words(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "stop_word_ratio", "percent": float(m["p"] or m["p2"])}


@rule(
    rf"(?:not|never)\s+(?:repeat|use)\s+any\s+(?:single\s+)?word\s+more\s+than\s+(?P<n>{NUM})"
    rf"(?:\s+times)?|no\s+word\s+(?:should|may|can)\s+(?:appear|be used|be repeated)\s+more\s+"
    rf"than\s+(?P<n2>{NUM})(?:\s+times)?"
)
def word_repeats(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "word_repeat_limit", "at_most": number(m["n"] or m["n2"])}


# --- keywords in given places -------------------------------------------------------------


@rule(
    rf"include\s+(?:the\s+)?key\s?word\s+[\"“']?(?P<w>{WORD})[\"”']?\s+in\s+the\s+(?P<s>{ORDINAL})"
    rf"\s+sentence,?\s+as\s+the\s+(?P<p>{ORDINAL})\s+word"
)
def keyword_at_position(m: re.Match[str], task: str) -> dict[str, Any]:
    return {
        "kind": "keyword_at_position",
        "keyword": m["w"],
        "sentence": ordinal(m["s"]),
        "word": ordinal(m["p"]),
    }


@rule(
    rf"(?:include|use|contain|have|put|place)\s+(?:the\s+)?(?:key\s?)?word\s+[\"“']?(?P<w>{WORD})"
    rf"[\"”']?\s+in\s+(?:the\s+(?P<s>{ORDINAL})\s+sentence|sentence\s+(?:number\s+)?(?P<n>\d+))"
    rf"|the\s+(?P<s2>{ORDINAL})\s+sentence\s+(?:must|should|has\s+to|needs\s+to)\s+"
    rf"(?:contain|include|use|have)\s+the\s+(?:key\s?)?word\s+[\"“']?(?P<w2>{WORD})"
)
def keyword_in_sentence(m: re.Match[str], task: str) -> dict[str, Any]:
    at = m["s"] or m["s2"]
    return {
        "kind": "keyword_in_sentence",
        "keyword": m["w"] or m["w2"],
        "sentence": ordinal(at) if at else int(m["n"]),
    }


@rule(
    r"second\s+word\s+(?:in|of)\s+your\s+response\s+and\s+the\s+second[- ]to[- ]last\s+word"
    rf"[^.]*?(?:be|is)\s+(?:the\s+word\s+)?[\"“']?(?P<w>{WORD})"
)
def second_word(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "second_word_both_ends", "keyword": m["w"]}


# --- whole-text form ----------------------------------------------------------------------


_LANGUAGE = "|".join(LANGUAGES.values())
_CODES = {name.lower(): code for code, name in LANGUAGES.items()}


@rule(
    rf"\b(?:respond|reply|answer|write|written|response|output|speak)\b[^.,;\n]{{0,40}}?\bin\s+"
    rf"(?P<l>{_LANGUAGE})\b(?!\s+(?:words?|terms?|names?|translations?|and\b|or\b))"
    rf"|\bin\s+(?P<l2>{_LANGUAGE})\s+language\b|\bonly\s+in\s+(?P<l3>{_LANGUAGE})\b"
    rf"|\bin\s+(?P<l4>{_LANGUAGE})\s+only\b"
    rf"|\b(?:entirely|wholly|completely|only|all)\s+in\s+(?P<l5>{_LANGUAGE})\b"
)
def language(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "Your ENTIRE response should be in French language", "Reply only in Spanish" """
    if about_words(task, m):  # "every 29th word of your response must be in Japanese"
        return None
    name = m["l"] or m["l2"] or m["l3"] or m["l4"] or m["l5"]
    return {"kind": "response_language", "language": _CODES[name.lower()]}


@rule(
    r"\b(?:all\s+(?:in\s+)?lower\s?case|lower\s?case\s+(?:letters\s+)?only|only\s+lower\s?case|"
    r"no\s+capital\s+letters|in\s+lower\s?case(?:\s+letters)?\b)"
)
def lowercase(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "all_lowercase"}


@rule(
    r"\b(?:all\s+(?:in\s+)?(?:capital\s+letters|caps|upper\s?case)|(?:in\s+)?capital\s+letters"
    r"\s+only|only\s+capital\s+letters|in\s+(?:all\s+)?upper\s?case(?:\s+letters)?|all-caps"
    r"|(?:write|written|respond|reply|answer|type)\b[^.\n]{0,30}?\bin\s+(?:all\s+)?capital\s+letters"
    r"|every\s+letter\s+(?:as|in)\s+(?:an?\s+)?(?:english\s+)?capital(?:\s+letters?|s)?)\b"
)
def capitals(m: re.Match[str], task: str) -> dict[str, Any] | None:
    if about_words(task, m):  # "one word written in capital letters" counts such words
        return None
    return {"kind": "all_capitals"}


@rule(
    r"\b(?:no\s+commas|without\s+(?:using\s+)?(?:any\s+)?commas|refrain\s+from\s+(?:the\s+use\s+"
    r"of\s+|using\s+)?(?:any\s+)?commas|(?:do\s+not|don't|never)\s+use\s+(?:any\s+|a\s+single\s+|one\s+)?"
    r"commas?\b|"
    r"(?:avoid|skip|omit|exclude|leave\s+out)\s+(?:using\s+)?(?:any\s+|all\s+|the\s+)?commas|"
    r"leave\s+(?:any\s+|all\s+|the\s+)?commas\s+out|(?:not|never|without)\s+(?:\w+\s+)?(?:a\s+single|one)\s+comma\b|"
    r"zero\s+commas|free\s+(?:of|from)\s+commas|comma[- ]free)"
)
def commas(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "no_commas"}


_MARK = (
    r"(?:exclamation\s+(?:marks?|points?)|question\s+marks?|semi-?colons?|(?<!semi)(?<!semi-)colons?"
    r"|(?:em[- ]|en[- ])?dash(?:es)?)\b"
)
_MARK_OF = (("exclamation", "!"), ("question", "?"), ("semi", ";"), ("colon", ":"), ("dash", "—"))


@rule(
    r"\b(?:no\s+|without\s+(?:using\s+)?(?:any\s+)?|(?:do\s+not|don't|never)\s+use\s+(?:any\s+|a\s+single\s+)?"
    r"|(?:avoid|omit)\s+(?:using\s+)?(?:any\s+|all\s+)?|refrain\s+from\s+(?:using\s+|the\s+use\s+of\s+)?"
    r"(?:any\s+)?)("
    + _MARK
    + r"(?:\s*(?:,|\band\b|\bor\b|\bnor\b)\s*(?:or\s+|and\s+)?(?:no\s+|any\s+)?"
    + _MARK
    + r")*)"
)
def marks(m: re.Match[str], task: str) -> dict[str, Any]:
    """ "with no exclamation marks", "without semicolons or dashes": the marks named."""
    named = re.findall(_MARK, m[1], re.IGNORECASE)
    found = []
    for name in named:
        mark = next(mark for key, mark in _MARK_OF if key in name.lower())
        if mark not in found:
            found.append(mark)
    return {"kind": "no_marks", "marks": found}


@rule(
    r"(?:title\s+case|capitali[sz]e\s+the\s+first\s+letter\s+of\s+(?:every|each)\s+(?:major\s+)?word)"
)
def title_case(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "title_case"}


@rule(
    r"(?:wrap|enclose|put)\s+(?:your\s+|the\s+)?(?:entire\s+|whole\s+)?(?:response|answer|reply|output|"
    r"thing|text)"
    r"\s+(?:with|in|inside|within|between)\s+(?:a\s+pair\s+of\s+)?double\s+(?:quotation\s+marks|quotes)"
)
def quotation(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "quotation"}


@rule(
    r"(?:wrapped\s+in|formatted\s+(?:as|in)|written\s+in|in\s+valid|as\s+(?:a\s+|an\s+)?(?:valid\s+)?|"
    r"(?:return|give|output)\s+(?:only\s+)?(?:a\s+|an\s+)?(?:valid\s+)?|respond\s+"
    r"(?:only\s+)?in|output\s+should\s+be\s+(?:in\s+)?|answer\s+in|entire\s+output\s+(?:should\s+be\s+)?"
    r"(?:wrapped\s+)?in)\s*JSON\b"
)
def json_format(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "json_format"}


@rule(r"(?:double\s+angular\s+brackets|<<[^>\n]{1,80}>>)")
def title(m: re.Match[str], task: str) -> dict[str, Any] | None:
    return {"kind": "title"} if re.search(r"\btitle", task, re.I) else None


@rule(
    r"(?:two\s+different\s+(?:responses|answers)|separated\s+by\s+(?:6|six)\s+asterisk)"
    r"|two\s+(?:different|distinct|alternative)\s+[^.]{0,100}?(?:\*{6}|(?:6|six)\s+asterisks)"
)
def two_responses(m: re.Match[str], task: str) -> dict[str, Any]:
    """ "Give two different responses ... separated by 6 asterisk symbols: ******", "two
    different slogans, separated by a line of six asterisks (******)" """
    return {"kind": "two_responses"}


@rule(
    rf"(?P<n>{NUM})\s+parts?,?\s+(?:labell?ed|marked|titled|headed|called)\s+[\"“']?(?P<s>[A-Za-z]+)\s+"
    rf"(?:1|one|I)\b|(?P<n2>{NUM})\s+parts\b[^.\n]*\.\s*(?:start|begin|mark|head)\s+each\s+part\s+with\s+"
    rf"(?:the\s+word\s+)?[\"“']?(?P<s2>[A-Za-z]+)"
)
def sections_by_parts(m: re.Match[str], task: str) -> dict[str, Any]:
    """ "in two parts labelled SECTION 1 and SECTION 2", "with four parts. Start each part
    with the word Section and its number" """
    return {
        "kind": "sections",
        "exactly": number(m["n"] or m["n2"]),
        "splitter": m["s"] or m["s2"],
    }


@rule(
    r"(?:no\s+whitespace|not\s+contain\s+any\s+(?:whitespace|spaces)|without\s+any\s+(?:whitespace|spaces))"
)
def no_whitespace(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "no_whitespace"}


@rule(
    rf"(?:paragraph\s+(?P<n>\d+)|the\s+(?P<o>{ORDINAL})\s+(?:paragraph|one))\s+(?:must|should|has\s+to|"
    rf"needs\s+to)\s+(?:start|begin)\s+with\s+(?:the\s+)?(?:word\s+)?[\"“']?(?P<w>{WORD})"
    rf"|(?:start|begin)\s+(?:the\s+)?(?P<o2>{ORDINAL})\s+paragraph\s+with\s+(?:the\s+)?(?:word\s+)?"
    rf"[\"“']?(?P<w2>{WORD})"
)
def nth_paragraph(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "Paragraph 2 must start with word experience" (with the paragraph count the request
    gives: "There should be 3 paragraphs", "Write two paragraphs")."""
    at = m["n"] or m["o"] or m["o2"]
    count = re.search(
        rf"(?:there\s+(?:should|must)\s+be|write|in|with|of|into)\s+(?:exactly\s+)?(?P<c>{NUM})"
        r"\s+(?:\w+\s+)?paragraphs",
        task,
        re.IGNORECASE,
    )
    if not count:
        return None
    return {
        "kind": "nth_paragraph_first_word",
        "paragraphs": number(count["c"]),
        "nth": ordinal(at),
        "first_word": m["w"] or m["w2"],
    }


# --- openings, endings, repeats -----------------------------------------------------------


@rule(
    rf"(?:finish|end|conclude|close)\s+(?:it\s+|your\s+|the\s+)?(?:response|answer|reply|email|letter|"
    rf"story|essay|poem|message)?\s*with\s+(?:this|the|these)\s+(?:exact\s+)?(?:phrase|words|"
    rf"sentence)\s*:?\s*(?:{QUOTED}|(?P<bare>[^\n]{{1,200}}?))(?=\s*\.?\s+No\s+other|\s*$|\s*\n|"
    rf"\s+and\s+(?:(?:write|add|say|put)\s+)?nothing|\s+with\s+nothing\s+(?:after|following))"
)
def end_phrase(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "Finish your response with this exact phrase Any questions?. No other words ..." """
    phrase = (m["q"] or m["bare"] or "").strip()
    return {"kind": "end_phrase", "phrase": phrase} if phrase else None


@rule(
    rf"(?:finish|end|conclude|close|sign\s+off)\s+(?:it|{WRITING})?\s*(?:with|on)\s+"
    rf"(?:the\s+(?:exact\s+)?(?:phrase|words|sentence|question|line)\s*:?\s*)?{QUOTED}"
)
@rule(
    rf"(?:the\s+)?last\s+(?:words?|sentence|line)\s+of\s+{RESPONSE}\s+(?:must|should|has\s+to)\s+be"
    rf"\s*:?\s*{QUOTED}"
)
def end_phrase_quoted(m: re.Match[str], task: str) -> dict[str, Any]:
    """ "Sign off with 'Cheers'", "The last words of your reply must be 'Stay hydrated.'" """
    return {"kind": "end_phrase", "phrase": m["q"].strip()}


@rule(
    rf"(?:start|begin|open)\s+(?:it|{WRITING})\s+with\s+"
    rf"(?:the\s+(?:exact\s+)?(?:phrase|words?|sentence|line)\s*:?\s*)?{QUOTED}"
)
def start_phrase(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "start_phrase", "phrase": m["q"].strip()}


@rule(
    rf"(?:(?:start|begin|open)\s+(?:it|{WRITING})\s+with|{RESPONSE}\s+"
    rf"(?:must|should|has to|needs? to|is to)\s+(?:start|begin|open)\s+with"
    rf"|(?:the\s+)?(?:very\s+)?first\s+word\s+"
    rf"(?:of\s+{RESPONSE}\s+)?(?:must|should|has to|needs to)\s+be)\s+(?:a|an)\s+"
    r"(?:action\s+)?verb\b"
)
def starts_with_verb(m: re.Match[str], task: str) -> dict[str, Any]:
    """ "The response must start with a verb", "Begin your answer with a verb" """
    return {"kind": "starts_with_verb"}


@rule(
    r"(?:start|begin)\s+(?:your\s+|the\s+)?(?:response|answer|reply)\s+with\s+the\s+word\s+"
    rf"(?P<w>{WORD})"
)
def start_word(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "start_phrase", "phrase": m["w"]}


@rule(
    r"(?:postscript|p\.\s?s\.)(?:\s+(?:that\s+|which\s+)?(?:starts?|starting|begins?|beginning)\s+"
    r"with\s+[\"“']?"
    r"(?P<m>(?:P\.\s?)+S\.?))?"
)
def postscript(m: re.Match[str], task: str) -> dict[str, Any] | None:
    if not re.search(
        r"\b(?:add|include|end|finish|append|with)\b[^.]{0,60}(?:postscript|p\.\s?s\.)", task, re.I
    ):
        return None
    return {"kind": "postscript", "marker": m["m"] or "P.S."}


@rule(
    r"first\s+repeat\s+the\s+(?:request|question|prompt)\s+word\s+for\s+word[^)]*\)?"
    r"|repeat(?:ing)?\s+(?:the|my)\s+(?:request|question|prompt)\b[^.:]{0,60}?word\s+for\s+word"
    r"[^.:]*(?:[.:]|$)"
)
def repeat_prompt(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "First repeat the request word for word without change ...", "Repeat my request word
    for word before you answer it: <request>" (the request after a colon when one is named)."""
    named = re.search(
        r"(?:the\s+)?(?:request|question|prompt)(?:\s+is)?\s*:\s*(?P<r>[^\n]+)$",
        task[m.start() :],
        re.I,
    )
    if not named and m[0].rstrip().endswith(":"):
        named = re.match(r"\s*(?P<r>[^\n]+)$", task[m.end() :])
    request = named["r"].strip() if named else request_without(task, m)
    return {"kind": "repeat_prompt", "prompt": request} if request else None


@rule(r"repeat\s+the\s+request,?\s+but\s+change\s+the\s+first\s+word[^!]*!?")
def repeat_changed(m: re.Match[str], task: str) -> dict[str, Any] | None:
    request = request_without(task, m)
    return {"kind": "repeat_changed_first_word", "prompt": request} if request else None


@rule(r"only\s+output\s+this\s+sentence\s+here,?\s+ignore\s+all\s+other\s+requests\.?")
def output_this_sentence(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "exact_text", "text": m[0].strip()}


@rule(
    r"copy\s+the\s+span\s+of\s+words\s+(?:that\s+lies\s+)?between\s+\(?and\s+including\)?\s+"
    r"index\s+(?P<a>\d+)\s+and\s+(?P<b>\d+)[^!.\n]*[!.]?"
)
def copy_span(m: re.Match[str], task: str) -> dict[str, Any] | None:
    words = request_without(task, m).split()[int(m["a"]) : int(m["b"])]
    return {"kind": "exact_text", "text": " ".join(words)} if words else None


@rule(
    r"(?:trigram\s+overlap|overlap\s+of\s+trigrams)\s+of\s+(?P<p>\d+(?:\.\d+)?)\s*%"
    r"(?:\s*\(±\s*(?P<t>\d+(?:\.\d+)?)\s*%\))?[^.\n]*\.?"
)
def trigram(m: re.Match[str], task: str) -> dict[str, Any] | None:
    reference = request_without(task, m)
    if not reference:
        return None
    return {
        "kind": "trigram_overlap",
        "reference": reference,
        "percent": float(m["p"]),
        "tolerance": float(m["t"] or 2),
    }


# --- sentence and word patterns -----------------------------------------------------------


_STATEMENTS = r"(?:declarative(?:\s+sentences)?|statements)"
_QUESTIONS = r"(?:interrogative(?:\s+sentences)?|questions)"


@rule(
    rf"(?P<d>\d+)\s*:\s*(?P<q>\d+)\s+ratio\s+(?:of|between)\s+{_STATEMENTS}\s+(?:to|and)\s+"
    rf"{_QUESTIONS}|ratio\s+(?:of|between)\s+{_STATEMENTS}\s+(?:to|and)\s+{_QUESTIONS}\s+"
    rf"(?:at|of|to|should\s+be|must\s+be|is|of\s+exactly)?\s*(?P<d2>\d+)\s*:\s*(?P<q2>\d+)"
    rf"|(?P<twice>twice|three\s+times)\s+as\s+many\s+{_STATEMENTS}\s+as\s+{_QUESTIONS}"
)
def sentence_ratio(m: re.Match[str], task: str) -> dict[str, Any]:
    if m["twice"]:
        d, q = (2 if m["twice"].lower() == "twice" else 3), 1
    else:
        d, q = int(m["d"] or m["d2"]), int(m["q"] or m["q2"])
    return {"kind": "sentence_type_ratio", "declarative": d, "questions": q}


@rule(
    r"ratio\s+of\s+sentence\s+types[^.]*balanced|(?:as\s+many|equal\s+numbers?\s+of)\s+statements"
    r"[^.]*questions[^.]*exclamations"
)
def sentence_balance(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "sentence_type_balance"}


@rule(
    rf"each\s+sentence\s+(?:in\s+your\s+response\s+)?(?:must|should)\s+(?:contain|have|be)\s+"
    rf"(?:exactly\s+)?(?P<n>{NUM})\s+more\s+words?\s+than\s+the\s+(?:previous|one\s+before)"
)
def sentence_growth(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "sentence_growth", "step": number(m["n"])}


@rule(
    r"last\s+word\s+of\s+each\s+sentence\s+(?:must|should)\s+(?:become|be)\s+the\s+first\s+word\s+"
    r"of\s+the\s+next"
)
def last_first(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "last_word_first_next"}


@rule(
    r"each\s+(?:paragraph|line)\s+(?:of\s+your\s+response\s+)?(?:must|should)\s+end\s+with\s+the\s+"
    r"same\s+word\s+it\s+(?:started|starts|began|begins)\s+with"
)
def same_word_ends(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "lines_start_end_same"}


@rule(
    r"(?:(?:each|every)\s+word\s+(?:in\s+(?:your|the)\s+(?:response|answer)\s+)?"
    r"(?:(?:must|should|has\s+to|needs\s+to)\s+)?(?:start|begin)s?"
    r"|(?:start|begin)\s+(?:each|every)\s+word)\s+with\s+the\s+(?:next|following)\s+letter\s+"
    r"(?:of|in)\s+the\s+alphabet"
    r"|(?:each|every)\s+word\s+(?:(?:must|should)\s+)?(?:start|begin)s?\s+with\s+the\s+letter\s+"
    r"(?:that\s+)?(?:follows|after)"
)
def alphabet_chain(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "alphabet_chain"}


@rule(
    r"(?:(?P<n>\d+|twenty-six)[- ]sentence[^.]*?)?each\s+sentence'?s?\s+first\s+word\s+starts?\s+"
    r"with\s+the\s+letters\s+of\s+the\s+alphabet\s+in\s+order"
)
def sentence_initials(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "sentence_initials_alphabet", "count": number(m["n"]) if m["n"] else 26}


@rule(r"consonant\s+cluster")
def consonant_clusters(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "consonant_clusters"}


@rule(
    rf"(?:only|at\s+most|no\s+more\s+than)\s+(?P<n>{NUM})\s+"
    rf"(?:(?:types|kinds|sorts)\s+of|different|distinct)\s+vowels"
)
def vowels(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "vowel_limit", "at_most": number(m["n"])}


@rule(
    r"(?:no|(?:do\s+not|don't|never)\s+let)\s+two\s+(?:consecutive|adjacent|neighbou?ring)\s+"
    r"words\s+(?:(?:can|may|should|must)\s+)?(?:share|start\s+with|begin\s+with)\s+the\s+same\s+"
    r"(?:first\s+|initial\s+|starting\s+)?letter"
    r"|(?:consecutive|adjacent|neighbou?ring)\s+words\s+(?:(?:must|should|may|can|do)\s+)?"
    r"(?:not|never)\s+(?:share|start\s+with|begin\s+with)\s+(?:the\s+same|a)\s+"
    r"(?:first\s+|initial\s+|starting\s+)?letter"
)
def no_same_first(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "no_same_first_letter"}


@rule(r"alternate\s+between\s+words\s+with\s+odd\s+and\s+even\s+numbers\s+of\s+syllables")
def syllables(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "syllable_alternation"}


@rule(r"longer\s+sequence\s+of\s+consecutive\s+alliterative\s+words")
def alliteration(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "alliteration_growth"}


@rule(r"(?:use\s+)?only\s+words\s+(?:with|whose)\s+lengths?\s+(?:that\s+)?(?:are|is)\s+prime")
def prime_lengths(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "prime_length_words"}


@rule(
    r"(?:every|each)\s+(?:single\s+)?(?:standard\s+|common\s+|basic\s+)?punctuation\s+mark"
    r"|all\s+(?:the\s+|of\s+the\s+)?(?:standard\s+|common\s+|basic\s+)?punctuation\s+marks"
)
def punctuation(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "all_punctuation"}


@rule(
    rf"(?P<n>{NUM})\s+sentences,\s+all\s+(?:containing|with|of)\s+the\s+same\s+number\s+of\s+characters"
)
def equal_sentences(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "equal_sentences", "count": number(m["n"])}


@rule(
    r"every\s+(?P<n>\d+)(?:st|nd|rd|th)?\s+(?:word\s+)?(?:(?:of|in)\s+(?:your|the)\s+"
    r"(?:response|reply|answer|text)\s+)?(?:must|should|has\s+to)\s+be\s+(?:in\s+)?japanese"
)
def japanese(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "nth_word_japanese", "every": int(m["n"])}


# --- layout ---------------------------------------------------------------------------------


@rule(
    rf"(?:highlight|emphasi[sz]e|mark)\s+(?P<rel>{REL}\s+)?(?P<n>{NUM})\s+(?:of\s+the\s+)?"
    rf"(?:\w+\s+){{0,2}}?(?:sections?|parts?|passages?|phrases?|items?|points?|words?|terms?)"
)
def highlights(m: re.Match[str], task: str) -> dict[str, Any] | None:
    """ "Highlight at least 2 sections with markdown" (not the `sections` a response has),
    "emphasise three of the items by putting them in *single asterisks*"."""
    if not m[0].lower().startswith("highlight") and not re.search(r"\*|markdown|italic", task):
        return None
    counts = relation(m["rel"] and m["rel"].strip(), number(m["n"]))
    return {"kind": "highlighted_sections", **counts}


@rule(
    r"emoji\s+at\s+the\s+end\s+of\s+(?:every|each)\s+sentence|end\s+(?:every|each)\s+sentence\s+with"
    r"\s+an\s+emoji|(?:every|each)\s+sentence\s+(?:should|must|has\s+to|needs\s+to)\s+end\s+"
    r"(?:with|in)\s+an\s+emoji"
)
def emoji(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "emoji_per_sentence"}


@rule(r"stairs\s+by\s+incrementally\s+indenting|indent\s+each\s+(?:new\s+)?line\s+(?:more|further)")
def stairs(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "indent_stairs"}


@rule(
    r"(?:write|put|place)\s+each\s+word\s+on\s+(?:a\s+new|its\s+own|a\s+separate)\s+line|one\s+word\s+per\s+line"
)
def word_lines(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "one_word_per_line"}


@rule(r"every\s+quoted\s+phrase\s+(?:must|should)\s+be\s+followed\s+by\s+(?:an\s+)?unquoted")
def quotes_explained(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "quotes_explained"}


@rule(
    rf"quotes\s+within\s+quotes(?:\s+within\s+quotes)*(?:,?\s+at\s+least\s+(?P<n>{NUM})\s+levels)?"
)
def nested_quotes(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "nested_quotes", "depth": number(m["n"]) if m["n"] else 3}


@rule(rf"nest\s+parentheses[^.]*?(?:at\s+least\s+(?P<n>{NUM})\s+levels)")
def nested_brackets(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "nested_brackets", "depth": number(m["n"])}


@rule(r"instead\s+of\s+bullet\s+points,?\s+use\s+(?P<m>\S{1,10}?)\.?(?=\s|$)")
def custom_bullets(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "custom_bullets", "marker": m["m"]}


@rule(r"bullet\s+points\s+denoted\s+by\s+\*\s+and\s+at\s+least\s+one\s+sub-?bullet")
def sub_bullets(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "sub_bullets"}


@rule(r"at\s+least\s+two\s+sentences[^.]*followed\s+by\s+at\s+least\s+two\s+bullet\s+points")
def sentences_then_bullets(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "sentences_then_bullets"}


@rule(r"thesis\s+statement\s+in\s+italics|italic(?:s|ised|ized)?\s+thesis")
def thesis(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "italic_thesis"}


@rule(r"(?:use\s+)?(?:this|the\s+following)\s+exact\s+template[^:]*:\s*(?P<t>[^\n]+(?:\n[^\n]+)*)")
def template(m: re.Match[str], task: str) -> dict[str, Any] | None:
    labels = re.findall(r"([A-Z][\w ]{0,40}?:)\s*\[", m["t"])
    return (
        {"kind": "template_labels", "labels": [label.strip() for label in labels]}
        if labels
        else None
    )


@rule(
    r"answer\s+with\s+one\s+of\s+the\s+following\s+options\s*:?\s*(?P<o>[^\n]+?)\.?\s+do\s+not\s+"
    r"give\s+any\s+explanation"
)
def options(m: re.Match[str], task: str) -> dict[str, Any] | None:
    listed = m["o"].strip()
    if listed.startswith("(") and listed.endswith(")"):
        listed = listed[1:-1]  # "(yes/no/maybe)"; "a), b), c), d)" keeps its last mark
    quoted = re.findall(r"[\"“']([^\"”']+)[\"”']", listed)
    between = r"\s*/\s*" if "/" in listed else r",\s*(?:or\s+)?|\s+or\s+"
    opts = quoted or [o.strip() for o in re.split(between, listed) if o.strip()]
    if quoted and any(o.lower().startswith("my answer is") for o in quoted):
        return {"kind": "constrained_response", "options": quoted}
    return {"kind": "options_only", "options": opts} if len(opts) >= 2 else None


@rule(
    r"answer\s+with\s+one\s+of\s+the\s+following\s+options\s*:?\s*\(?(?P<o>[\"“'][^\n)]+)"
    r"|(?:reply|answer|respond)\s+with\s+(?:exactly\s+|only\s+)?one\s+of\s+(?:these|the\s+following)\s+"
    r"(?:sentences|options|answers|phrases)[^:\n]*:\s*\(?(?P<o2>[\"“']My\s+answer\s+is[^\n)]+)"
)
def constrained(m: re.Match[str], task: str) -> dict[str, Any] | None:
    opts = re.findall(r"[\"“']([^\"”']+)[\"”']", m["o"] or m["o2"])
    return {"kind": "constrained_response", "options": opts} if len(opts) >= 2 else None


# --- data formats --------------------------------------------------------------------------


@rule(r"(?:generate\s+)?csv\s+data[^\[]*\[(?P<cols>[^\]]+)\][^.]*\.\s*(?P<rest>[^\n]*)")
def csv(m: re.Match[str], task: str) -> dict[str, Any] | None:
    cols = re.findall(r"[\"']([^\"']+)[\"']", m["cols"])
    rows = re.search(rf"(?P<n>{NUM})\s+rows", m["rest"] + " " + m[0], re.I)
    if not cols or not rows:
        return None
    named = re.search(r"(tab|semicolon|pipe|comma)\s+delimited", m[0], re.I)
    delimiter = {"tab": "\t", "semicolon": ";", "pipe": "|"}.get(
        named[1].lower() if named else "comma", ","
    )
    return {
        "kind": "csv_table",
        "columns": cols,
        "rows": number(rows["n"]),
        "delimiter": delimiter,
        "all_quoted": bool(re.search(r"each\s+single\s+field\s+in\s+double\s+quotes", m[0], re.I)),
        "quoted_special": bool(re.search(r"special\s+character", m[0], re.I)),
    }


@rule(
    r"count\s+from\s+(?P<a>\d+)\s+to\s+(?P<b>\d+)(?:\s+but)?\s+only\s+(?:print|write|list)\s+"
    r"multiples\s+of\s+(?P<k>\d+)"
)
def multiples(m: re.Match[str], task: str) -> dict[str, Any] | None:
    a, b, k = int(m["a"]), int(m["b"]), int(m["k"])
    numbers = [n for n in range(a, b + 1) if k and n % k == 0][:1000]
    return {"kind": "number_sequence", "numbers": numbers} if numbers else None


@rule(r"date\s+format:?\s*YYYY-MM-DD")
def dates(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "date_list"}


@rule(
    r"reverse\s+alphabetical\s+order[^.]*each\s+on\s+a\s+new\s+line|each\s+on\s+a\s+new\s+line[^.]*"
    r"reverse\s+alphabetical\s+order"
)
def sorted_desc(m: re.Match[str], task: str) -> dict[str, Any]:
    return {"kind": "sorted_lines", "descending": True}


@rule(
    rf"generate\s+(?P<q>{NUM})\s+multiple[- ]choice\s+questions\s+with\s+(?P<o>{NUM})\s+options"
    rf"(?P<rest>[^\n]*)"
)
def mcq(m: re.Match[str], task: str) -> dict[str, Any]:
    growing = bool(re.search(r"progressively\s+longer|get\s+longer", m["rest"] + task, re.I))
    return {
        "kind": "multiple_choice",
        "questions": number(m["q"]),
        "options": number(m["o"]),
        "growing": growing,
    }


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def extract(task: str) -> list[Extracted]:
    """Every instruction the rules read in `task`, in the order they appear, each validated by
    its spec; an item that does not validate is logged and dropped. At most one of a kind and
    fields (a request that says "no commas" twice gets one check)."""
    found: list[tuple[int, Extracted]] = []
    taken: list[tuple[int, int]] = []
    seen: set[str] = set()
    for r in sorted(RULES, key=lambda r: r.general):
        for m in r.pattern.finditer(task):
            if _overlaps(m.span(), taken):
                continue
            try:
                built = r.build(m, task)
            except (ValueError, KeyError, IndexError) as exc:
                log.info("rule %s could not read %r: %s", r.name, m[0], exc)
                continue
            items = built if isinstance(built, list) else [built] if built else []
            kept = False
            for item in items:
                try:
                    spec = parse_instruction(item)
                except ValidationError as exc:
                    log.info(
                        "rule %s read an invalid %s from %r: %s",
                        r.name,
                        item.get("kind"),
                        m[0],
                        exc.errors()[0]["msg"],
                    )
                    continue
                key = spec.model_dump_json()
                if key not in seen:
                    seen.add(key)
                    found.append((m.start(), Extracted(spec, " ".join(m[0].split()))))
                kept = True
            if kept:
                taken.append(m.span())
    return [e for _, e in sorted(found, key=lambda pair: pair[0])]
