"""Checks that count kinds of words and sentences (IFBench's count and ratio families):
numbers, conjunctions, pronouns, names, punctuation marks, stop words, sentence types."""

from __future__ import annotations

import re
from collections import Counter
from functools import cached_property
from itertools import pairwise
from typing import Annotated, Literal

from bm25s.stopwords import STOPWORDS_EN_PLUS
from pydantic import Field

from core.instructions.base import Counted, Spec, Word
from core.instructions.text import (
    bare_words,
    rule_sentences,
    sentence_spans,
    strip_punctuation,
    words,
)
from core.state import Finding
from core.text.plain import replace_spans

CONJUNCTIONS = ("and", "but", "for", "nor", "or", "so", "yet")
PRONOUNS = frozenset(
    {
        *("i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves"),
        *("you", "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself"),
        *("she", "her", "hers", "herself", "it", "its", "itself"),
        *("they", "them", "their", "theirs", "themselves"),
    }
)
"""Personal, possessive and reflexive pronouns: the list of if-verifiable 0.1.2 (IFBench's
later versions add demonstrative, interrogative and indefinite pronouns)."""
STOP_WORDS = frozenset(STOPWORDS_EN_PLUS)
"""The 179 English stop words of nltk's list (as bm25s ships them: nothing is downloaded)."""


SMALL_NUMBERS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)  # fmt: skip
"""The whole numbers up to twenty in words, by value."""
_SMALL_NUMBER = re.compile(r"(?<![\w.,$£€%-])\d{1,2}(?![\w%-]|[.,:]\d)")
"""A whole number of one or two digits standing alone (not part of a decimal, an amount, a
range, a time or a longer number)."""


class NumberCount(Counted):
    """The number of numbers: runs of digits once ASCII punctuation is removed, so "3.5" and
    "1,000" are one number each (IFBench's `count:numbers`)."""

    kind: Literal["number_count"] = "number_count"

    def found(self, text: str) -> list[str]:
        return re.findall(r"\d+", re.sub(r"[!-/:-@\[-`{-~]", "", text))

    def check(self, text: str) -> Finding | None:
        found = self.found(text)
        finding = self.counted(len(found), "numbers")
        if finding is not None:
            finding["data"] = [*finding.get("data", []), *found[:20]]
        return finding

    def describe(self) -> str:
        return f"Include {self.relation()} numbers (written in digits)."

    def _repair(self, text: str) -> str | None:
        """Too many: small whole numbers (up to twenty) written out in words, the last first,
        until the count holds ("3 steps" becomes "three steps"); a year, a decimal or an amount
        is left as it is. A list item's own number is not written out; where the list's
        numbers are the excess, its last items are joined (`merged_items`: no words lost).
        Too few is the model's work."""
        high = self.high()
        excess = len(self.found(text)) - high if high is not None else 0
        if excess <= 0:
            return None
        spots = []
        for m in _SMALL_NUMBER.finditer(text):
            line = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
            if int(m.group()) > 20 or (not line.strip() and text[m.end() : m.end() + 1] in ".)"):
                continue  # a list item's number
            spots.append(m)
        for m in reversed(spots[-excess:]):
            word = SMALL_NUMBERS[int(m.group())]
            opens = not text[: m.start()].strip() or re.search(r"[.!?]\s*$", text[: m.start()])
            text = text[: m.start()] + (word.capitalize() if opens else word) + text[m.end() :]
        return merged_items(text, excess - len(spots)) if len(spots) < excess else text


_NUMBERED_ITEM = re.compile(r"(?m)^(\s*)(\d+)([.)])[ \t]+(\S[^\n]*)$")
"""A numbered list item on its own line: indent, number, mark, the item's text."""


def merged_items(text: str, n: int) -> str | None:
    """`text` with its numbered list `n` items shorter, each of the last two items made one
    ("5. It aids communication." and "6. It regulates transport." become "5. It aids
    communication; it regulates transport."): every item's words kept, one number fewer each
    time. None where the list has fewer than `n` + 2 items, or an item ends in no full stop
    or word."""
    for _ in range(n):
        items = list(_NUMBERED_ITEM.finditer(text))
        if len(items) < 3:
            return None
        last, before = items[-1], items[-2]
        if text[before.end() : last.start()].strip():
            return None  # the last two items are not neighbours
        head, tail = before.group(4).rstrip(), last.group(4).strip()
        if not re.search(r"[\w.]$", head):
            return None
        first = tail.split(" ", 1)[0]
        opener = first.lower() if first.lower() in _JOINABLE_OPENERS else first
        joined = f"{head.removesuffix('.')}; {opener}{tail[len(first) :]}"
        text = text[: before.start(4)] + joined + text[last.end() :]
    return text


class ConjunctionCount(Counted):
    """The number of different coordinating conjunctions used (and, but, for, nor, or, so,
    yet), compared without case (IFBench's `count:conjunctions`)."""

    kind: Literal["conjunction_count"] = "conjunction_count"

    @staticmethod
    def used(text: str) -> set[str]:
        """The different coordinating conjunctions `text` uses, without case."""
        return {strip_punctuation(w).lower() for w in text.split()} & set(CONJUNCTIONS)

    def check(self, text: str) -> Finding | None:
        used = self.used(text)
        missing = [c for c in CONJUNCTIONS if c not in used]
        finding = self.counted(len(used), "different coordinating conjunctions")
        if finding is not None and missing:
            finding["message"] += f"; unused: {', '.join(missing)}"
        return finding

    def describe(self) -> str:
        return (
            f"Use {self.relation()} different coordinating conjunctions "
            "(and, but, for, nor, or, so, yet)."
        )

    def regroup(self, text: str) -> str | None:
        """`text` with the conjunctions it lacks said where it already links two statements
        in other words (`conjoined`: "However, the cost rose" becomes "But the cost rose"),
        no more swaps than conjunctions missing; the rest is a rewording's work. None where
        nothing applies."""
        used = self.used(text)
        short = self.low() - len(used)
        if short <= 0:
            return None
        swapped = conjoined(text, [c for c in CONJUNCTIONS if c not in used], short)
        return swapped if swapped != text else None


CONNECTIVES: dict[str, tuple[str, ...]] = {
    "but": ("However", "Nevertheless", "Nonetheless", "On the other hand", "Still"),
    "yet": ("Nevertheless", "Nonetheless", "However", "Still"),
    "so": ("Therefore", "Thus", "Hence", "Consequently", "As a result", "Accordingly"),
    "and": ("Additionally", "Moreover", "Furthermore", "In addition", "Also"),
    "or": ("Alternatively", "Otherwise"),
}
"""Sentence-opening adverbs, each with the coordinating conjunction that says the same link
("However, ..." is "But ..."), most exact first."""
_OPENING = r"(?:^|(?<=\n)|(?<=[.!?] )|(?<=[.!?][\"')\]] ))(?:[-*+] |\d+[.)] )?"
"""Where a sentence opens: at a line's start (after any list marker) or after an end mark."""


def conjoined(text: str, wanted: list[str], most: int) -> str:
    """`text` with up to `most` of the `wanted` conjunctions said in place of an opening
    adverb that means the same ("Therefore, we wait." becomes "So we wait.") or of ", because"
    (", for"); the next word loses its capital unless it is a name. Each conjunction once."""
    for conjunction in wanted:
        if most <= 0:
            break
        if conjunction == "for":
            swapped = re.sub(r", because (?!of\b)", ", for ", text, count=1)
        else:
            adverbs = "|".join(CONNECTIVES.get(conjunction, ()))
            if not adverbs:
                continue
            pattern = rf"{_OPENING}(?P<adverb>{adverbs}), (?P<next>\w+)"
            swapped = re.sub(pattern, lambda m, c=conjunction: _opened(m, c), text, count=1)
        if swapped != text:
            text, most = swapped, most - 1
    return text


def _opened(m: re.Match[str], conjunction: str) -> str:
    after = m.group("next")
    lower = after == after.capitalize() and after.lower() in _JOINABLE_OPENERS  # not "US"
    kept = after.lower() if lower else after
    marker = m.group()[: m.start("adverb") - m.start()]
    return f"{marker}{conjunction.capitalize()} {kept}"


class PronounCount(Counted):
    """The number of personal, possessive and reflexive pronouns (`PRONOUNS`), in words split
    at whitespace and "/" once punctuation is removed, as if-verifiable 0.1.2 counts them
    (so "it's" is "its", a pronoun too)."""

    kind: Literal["pronoun_count"] = "pronoun_count"

    def check(self, text: str) -> Finding | None:
        n = sum(1 for w in bare_words(text.replace("/", " ")) if w in PRONOUNS)
        return self.counted(n, "pronouns")

    def describe(self) -> str:
        return f"Use {self.relation()} pronouns (I, me, my, you, he, she, it, we, they...)."


class NameCount(Counted):
    """The number of different names from a given list that appear as whole words, with case
    (IFBench's `count:person_names`, whose prompts carry their list)."""

    kind: Literal["name_count"] = "name_count"
    names: Annotated[list[Word], Field(min_length=1, max_length=200)]

    def check(self, text: str) -> Finding | None:
        used = [n for n in dict.fromkeys(self.names) if re.search(rf"\b{re.escape(n)}\b", text)]
        return self.counted(len(used), "different names from the list")

    def describe(self) -> str:
        return f"Mention {self.relation()} different names from: {', '.join(self.names)}."


class AllPunctuation(Spec):
    """Every standard punctuation mark at least once: `. , ! ? ; :` and an interrobang
    (`?!`, `!?` or `‽`); the interrobang's own marks do not count for `?` and `!`
    (IFBench's `count:punctuation`)."""

    kind: Literal["all_punctuation"] = "all_punctuation"

    def missing(self, text: str) -> list[str]:
        """The marks `text` never uses, the interrobang as `?!`."""
        interrobang = "?!" in text or "!?" in text or "‽" in text
        rest = text.replace("?!", "", 1)
        if len(rest) == len(text):
            rest = text.replace("!?", "", 1)
        return [mark for mark in ".,!?;:" if mark not in rest] + ([] if interrobang else ["?!"])

    def check(self, text: str) -> Finding | None:
        missing = self.missing(text)
        if not missing:
            return None
        named = [m for m in missing if m != "?!"]
        message = "; ".join(
            ([f"punctuation marks never used: {' '.join(named)}"] if named else [])
            + (["no interrobang (?! or ‽)"] if "?!" in missing else [])
        )
        return self.finding(message, *missing)

    def describe(self) -> str:
        return "Use every punctuation mark at least once: . , ! ? ; : and an interrobang (?!)."

    def nearness(self, text: str) -> float:
        return 1 - len(self.missing(text)) / 7

    def regroup(self, text: str) -> str | None:
        """`text` with the marks it lacks that need no new words put in, where a sentence is
        there to take them: a semicolon by joining the shortest two neighbouring statements,
        a colon at the end of a line that introduces a list, "!" on the shortest statement,
        and "?!" on the shortest of two or more questions (one "?" stays plain). The rest
        (a question where there is none) is a rewording's work. None where nothing applies."""
        original = text
        missing = self.missing(text)
        if ";" in missing:
            text = join_shortest_statements(text) or text
        if ":" in missing:
            text = colon_before_list(text) or text
        if "!" in missing and len(_statement_spans(text)) >= 2:
            text = exclaimed(text, 1)
        if "?!" in missing:
            asked = [(a, b) for a, b in sentence_spans(text) if text[a:b].endswith("?")]
            if len(asked) >= 2:
                _, b = min(asked, key=lambda s: len(text[s[0] : s[1]]))
                text = f"{text[:b]}!{text[b:]}"
        if len(self.missing(text)) >= len(missing):
            return None
        return text if text != original else None


class StopWordRatio(Spec):
    """Stop words are at most `percent` % of the words (IFBench's `ratio:stop_words`): words
    are `\\w+` runs, stop words nltk's English list. An empty answer fails."""

    kind: Literal["stop_word_ratio"] = "stop_word_ratio"
    percent: Annotated[float, Field(ge=0, le=100)]

    def check(self, text: str) -> Finding | None:
        found = words(text)
        if not found:
            return self.finding("the answer has no words")
        stop = [w for w in found if w.lower() in STOP_WORDS]
        share = 100 * len(stop) / len(found)
        if share <= self.percent:
            return None
        excess = len(stop) - int(self.percent * len(found) / 100)
        common = ", ".join(w for w, _ in Counter(w.lower() for w in stop).most_common(5))
        message = (
            f"stop words are {share:.0f}% of {len(found)} words, at most {self.percent:g}% "
            f"allowed: about {excess} fewer needed (most used: {common})"
        )
        return self.finding(message, f"{share:.1f}")

    def describe(self) -> str:
        return f"Keep stop words (the, a, of, and...) to at most {self.percent:g}% of all words."

    def nearness(self, text: str) -> float:
        found = words(text)
        stop = sum(w.lower() in STOP_WORDS for w in found)
        return min(1.0, self.percent / (100 * stop / len(found))) if stop else 0.0


def sentence_types(text: str) -> Counter[str]:
    """How many sentences end with `.`, `?` and `!`, split as IFBench splits them (a closing
    quote moves before its mark there, so `"Why?"` is a question)."""
    return Counter(s[-1] for s in rule_sentences(text) if s and s[-1] in ".?!")


_JOINABLE_OPENERS = frozenset({
    "the", "a", "an", "it", "its", "this", "that", "these", "those", "they", "their", "he", "his",
    "she", "her", "we", "our", "there", "in", "on", "at", "many", "some", "each", "every", "as",
    "when", "while", "after", "before", "during", "however", "then", "today", "now", "both",
}) | (STOP_WORDS - {"i"})  # fmt: skip
"""First words a statement joined to the one before it takes in lower case (these and every
stop word but "I": "steps; Below is ..." was left in an answer); any other word (a name:
"Ottoman forces ...") keeps its capital."""


_ITEM_NUMBER = re.compile(r"(?:^|\n)\s*(?:#{1,6}\s*)?\d+\.$")
"""A list item's or a header's own number, split off as if it ended a sentence ("2.",
"### Steps\n1.", and "#### 1." of "#### 1. Research", which became "#### 1! Research" on
IFBench dev)."""


def join_shortest_statements(text: str) -> str | None:
    """`text` with the shortest pair of neighbouring plain statements on one line joined into
    one sentence by a semicolon, or None where no pair can be (each must end in one full stop,
    the second open with a capital letter, and the join lose exactly one counted sentence)."""
    spans = sentence_spans(text)
    pairs: list[tuple[int, int, int, int]] = []
    for (a, b), (c, d) in pairwise(spans):
        first, gap, second = text[a:b], text[b:c], text[c:d]
        if "\n" in first or "\n" in gap or "\n" in second or gap.strip():
            continue
        if not (re.search(r"\w\.$", first) and re.search(r"\w\.$", second)):
            continue
        if _ITEM_NUMBER.search(first) or _ITEM_NUMBER.search(second):
            continue
        if not second[:1].isupper():
            continue
        pairs.append((len(first.split()) + len(second.split()), a, b, c))
    before = len(rule_sentences(text))
    for _, _, b, c in sorted(pairs):
        head = text[c:].split(" ", 1)[0]
        opener = head.lower() if head.lower().strip(",") in _JOINABLE_OPENERS else head
        joined = f"{text[: b - 1]}; {opener}{text[c + len(head) :]}"
        if len(rule_sentences(joined)) == before - 1:
            return joined
    return None


_LIST_ITEM = re.compile(r"\s*(?:[-*+•]|\d+[.)])\s")
"""A line's opening list marker."""


def colon_before_list(text: str) -> str | None:
    """`text` with a colon ending the first plain line that introduces a list (the next
    non-blank line is a list item): "Key points" or "The steps are as follows." before "1. ...";
    None where no such line is there. A header, a list item or a line with a colon is left."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        following = next((n for n in lines[i + 1 :] if n.strip()), "")
        bare = line.rstrip()
        if not bare or not _LIST_ITEM.match(following) or _LIST_ITEM.match(line):
            continue
        if bare.lstrip().startswith(("#", "*", "_", ">")) or ":" in bare:
            continue
        if re.search(r"[A-Za-z]\.?$", bare):
            lines[i] = bare.removesuffix(".") + ":"
            return "\n".join(lines)
    return None


def _statement_spans(text: str) -> list[tuple[int, int]]:
    """The plain statements of `text`: sentences ending "word." (a list item's own "2." is
    none)."""
    return [
        (a, b)
        for a, b in sentence_spans(text)
        if re.search(r"\w\.$", text[a:b]) and not _ITEM_NUMBER.search(text[a:b])
    ]


def exclaimed(text: str, n: int) -> str:
    """`text` with its `n` shortest plain statements ending in "!" instead of "."."""
    if n <= 0:
        return text
    spans = _statement_spans(text)
    chosen = sorted(sorted(spans, key=lambda s: len(text[s[0] : s[1]].split()))[:n])
    for _, b in reversed(chosen):
        text = f"{text[: b - 1]}!{text[b:]}"
    return text


class SentenceTypeRatio(Spec):
    """Declarative (`.`) and interrogative (`?`) sentences in the ratio
    `declarative:questions`, 2:1 by default (IFBench's `ratio:sentence_type`, where no
    sentence of either type also passes)."""

    kind: Literal["sentence_type_ratio"] = "sentence_type_ratio"
    declarative: Annotated[int, Field(ge=1, le=100)] = 2
    questions: Annotated[int, Field(ge=1, le=100)] = 1

    def check(self, text: str) -> Finding | None:
        types = sentence_types(text)
        d, q = types["."], types["?"]
        if d * self.questions == q * self.declarative:
            return None
        return self.finding(
            f"{d} statements and {q} questions, the ratio must be "
            f"{self.declarative}:{self.questions}",
            str(d),
            str(q),
        )

    def describe(self) -> str:
        return (
            f"Keep statements (ending in '.') and questions (ending in '?') in the ratio "
            f"{self.declarative}:{self.questions}."
        )

    def nearness(self, text: str) -> float:
        """How near the questions are to their share of the sentences (13 statements and 1
        question is nearer 2:1 than 14 and none; 2 and 2 is past it)."""
        types = sentence_types(text)
        d, q = types["."], types["?"]
        wanted = (d + q) * self.questions / (self.declarative + self.questions)
        return max(0.0, 1 - abs(q - wanted) / wanted) if wanted else 0.0


class SentenceTypeBalance(Spec):
    """As many statements (`.`) as questions (`?`) as exclamations (`!`) (IFBench's
    `ratio:sentence_balance`)."""

    kind: Literal["sentence_type_balance"] = "sentence_type_balance"

    def check(self, text: str) -> Finding | None:
        types = sentence_types(text)
        d, q, e = types["."], types["?"], types["!"]
        if d == q == e:
            return None
        return self.finding(
            f"{d} statements, {q} questions and {e} exclamations: the three must be equal",
            str(d),
            str(q),
            str(e),
        )

    def describe(self) -> str:
        return "Write as many statements (ending in '.') as questions ('?') as exclamations ('!')."

    def nearness(self, text: str) -> float:
        """1 less how far the three counts are from a third each, as a share of the farthest
        they can be (all of one type)."""
        types = sentence_types(text)
        counts = [types["."], types["?"], types["!"]]
        third = sum(counts) / 3
        return 1 - sum(abs(n - third) for n in counts) / (4 * third) if third else 0.0

    def regroup(self, text: str) -> str | None:
        """`text` with one or two pairs of neighbouring statements joined by a semicolon, so
        that the sentences counted can split three ways (five statements cannot be balanced;
        three can), then the shortest surplus statements ending in "!" as the exclamations
        missing; None where neither step applies. Nothing is reworded: "The war began in 1914.
        It ended in 1918." becomes "The war began in 1914; it ended in 1918." (measured on
        IFBench dev: a model asked for an exclamation wrote "Oooh, the war lasted ...!"). The
        questions missing are left to a rewording."""
        original = text
        total = sum(sentence_types(text).values())
        joins = total % 3 if total - total % 3 >= 3 else 0
        for _ in range(joins):
            joined = join_shortest_statements(text)
            if joined is None:
                return None
            text = joined
        types = sentence_types(text)
        total = sum(types.values())
        if total % 3 == 0 and total:
            share = total // 3
            text = exclaimed(text, min(types["."] - share, share - types["!"]))
        return text if text != original else None


class WordRepeatLimit(Spec):
    """No word is used more than `at_most` times, compared lower-cased without punctuation
    (IFBench's `words:repeats`)."""

    kind: Literal["word_repeat_limit"] = "word_repeat_limit"
    at_most: Annotated[int, Field(ge=1, le=10_000)]

    def check(self, text: str) -> Finding | None:
        over = [(w, n) for w, n in Counter(bare_words(text)).most_common() if n > self.at_most]
        if not over:
            return None
        listed = ", ".join(f"{w!r} {n} times" for w, n in over[:8])
        return self.finding(
            f"{len(over)} words are used more than {self.at_most} times: {listed}",
            *(w for w, _ in over[:20]),
        )

    def describe(self) -> str:
        return f"Do not use any word more than {self.at_most} times."

    def nearness(self, text: str) -> float:
        """The share of the over-used words' uses that are within the limit."""
        over = [n for _, n in Counter(bare_words(text)).most_common() if n > self.at_most]
        return self.at_most * len(over) / sum(over) if over else 0.0


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


class TrigramOverlap(Spec):
    """The share of the answer's distinct character trigrams also found in the reference text
    is within `tolerance` points of `percent` (±2). This is what if-verifiable 0.1.2 measures
    for IFBench's `ratio:overlap` (`nltk.ngrams` over the string); IFBench's later versions
    count word trigrams instead."""

    kind: Literal["trigram_overlap"] = "trigram_overlap"
    reference: Annotated[str, Field(min_length=1, max_length=20_000)]
    percent: Annotated[float, Field(ge=0, le=100)]
    tolerance: Annotated[float, Field(ge=0, le=100)] = 2

    @cached_property
    def _reference_grams(self) -> set[str]:
        return _trigrams(self.reference)

    def share(self, text: str) -> float | None:
        mine = _trigrams(text)
        return 100 * len(mine & self._reference_grams) / len(mine) if mine else None

    def check(self, text: str) -> Finding | None:
        share = self.share(text)
        if share is None:
            return self.finding("the answer has fewer than three characters")
        if abs(share - self.percent) <= self.tolerance:
            return None
        way = "copy more of" if share < self.percent else "copy less of"
        return self.finding(
            f"{share:.0f}% of the answer's character trigrams come from the reference, "
            f"{self.percent:g}% (±{self.tolerance:g}) required: {way} the reference wording",
            f"{share:.1f}",
        )

    def nearness(self, text: str) -> float:
        share = self.share(text)
        return 0.0 if share is None else max(0.0, 1 - abs(share - self.percent) / 100)

    def _repair(self, text: str) -> str | None:
        """Whole sentences taken out, one at a time, the one that brings the share nearest
        the target first, until it holds: a sentence copied from the reference where the
        share is too high, one in wording of its own where it is too low. Nothing is
        reworded, and at least half the text's words and its first sentence stay; None where
        that cannot reach the target (an answer copied whole cannot become 59% its own)."""
        budget = len(text.split()) // 2
        while self.check(text) is not None:
            share = self.share(text)
            if share is None:
                return None
            spans = sentence_spans(text)[1:]
            options = []
            for a, b in spans:
                cut = replace_spans(text, {(a, b): ""})
                if len(text.split()) - len(cut.split()) <= budget and (new := self.share(cut)):
                    options.append((abs(new - self.percent), a, b, cut))
            if not options:
                return None
            gap, a, b, cut = min(options)
            if gap >= abs(share - self.percent):
                return None
            budget -= len(text[a:b].split())
            text = cut
        return text

    def describe(self) -> str:
        """The rule without the reference pasted in again (it is in the request): a drafter
        shown the reference inside its rules copied it whole (measured on IFBench dev: three
        first drafts were the request said back, 76% to 100% shared for 24% to 72% asked)."""
        opening = " ".join(self.reference.split()[:8])
        way = "mostly in your own words" if self.percent < 50 else "reusing much of its wording"
        return (
            f"Write {way}: about {self.percent:g}% (±{self.tolerance:g}) of your text's "
            f'three-character sequences should also occur in the reference text ("{opening} '
            '..."), not more, not less.'
        )


class EqualSentences(Spec):
    """Exactly `count` sentences of the same number of characters, with no word used twice
    (IFBench's `ratio:sentence_words`: three sentences; words compared lower-cased without
    punctuation). if-verifiable 0.1.2 does not check the words; this does, as asked."""

    kind: Literal["equal_sentences"] = "equal_sentences"
    count: Annotated[int, Field(ge=1, le=100)] = 3

    def check(self, text: str) -> Finding | None:
        parts = rule_sentences(text)
        if len(parts) != self.count:
            return self.finding(f"{len(parts)} sentences, exactly {self.count} required")
        lengths = [len(p.strip()) for p in parts]
        if len(set(lengths)) > 1:
            listed = ", ".join(str(n) for n in lengths)
            return self.finding(f"the sentences have {listed} characters: they must be equal")
        repeated = [w for w, n in Counter(bare_words(" ".join(parts))).items() if n > 1]
        if repeated:
            return self.finding(f"words used more than once: {', '.join(repeated[:10])}")
        return None

    def describe(self) -> str:
        return (
            f"Write exactly {self.count} sentences, all with the same number of characters, "
            "never using a word twice."
        )
