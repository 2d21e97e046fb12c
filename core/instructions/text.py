"""The units instruction checks count: words, sentences, paragraphs, lines and markdown marks.

Every splitter is a deterministic regular expression: nothing here downloads data (no nltk).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from core.text.plain import replace_spans, trim_spans

WORD_PATTERN = re.compile(
    r"[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u200c\u200d\u20d0-\u20ff\ufe00-\ufe0f]+"
)
"""IFEval's word tokenizer (nltk's `RegexpTokenizer(r"\\w+")`): runs of letters, digits and `_`.
nltk's `\\w` also takes combining marks and joiners, so the variation selector of "❄️" is a
word there; the common ranges of those are included here, not every script's marks."""
_TOKEN = re.compile(r"\w+(?:[-'.’]\w+)*")
"""Word tokens that keep hyphens, apostrophes and inner dots ("U.S", "don't", "well-known")."""
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]*_]*(?=\s|$)")
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "vs", "etc"),
        *("e.g", "i.e", "fig", "approx", "capt", "lt", "gen", "sgt", "mt", "ft"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
    }
)
"""Words whose trailing dot does not end a sentence ("no." does, so it is not here)."""
_STARS = re.compile(r"\s?\*\*\*\s?")
_BLANK_LINE = re.compile(r"\n\s*\n")


def words(text: str) -> list[str]:
    """Word tokens as IFEval counts them: every run of `\\w` characters ("don't" is two)."""
    return WORD_PATTERN.findall(text)


def tokens(text: str) -> list[str]:
    """Word tokens that keep inner hyphens and apostrophes together ("don't" is one)."""
    return _TOKEN.findall(text)


def _ends_sentence(text: str, start: int, end: int) -> bool:
    """Whether the mark at `start:end` ends its sentence, as punkt reads it: a lower-case word
    after it goes on the sentence only after an ellipsis ("it rains. we stay in." is two
    sentences, as IFEval counts an all-lowercase answer; "Wait... then go." is one), and an
    abbreviation's or an initial's dot does not end one."""
    mark = text[start:end]
    if mark.startswith(("..", "…")):
        return not text[end:].lstrip()[:1].islower()
    if mark.startswith("."):
        before = re.search(r"([\w.]+)$", text[:start])
        word = before.group(1).lower() if before else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha() and word != "i"):
            return False
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence: a sentence ends at `.`, `!`, `?` or `…` (with any
    closing quotes or brackets) before whitespace or the end, unless the dot closes a known
    abbreviation or an initial, or an ellipsis goes on in lower case (`_ends_sentence`). Line
    breaks alone do not end a sentence. Spans without a letter or digit (a lone `***`) are
    dropped."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _ends_sentence(text, match.start(), match.end()):
            spans.append((start, match.end()))
            start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in trim_spans(text, spans) if re.search(r"\w", text[a:b])]


def sentences(text: str) -> list[str]:
    """The sentences of `text` (see `sentence_spans`)."""
    return [text[a:b] for a, b in sentence_spans(text)]


def fewer_sentences_holding(text: str, count: Callable[[str], int], high: int) -> str | None:
    """`text` with whole sentences holding what `count` counts taken out, the one holding
    most first, until at most `high` are left; the first sentence stays, and the last goes
    only where no other will do (it may carry a closing quote or a postscript's line). None
    where that would take more than half the text's words: the rule is then the model's."""
    budget = len(text.split()) // 2
    while count(text) > high:
        spans = sentence_spans(text)
        last = len(spans) - 1
        options = [
            (i == last, -held, b - a, a, b)
            for i, (a, b) in enumerate(spans)
            if i > 0 and (held := count(text[a:b])) > 0
        ]
        if not options:
            return None
        *_, a, b = min(options)
        budget -= len(text[a:b].split())
        if budget < 0:
            return None
        text = replace_spans(text, {(a, b): ""})
    return text


def star_paragraphs(text: str) -> list[str]:
    """Paragraphs divided by `***` lines, as IFEval splits them (`\\s?\\*\\*\\*\\s?`)."""
    return _STARS.split(text)


def blank_line_paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs divided by blank lines, stripped."""
    return [p.strip() for p in _BLANK_LINE.split(text) if p.strip()]


def lines(text: str) -> list[str]:
    """Non-blank lines."""
    return [line for line in text.splitlines() if line.strip()]


_PUNCTUATION = str.maketrans("", "", string.punctuation)


def bare_words(text: str) -> list[str]:
    """Lower-cased whitespace-separated words with ASCII punctuation removed, as IFBench's
    word checks split ("don't" is "dont", "well-known" is "wellknown")."""
    return text.lower().translate(_PUNCTUATION).split()


def strip_punctuation(word: str) -> str:
    """`word` without ASCII punctuation or spaces at either end."""
    return word.strip(string.punctuation + " ")


_KEEP = "\x00"
"""Marks a dot that does not end a sentence while `rule_sentences` works."""
_END = "\x01"
"""Marks a sentence boundary while `rule_sentences` works."""
_OPENERS = (
    r"(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\s|She\s|It\s|They\s|Their\s|Our\s|We\s|But\s"
    r"|However\s|That\s|This\s|Wherever)"
)
_RULES: tuple[tuple[str, str], ...] = (
    (r"(Mr|St|Mrs|Ms|Dr)[.]", rf"\1{_KEEP}"),  # titles
    (r"[.](com|net|org|io|gov|edu|me)", rf"{_KEEP}\1"),  # web addresses
    (r"([0-9])[.]([0-9])", rf"\1{_KEEP}\2"),  # decimals
)
_LATE_RULES: tuple[tuple[str, str], ...] = (
    (r"\s([A-Za-z])[.] ", rf" \1{_KEEP} "),  # an initial
    (r"([A-Z][.][A-Z][.](?:[A-Z][.])?) " + _OPENERS, rf"\1{_END} \2"),  # U.S. He...
    (r"([A-Za-z])[.]([A-Za-z])[.]([A-Za-z])[.]", rf"\1{_KEEP}\2{_KEEP}\3{_KEEP}"),
    (r"([A-Za-z])[.]([A-Za-z])[.]", rf"\1{_KEEP}\2{_KEEP}"),
    (r" (Inc|Ltd|Jr|Sr|Co)[.] " + _OPENERS, rf" \1{_END} \2"),
    (r" (Inc|Ltd|Jr|Sr|Co)[.]", rf" \1{_KEEP}"),
    (r" ([A-Za-z])[.]", rf" \1{_KEEP}"),
)


def rule_sentences(text: str) -> list[str]:
    """Sentences split by the rules of IFEval's `split_into_sentences`, which IFBench's
    sentence checks use: line breaks are spaces; every `.`, `!` and `?` ends a sentence except
    the dots of titles (Mr.), web addresses, decimals, initials, acronyms and company
    suffixes; a closing quote goes with its sentence; a run of dots ends one sentence. Unlike
    `sentences`, a lower-case word after a full stop still starts a new sentence, and empty
    pieces between marks ("!!") are kept, as there."""
    work = f" {text}  ".replace("\n", " ")
    for pattern, replacement in _RULES:
        work = re.sub(pattern, replacement, work)
    work = re.sub(r"\.{2,}", lambda m: _KEEP * len(m.group()) + _END, work)
    work = work.replace("Ph.D.", f"Ph{_KEEP}D{_KEEP}")
    for pattern, replacement in _LATE_RULES:
        work = re.sub(pattern, replacement, work)
    for closing in ("”", '"'):
        work = work.replace("." + closing, closing + ".")
    work = work.replace('!"', '"!').replace('?"', '"?')
    for mark in ".?!":
        work = work.replace(mark, mark + _END)
    parts = [p.strip() for p in work.replace(_KEEP, ".").split(_END)]
    return parts[:-1] if parts and not parts[-1] else parts


_CLAUSE_JOIN = re.compile(r"(?:;|,\s+(?P<conj>and|but|so|yet))\s+(?=[a-z])")
"""A semicolon, or a comma and a conjunction, between two clauses of one sentence."""
CLAUSE_WORDS = 4
"""The fewest words each side of a join needs to stand as a sentence of its own."""


def split_clauses(text: str, more: int) -> str:
    """`text` with up to `more` sentences split in two where they join two clauses ("The
    river floods; the town moves." -> "The river floods. The town moves."; ", but the" ->
    ". But the"; ", and the" -> ". The"), in the longest sentences first. A join is split only
    where each side has `CLAUSE_WORDS` words and the side before has no other comma, so a list
    ("red, white, and blue") is left alone."""
    found = []
    for a, b in sentence_spans(text):
        for m in _CLAUSE_JOIN.finditer(text, a, b):
            before, after = text[a : m.start()], text[m.end() : b]
            last = max(before.rfind(";"), before.rfind(". "))
            clause = before[last + 1 :]
            if "," in clause or len(clause.split()) < CLAUSE_WORDS:
                continue
            if len(re.split(r"[;,]", after)[0].split()) < CLAUSE_WORDS:
                continue
            found.append((b - a, m))
    longest = [m for _, m in sorted(found, key=lambda f: -f[0])[: max(0, more)]]
    chosen = sorted(longest, key=lambda m: m.start())
    for m in reversed(chosen):  # from the end, so the earlier matches' offsets still hold
        conj = m["conj"]
        opening = f"{conj.capitalize()} " if conj and conj != "and" else ""
        rest = text[m.end() :]
        if not opening:
            rest = rest[:1].upper() + rest[1:]
        text = f"{text[: m.start()]}. {opening}{rest}"
    return text
