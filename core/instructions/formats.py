"""Checks on line and character formats (IFBench's format family): emoji, indentation, one
word a line, a fixed set of options, quotes and brackets, bullet styles, italics, title case,
templates, whitespace."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import Field

from core.instructions.base import Phrase, Spec
from core.instructions.text import rule_sentences, sentence_spans, words
from core.state import Finding

_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U00002b00-\U00002bff\U0001f1e6-\U0001f1ff"
    "\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff\u25a0-\u25ff\u3030\u303d\u3297\u3299\u00a9\u00ae"
    "\u203c\u2049\u2122\u2139]"
)


def is_emoji(char: str) -> bool:
    """Whether `char` is an emoji, by Unicode block (IFBench asks the `emoji` package, whose
    list is exact; this may accept a few symbols it does not, such as arrows)."""
    return bool(_EMOJI.fullmatch(char))


def _unpunctuated(text: str) -> str:
    return text.translate(str.maketrans("", "", string.punctuation)).replace("\ufe0f", "").strip()


class EmojiPerSentence(Spec):
    """Every sentence ends with an emoji: the last (or second-to-last) character once
    punctuation is removed, or the first of the next sentence, since an emoji after the full
    stop opens the next split (IFBench's `format:emoji`)."""

    kind: Literal["emoji_per_sentence"] = "emoji_per_sentence"

    def check(self, text: str) -> Finding | None:
        parts = rule_sentences(text)
        if not parts:
            return self.finding("the answer has no sentences")
        for i, sentence in enumerate(parts):
            bare = _unpunctuated(sentence)
            if bare and any(is_emoji(c) for c in bare[-2:]):
                continue
            following = _unpunctuated(parts[i + 1]) if i + 1 < len(parts) else ""
            if bare and following and is_emoji(following[0]):
                continue
            return self.finding(
                f"sentence {i + 1} does not end with an emoji: {sentence}", sentence
            )
        return None

    def describe(self) -> str:
        return "End every sentence with an emoji."

    def _repair(self, text: str) -> str | None:
        """Puts one emoji (✨, the same everywhere: a model may choose better) before the
        closing mark of each sentence that does not already end with one, and after a last
        sentence that has none (a text repaired, then continued, then repaired again got a
        second emoji on every old sentence: "programming ✨ ✨.")."""

        def mark(end: re.Match[str]) -> str:
            before = text[: end.start()].rstrip()
            return end.group(1) if before and is_emoji(before[-1]) else f" ✨{end.group(1)}"

        text = text.rstrip()
        fixed = re.sub(r"(?<![.!?])([.!?]+[\"'”’)\]]*)(?=\s|$)", mark, text)
        if not re.search(r"[.!?][\"'”’)\]]*$", fixed) and not is_emoji(fixed[-1:] or "a"):
            fixed += " ✨"
        return fixed


def _drop_blank_lines_as_ifbench(lines: list[str]) -> list[str]:
    """`lines` less blank ones the way IFBench removes them, while iterating over the list
    it shrinks: a blank line right after a removed one stays."""
    kept, skip = [], False
    for line in lines:
        if not line.strip() and not skip:
            skip = True
            continue
        skip = False
        kept.append(line)
    return kept


class IndentStairs(Spec):
    """Each line is indented by more spaces than the line before (IFBench's
    `format:line_indent`; blank lines are dropped as it drops them, which leaves one of two
    blank lines in a row, so a double blank line breaks the stairs)."""

    kind: Literal["indent_stairs"] = "indent_stairs"

    def check(self, text: str) -> Finding | None:
        lines = _drop_blank_lines_as_ifbench(text.split("\n"))
        depth = [len(line) - len(line.lstrip(" ")) for line in lines]
        for i in range(1, len(lines)):
            if depth[i] <= depth[i - 1]:
                return self.finding(
                    f"line {i + 1} is indented {depth[i]} spaces, more than {depth[i - 1]} needed",
                    str(i + 1),
                )
        return None

    def describe(self) -> str:
        return "Indent each new line by more spaces than the line before, like stairs."

    def _repair(self, text: str) -> str | None:
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        return "\n".join(" " * i + line for i, line in enumerate(lines))


class OneWordPerLine(Spec):
    """Every word on its own line: with punctuation removed, the non-empty lines are as many
    as the words (IFBench's `format:newline`)."""

    kind: Literal["one_word_per_line"] = "one_word_per_line"

    def check(self, text: str) -> Finding | None:
        bare = text.translate(str.maketrans("", "", string.punctuation)).strip()
        lines = [line for line in bare.split("\n") if line != ""]
        crowded = [line.strip() for line in lines if len(line.split()) > 1]
        if len(lines) == len(bare.split()):
            return None
        sample = "; ".join(crowded[:3]) or "empty lines between words"
        return self.finding(f"{len(crowded)} lines hold more than one word: {sample}")

    def describe(self) -> str:
        return "Write each word on its own line."

    def _repair(self, text: str) -> str | None:
        return "\n".join(w for w in text.split() if _unpunctuated(w)) or None


class OptionsOnly(Spec):
    """The whole answer is one of the options and nothing else. Letter options such as `a)`
    must match exactly; others match without case or surrounding punctuation (IFBench's
    `format:options`)."""

    kind: Literal["options_only"] = "options_only"
    options: Annotated[list[Phrase], Field(min_length=2, max_length=20)]

    def _strict(self) -> bool:
        return re.match(r"\W*[aA]\W*[bB]\W*[cC]\W*", " ".join(self.options)) is not None

    def check(self, text: str) -> Finding | None:
        if self._strict():
            if text in self.options:
                return None
        else:
            bare = text.strip(string.punctuation + " ").lower()
            if any(o.strip(string.punctuation + " ").lower() == bare for o in self.options):
                return None
        return self.finding(
            f"the answer must be exactly one of {', '.join(repr(o) for o in self.options)}, "
            "with no explanation"
        )

    def describe(self) -> str:
        return (
            f"Answer with exactly one of: {', '.join(repr(o) for o in self.options)}. "
            "Give no explanation."
        )

    def _repair(self, text: str) -> str | None:
        """The one option the answer names, written as the option is: named in full anywhere,
        or else by its bare letter or word opening the answer ("b" or "B. Inadmissible ..."
        for `b)`, which a strict letter option must match exactly)."""
        found = [
            o
            for o in self.options
            if re.search(rf"(?<!\w){re.escape(o.strip())}(?!\w)", text, flags=re.IGNORECASE)
        ]
        if not found:
            bare = {o: o.strip(string.punctuation + " ") for o in self.options}
            found = [
                o
                for o, b in bare.items()
                if b and re.match(rf"\W*{re.escape(b)}(?!\w)", text, flags=re.IGNORECASE)
            ]
        return found[0] if len(found) == 1 else None


class QuotesExplained(Spec):
    """Every quoted phrase is followed by unquoted text: no two quoted phrases touch and the
    answer does not end with a quote (IFBench's `format:quote_unquote`)."""

    kind: Literal["quotes_explained"] = "quotes_explained"

    def check(self, text: str) -> Finding | None:
        value = text.replace("“", '"').replace("”", '"').replace("'\"'", "")
        value = "".join(value.split())
        if '""' in value:
            return self.finding("two quoted phrases follow each other with no explanation between")
        tail = value.strip(string.digits + string.punctuation.replace('"', ""))
        if not tail:
            return self.finding("the answer has no text besides digits and punctuation")
        if tail.endswith('"'):
            return self.finding("the answer ends with a quoted phrase: explain it after the quote")
        return None

    def describe(self) -> str:
        return "Follow every quoted phrase with an explanation outside the quotes."


APOSTROPHE = re.compile(r"(?<=[A-Za-z])'(?=[A-Za-z])")
"""An apostrophe inside a word ("don't", "Europe's"), not a quotation mark."""


class NestedQuotes(Spec):
    """Quotes within quotes within quotes, `depth` levels, alternating `"` and `'` (IFBench's
    `format:quotes`, which reads an apostrophe as a quote too)."""

    kind: Literal["nested_quotes"] = "nested_quotes"
    depth: Annotated[int, Field(ge=2, le=10)] = 3

    def check(self, text: str) -> Finding | None:
        open_marks: list[str] = []
        reached = 0
        for char in text:
            if open_marks and char == open_marks[-1]:
                open_marks.pop()
                if reached - len(open_marks) >= self.depth:
                    return None
            elif char in "\"'":
                open_marks.append(char)
                reached = max(reached, len(open_marks))
        return self.finding(
            f'no quotation nested {self.depth} levels deep ("... \'... "..." ...\' ...")'
        )

    def describe(self) -> str:
        return (
            f"Nest quotations {self.depth} levels deep, alternating double and single quotes: "
            '"she said \'he said "yes"\'".'
        )

    def _repair(self, text: str) -> str | None:
        """Apostrophes inside words written as typographic ones ("don’t"), which the checker
        (IFBench's, which reads every ASCII `'` as a quote) would take for a quotation mark;
        then, where the text still nests no quotation, one sentence's own phrases quoted
        within each other as the brackets are nested (`nestings`): "This belief has led to
        "the loss 'of many "of the country’s unique heritage"'"." Every word is kept: a small
        model shown a nested quotation to make copies the example (measured: six asks, six
        copies or quotations of the sentence it was given)."""
        plain = APOSTROPHE.sub("\u2019", text)
        if self.check(plain) is None:
            return plain
        quoted = nestings(plain, self.depth, "\"\"''", "\"'\u201c\u201d\u2018\\`")
        return next((t for t in quoted if self.check(t) is None), None)


PHRASE_STARTS = (
    frozenset({"which", "that", "who", "whose", "where", "when", "while", "because", "although",
               "though", "if", "since", "unless"}),
    frozenset({"of", "in", "on", "at", "for", "with", "without", "within", "to", "from", "by",
               "about", "like", "than", "through", "into", "over", "under", "after", "before",
               "during", "across", "beyond", "among", "as"}),
    frozenset({"and", "but", "or", "so", "yet"}),
)  # fmt: skip
"""Words that open a phrase a bracket or a quotation can start before, the surest first: a
clause ("which", "that"), a prepositional phrase, then a conjunction after a comma (without
one it may join two nouns: "stars and bars")."""
_WORD = re.compile(r"\S+")


def _phrase_starts(sentence: str, depth: int) -> list[int]:
    """Character offsets in `sentence` where `depth` nested asides can open: before phrase
    words (`PHRASE_STARTS`, the surest kind first) past its first two words, each aside at
    least two words long, and where there are too few of those, in the middle of the longest
    stretches between them; [] where the sentence is too short."""
    found = list(_WORD.finditer(sentence))
    if len(found) < 2 * depth + 2:
        return []
    bare = [m.group().lower().strip(string.punctuation) for m in found]
    cuts: list[int] = []
    for kind in PHRASE_STARTS:
        for i in range(2, len(found) - 1):
            joins = kind is not PHRASE_STARTS[-1] or found[i - 1].group().endswith(",")
            if (
                len(cuts) < depth
                and bare[i] in kind
                and joins
                and all(abs(i - c) >= 2 for c in cuts)
            ):
                cuts.append(i)
    cuts.sort()
    while len(cuts) < depth:
        bounds = [0, *cuts, len(found)]
        size, left = max((b - a, a) for a, b in pairwise(bounds))
        if size < 4:
            return []
        cuts = sorted([*cuts, left + size // 2])
    return [found[i].start() for i in cuts]


def _nested(sentence: str, cuts: list[int], marks: str) -> str:
    """`sentence` with a mark opened at each offset of `cuts`, cycling through `marks` (pairs
    of opening and closing: "()[]{}"), a comma just before a bracket dropped, and every one
    closed before the end mark."""
    body = sentence.rstrip()
    tail = len(body) - len(body.rstrip(".!?\"'”’*_ "))
    end, mark = body[: len(body) - tail], body[len(body) - tail :] + sentence[len(body) :]
    pairs = [marks[i : i + 2] for i in range(0, len(marks), 2)]
    parts, at = [], 0
    for depth, cut in enumerate(cuts):
        head, opener = end[at:cut].rstrip(), pairs[depth % len(pairs)][0]
        if head.endswith(",") and opener in "([{":  # "sea, (which" reads as "sea (which"
            head = head[:-1]
        parts.append(f"{head} {opener}")
        at = cut
    parts.append(end[at:])
    closes = "".join(pairs[d % len(pairs)][1] for d in reversed(range(len(cuts))))
    return "".join(parts) + closes + mark


def nestings(text: str, depth: int, marks: str, taken: str) -> Iterator[str]:
    """`text` with one sentence's own phrases nested `depth` deep in `marks` (`_nested`), one
    version for each sentence on one line that has room and none of the characters of `taken`,
    those with the most phrase words first."""
    found = []
    for a, b in sentence_spans(text):
        sentence = text[a:b]
        if any(c in taken or c == "\n" for c in sentence.strip()):
            continue
        cuts = _phrase_starts(sentence, depth)
        if cuts:
            found.append((a, b, cuts, _phrase_words(sentence)))
    for a, b, cuts, _ in sorted(found, key=lambda f: -f[3]):
        yield text[:a] + _nested(text[a:b], cuts, marks) + text[b:]


def _phrase_words(sentence: str) -> int:
    bare = [w.lower().strip(string.punctuation) for w in sentence.split()]
    return sum(w in kind for kind in PHRASE_STARTS for w in bare)


class NestedBrackets(Spec):
    """Brackets `(`, `[`, `{` nested `depth` levels deep and closed in order (IFBench's
    `format:parentheses`: five levels)."""

    kind: Literal["nested_brackets"] = "nested_brackets"
    depth: Annotated[int, Field(ge=2, le=20)] = 5

    def check(self, text: str) -> Finding | None:
        pairs = {")": "(", "]": "[", "}": "{"}
        stack: list[str] = []
        deepest = 0
        for char in text:
            if char in "([{":
                stack.append(char)
                deepest = max(deepest, len(stack))
            elif char in pairs:
                if stack and stack[-1] == pairs[char]:
                    stack.pop()
                    if deepest >= self.depth:
                        return None
                else:
                    stack, deepest = [], 0
        return self.finding(f"no brackets nested {self.depth} levels deep and closed")

    def describe(self) -> str:
        return f"Nest brackets (and [brackets {{and braces}}]) at least {self.depth} levels deep."

    def _repair(self, text: str) -> str | None:
        """One sentence's own phrases nested as asides, each opening before a word that starts
        a phrase ("which", "of", "with", "and" ...) and all closing before its end mark: "The
        sea is a mirror (of the sky [with its clouds {and its light (that shifts [all
        day])}])." Every word is kept; the sentence with the most such words is taken, or,
        where none has enough, the longest stretches split in the middle. A sentence with a
        formula (a backslash) is left alone; one with inline `code` may take them, around it."""
        return next(
            (t for t in nestings(text, self.depth, "()[]{}", "()[]{}\\") if self.check(t) is None),
            None,
        )


def _sentence_chunks(text: str, low: int, high: int) -> list[list[str]]:
    """The text's sentences (list markers and asterisks removed, one line each) in runs of
    `low` to `high`, a short last run joined to the one before."""
    plain = re.sub(r"(?m)^\s*(?:[-*•+]|\d{1,3}[.)])\s+", "", text).replace("*", "")
    sentences = [" ".join(plain[a:b].split()) for a, b in sentence_spans(plain)]
    if len(sentences) < low:
        return []
    chunks = [sentences[i : i + high] for i in range(0, len(sentences), high)]
    if len(chunks) > 1 and len(chunks[-1]) < low:
        last = chunks.pop()
        chunks[-1] += last
    return chunks


class SubBullets(Spec):
    """Bullet points marked `*`, each followed by at least one `-` sub-bullet before the next
    `*` (IFBench's `format:sub-bullets` splits the text at every `*` and wants a `-` in each
    part; it also passes an answer with no `*`, which this fails)."""

    kind: Literal["sub_bullets"] = "sub_bullets"

    def check(self, text: str) -> Finding | None:
        parts = text.split("*")
        if len(parts) < 2:
            return self.finding("no bullet points marked with *")
        for i, part in enumerate(parts[1:], 1):
            if "-" not in part:
                item = part.strip().split("\n")[0]
                return self.finding(f"bullet {i} has no '-' sub-bullet: {item}", item)
        return None

    def describe(self) -> str:
        return "Use bullet points marked '* ', each with at least one sub-bullet marked '- '."

    def _repair(self, text: str) -> str | None:
        """The text's sentences as bullets of two or three: the first the bullet, the rest its
        sub-bullets (list markers and stray asterisks removed first)."""
        chunks = _sentence_chunks(text, 2, 3)
        if not chunks:
            return None
        return "\n".join(
            "\n".join([f"* {chunk[0]}", *(f"  - {s}" for s in chunk[1:])]) for chunk in chunks
        )


class SentencesThenBullets(Spec):
    """At least two sentences, then at least two `*` bullet points and nothing after them
    (IFBench's `format:no_bullets_bullets`, whose reading this follows: a blank line among the
    sentences ends them, so only the bullets may follow a blank line)."""

    kind: Literal["sentences_then_bullets"] = "sentences_then_bullets"

    def check(self, text: str) -> Finding | None:
        n_sentences = n_bullets = 0
        prose = True
        for i, line in enumerate(text.split("\n"), 1):
            if line.strip().startswith("*"):
                if n_sentences < 2:
                    return self.finding(f"{n_sentences} sentences before the bullets, 2 needed")
                n_bullets, prose = n_bullets + 1, False
            elif prose:
                found = rule_sentences(line.strip())
                n_sentences, prose = n_sentences + len(found), bool(found)
            elif n_bullets:
                return self.finding(f"line {i} follows the bullets: nothing may come after them")
            else:
                return self.finding(f"line {i}: a blank line may only come just before the bullets")
        if n_bullets < 2:
            return self.finding(f"{n_bullets} bullet points marked *, at least 2 needed")
        return None

    def describe(self) -> str:
        return (
            "Write at least two sentences ending in a period, then at least two bullet points "
            "marked '* ', and nothing after them."
        )

    def _repair(self, text: str) -> str | None:
        """The first two sentences as a paragraph, each later one a `*` bullet."""
        sentences = [s for chunk in _sentence_chunks(text, 1, 1) for s in chunk]
        if len(sentences) < 4:
            return None
        return " ".join(sentences[:2]) + "\n" + "\n".join(f"* {s}" for s in sentences[2:])


class CustomBullets(Spec):
    """A list whose items are marked with `marker` instead of bullets: the marker appears at
    least twice (IFBench's `format:list`)."""

    kind: Literal["custom_bullets"] = "custom_bullets"
    marker: Annotated[str, Field(min_length=1, max_length=20)]

    def check(self, text: str) -> Finding | None:
        n = text.count(self.marker)
        if n >= 2:
            return None
        return self.finding(f"{n} list items marked {self.marker!r}, at least 2 needed")

    def describe(self) -> str:
        return f"Answer with a list whose items start with {self.marker!r} instead of bullets."

    def _repair(self, text: str) -> str | None:
        return re.sub(r"(?m)^(\s*)(?:[-*•+]|\d{1,3}[.)])\s+", rf"\g<1>{self.marker} ", text)


class ItalicThesis(Spec):
    """A thesis statement in HTML italics (`<i>...</i>` or `<em>...</em>`) followed by plain
    text (IFBench's `format:thesis`)."""

    kind: Literal["italic_thesis"] = "italic_thesis"

    def check(self, text: str) -> Finding | None:
        match = re.search(r"<(i|em)>(.*?)</\1>(.*)", text, flags=re.DOTALL)
        if match is None:
            return self.finding("no thesis statement in HTML italics, <i>like this</i>")
        if not match.group(2).strip():
            return self.finding("the italic thesis statement is empty")
        if not match.group(3).strip():
            return self.finding("nothing follows the italic thesis statement")
        return None

    def describe(self) -> str:
        return "Begin each section with a thesis statement in HTML italics: <i>thesis</i>."

    def _repair(self, text: str) -> str | None:
        spans = sentence_spans(text)
        if len(spans) < 2:
            return None
        a, b = spans[0]
        return f"{text[:a]}<i>{text[a:b]}</i>{text[b:]}"


class TitleCase(Spec):
    """Every word starts with a capital letter: as in if-verifiable 0.1.2's
    `format:title_case`, a word fails when it starts in lower case and the rest is all lower
    or all upper case ("iPhone" and a one-letter "a" pass). Words here are `\\w+` runs
    ("don't" is "don" + "t"); nltk's tokens there ("do" + "n't") make "Don't" fail."""

    kind: Literal["title_case"] = "title_case"

    def lower_words(self, text: str) -> list[str]:
        bad = []
        for word in words(text):
            if word[0].islower() and (word[1:].islower() or word[1:].isupper()):
                bad.append(word)
        return bad

    def check(self, text: str) -> Finding | None:
        bad = self.lower_words(text)
        if not bad:
            return None
        return self.finding(
            f"{len(bad)} words start in lower case: {', '.join(bad[:10])}", *bad[:20]
        )

    def describe(self) -> str:
        return "Write the entire answer in Title Case: Every Word Starts With A Capital."

    def _repair(self, text: str) -> str | None:
        return re.sub(r"\w+", lambda m: m.group()[0].upper() + m.group()[1:], text)


class TemplateLabels(Spec):
    """Every label of a template appears, with case (IFBench's `format:output_template`:
    "My Answer:", "My Conclusion:", "Future Outlook:")."""

    kind: Literal["template_labels"] = "template_labels"
    labels: Annotated[list[Phrase], Field(min_length=1, max_length=20)]

    def check(self, text: str) -> Finding | None:
        missing = [label for label in self.labels if label not in text]
        if not missing:
            return None
        return self.finding(f"template labels missing: {', '.join(missing)}", *missing)

    def describe(self) -> str:
        return f"Use this template, with its labels verbatim: {' ... '.join(self.labels)} ..."

    def _repair(self, text: str) -> str | None:
        """A text with none of the labels, its paragraphs (else its sentences) shared out in
        order under the labels, each label opening its part."""
        if any(label in text for label in self.labels):
            return None
        parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        if len(parts) < len(self.labels):
            parts = [text[a:b] for a, b in sentence_spans(text)]
        if len(parts) < len(self.labels):
            return None
        share, extra = divmod(len(parts), len(self.labels))
        out, at = [], 0
        for i, label in enumerate(self.labels):
            size = share + (1 if i < extra else 0)
            out.append(f"{label} {' '.join(parts[at : at + size])}")
            at += size
        return "\n\n".join(out)


class NoWhitespace(Spec):
    """No whitespace character at all (IFBench's `format:no_whitespace`)."""

    kind: Literal["no_whitespace"] = "no_whitespace"

    def check(self, text: str) -> Finding | None:
        n = sum(1 for c in text if c.isspace())
        return self.finding(f"{n} whitespace characters, none allowed") if n else None

    def describe(self) -> str:
        return "Write the answer without any spaces or line breaks."

    def _repair(self, text: str) -> str | None:
        return "".join(text.split())
