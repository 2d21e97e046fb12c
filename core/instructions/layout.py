"""Checks on the answer's markdown and structure: bullets, highlights, sections, titles,
placeholders, JSON, a fixed answer, two responses."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field

from core.instructions.base import Counted, Phrase, Spec
from core.instructions.length import regroup
from core.instructions.text import blank_line_paragraphs, sentence_spans
from core.state import Finding

_STAR_BULLET = re.compile(r"^\s*\*[^\*].*$", re.MULTILINE)
_DASH_BULLET = re.compile(r"^\s*-.*$", re.MULTILINE)
_OTHER_MARKER = re.compile(r"^(\s*)(?:\d{1,3}[.)]|[•·+▪‣◦])\s+", re.MULTILINE)
_RULE = re.compile(r"^\s*(?:-\s*){3,}$\n?", re.MULTILINE)


def bullets(text: str) -> list[str]:
    """Markdown bullet lines as IFEval counts them: lines starting with `* ` (any character but
    a second `*`) or with `-` (so a `---` rule or a line "-5 degrees" counts too)."""
    return _STAR_BULLET.findall(text) + _DASH_BULLET.findall(text)


class BulletCount(Counted):
    """The number of markdown bullet points (`* item` or `- item`; see `bullets`). Sub-bullets
    count as bullets, as in IFEval's `number_bullet_lists`."""

    kind: Literal["bullet_count"] = "bullet_count"

    def check(self, text: str) -> Finding | None:
        return self.counted(len(bullets(text)), "bullet points", "(lines starting with * or -)")

    def describe(self) -> str:
        return f"Use {self.relation()} markdown bullet points, each line starting with '* '."

    def _repair(self, text: str) -> str | None:
        fixed = _RULE.sub("", _OTHER_MARKER.sub(r"\1* ", text))
        high = self.high()
        if high is not None and len(bullets(fixed)) > high:
            fixed = _merge_bullets(fixed, high)
        return fixed


def _merge_bullets(text: str, keep: int) -> str:
    """`text` with the bullets after the `keep`-th folded into it, joined by "; "."""
    out: list[str] = []
    seen = 0
    for line in text.split("\n"):
        is_bullet = bool(_STAR_BULLET.match(line) or _DASH_BULLET.match(line))
        if is_bullet:
            seen += 1
        if is_bullet and seen > keep and keep:
            item = re.sub(r"^\s*[-*]\s*", "", line).strip()
            if item:
                last = max(i for i, kept in enumerate(out) if bullets(kept))
                out[last] = out[last].rstrip(" .;") + "; " + item
            continue
        out.append(line)
    return "\n".join(out)


class Placeholders(Counted):
    """The number of square-bracket placeholders such as `[address]` (IFEval's `\\[.*?\\]`)."""

    kind: Literal["placeholders"] = "placeholders"

    def check(self, text: str) -> Finding | None:
        return self.counted(self.count(text), "placeholders like [name]")

    def count(self, text: str) -> int:
        return len(re.findall(r"\[.*?\]", text))

    def describe(self) -> str:
        return f"Include {self.relation()} placeholders in square brackets, such as [address]."


def highlights(text: str) -> list[str]:
    """Highlighted sections as IFEval counts them: `*text*` and `**text**` on one line with
    something inside (a `**bold**` counts once, through its double stars)."""
    single = re.findall(r"\*[^\n\*]*\*", text)
    double = re.findall(r"\*\*[^\n\*]*\*\*", text)
    return [h for h in single + double if h.strip("*").strip()]


class HighlightedSections(Counted):
    """The number of markdown-highlighted sections (`*highlighted*`; see `highlights`)."""

    kind: Literal["highlighted_sections"] = "highlighted_sections"

    def check(self, text: str) -> Finding | None:
        return self.counted(len(highlights(text)), "highlighted sections", "(*like this*)")

    def describe(self) -> str:
        return f"Highlight {self.relation()} sections with markdown, *like this*."

    def _repair(self, text: str) -> str | None:
        need = self.low() - len(highlights(text))
        if need <= 0:
            return None
        spans = [
            (a, b)
            for a, b in sentence_spans(text)
            if "*" not in text[a:b] and "\n" not in text[a:b]
        ]
        line_starts = [s for s in spans if s[0] == 0 or text[s[0] - 1] == "\n"]
        chosen = (line_starts + [s for s in spans if s not in line_starts])[:need]
        if len(chosen) < need:
            return None
        for a, b in sorted(chosen, reverse=True):
            text = f"{text[:a]}*{text[a:b]}*{text[b:]}"
        return text


class Sections(Counted):
    """The number of sections, each opened by the splitter and its number (`SECTION 1`).
    As IFEval's `multiple_sections`, the text is split at `\\s?SPLITTER\\s?\\d+\\s?`
    (case-sensitive) and the sections are the parts after the first."""

    kind: Literal["sections"] = "sections"
    splitter: Annotated[str, Field(min_length=1, max_length=30, pattern=r"^\w[\w ]*$")] = "SECTION"

    def _split(self, text: str) -> list[str]:
        return re.split(r"\s?" + re.escape(self.splitter) + r"\s?\d+\s?", text)

    def check(self, text: str) -> Finding | None:
        n = len(self._split(text)) - 1
        return self.counted(
            n, "sections", f"(opened by '{self.splitter} 1', '{self.splitter} 2'...)"
        )

    def describe(self) -> str:
        return (
            f"Divide the answer into {self.relation()} sections, each starting with a line "
            f"'{self.splitter} X' where X is its number."
        )

    def _repair(self, text: str) -> str | None:
        header = re.compile(r"(?m)^\s*" + re.escape(self.splitter) + r"\s?\d+\s*[:.]?\s*$")
        units = blank_line_paragraphs(header.sub("\n", text))
        target = self.target(len(units))
        groups = _chunk(units, target) if len(units) >= target else regroup(units, target)
        if not groups:
            return None
        return "\n\n".join(f"{self.splitter} {i}\n{g}" for i, g in enumerate(groups, 1))


def _chunk(units: list[str], k: int) -> list[str]:
    """`units` in `k` contiguous groups as even as can be, each joined by blank lines."""
    if k < 1:
        return []
    size, extra = divmod(len(units), k)
    groups, start = [], 0
    for i in range(k):
        end = start + size + (1 if i < extra else 0)
        groups.append("\n\n".join(units[start:end]))
        start = end
    return groups


def _unfence(text: str) -> str:
    text = text.strip()
    for prefix in ("```json", "```Json", "```JSON", "```"):
        text = text.removeprefix(prefix)
    return text.removesuffix("```").strip()


class JsonFormat(Spec):
    """The whole answer is JSON, optionally fenced in ```json ... ``` (IFEval's
    `json_format` strips the fence and calls `json.loads`)."""

    kind: Literal["json_format"] = "json_format"

    def check(self, text: str) -> Finding | None:
        try:
            json.loads(_unfence(text))
        except ValueError as error:
            return self.finding(f"the answer is not valid JSON: {error}")
        return None

    def describe(self) -> str:
        return "Write the whole answer as valid JSON; you may wrap it in a ```json fence."

    def _repair(self, text: str) -> str | None:
        decoder = json.JSONDecoder()
        for match in re.finditer(r"[{\[]", text):
            try:
                value, _ = decoder.raw_decode(text, match.start())
            except ValueError:
                continue
            if isinstance(value, dict | list) and value:
                return json.dumps(value, ensure_ascii=False, indent=2)
        return json.dumps({"answer": text.strip()}, ensure_ascii=False)


class Title(Spec):
    """A title wrapped in double angular brackets, `<<like this>>`, on one line (IFEval's
    `title`: `<<[^\\n]+>>` with something inside)."""

    kind: Literal["title"] = "title"

    def check(self, text: str) -> Finding | None:
        for title in re.findall(r"<<[^\n]+>>", text):
            if title.lstrip("<").rstrip(">").strip():
                return None
        return self.finding("no title wrapped in double angular brackets, like <<Title>>")

    def describe(self) -> str:
        return "Give the answer a title wrapped in double angular brackets, like <<Title>>."

    def _repair(self, text: str) -> str | None:
        body = text.lstrip()
        first, _, rest = body.partition("\n")
        heading = re.match(r"^(?:#+\s*|\*\*|title:\s*)(.+?)(?:\*\*)?\s*$", first, re.IGNORECASE)
        if heading and heading.group(1).strip(" *#<>") and rest.strip():
            return f"<<{heading.group(1).strip(' *#<>')}>>\n{rest}"
        if rest.strip() and len(first.split()) <= 12 and not re.search(r"[.!?:,;]$", first.strip()):
            return f"<<{first.strip(' <>')}>>\n{rest}"
        head = _title_words(body)
        return f"<<{head}>>\n\n{body}" if head else None

    def _repairs(self, text: str) -> Iterator[str]:
        """A title on top; else one after the first sentence, the second, and so on, never
        after the last and only among the first `TITLE_AFTER_AT_MOST` (so after the fourth at
        most), for an answer that must open with something else (the request said back
        word for word, then a title: measured on IFEval-kinds dev, ifeval-k26's title on top
        broke its repeated request, and the run ended without one)."""
        yield from super()._repairs(text)
        for _, end in sentence_spans(text)[:TITLE_AFTER_AT_MOST][:-1]:
            opening, rest = text[:end], text[end:].strip()
            if head := _title_words(rest):
                yield f"{opening}\n\n<<{head}>>\n\n{rest}"


TITLE_AFTER_AT_MOST = 5
"""How many of a text's first sentences are looked at for a title's place, where one on top
breaks another rule (it goes after one of them, never after the last of these)."""


TITLE_WORDS = 8
"""The most words a title made from a text's first clause has."""
_LOOSE_ENDS = frozenset({
    "a", "an", "and", "as", "at", "but", "by", "due", "for", "from", "in", "into", "of", "on",
    "or", "so", "than", "that", "the", "to", "with",
})  # fmt: skip
"""Words a title cut short may not end on ("The Sky Appears Blue Due To")."""


def _title_words(text: str) -> str:
    """A title in title case made of the text's first clause (up to its first mark or line
    break) where that is at most `TITLE_WORDS` words, else of its first six words less any
    small word they end on ("" for a text without words). Measured on IFEval kinds: six words
    cut mid-phrase gave "<<The Sky Appears Blue Due To>>"."""
    spans = sentence_spans(text)
    first = text[spans[0][0] : spans[0][1]] if spans else text
    clause = re.split(r"[,;:.!?\n]", first.strip(), maxsplit=1)[0]
    said = re.findall(r"[\w'’-]+", clause)
    if not 0 < len(said) <= TITLE_WORDS:
        said = re.findall(r"[\w'’-]+", first)[:6]
        while len(said) > 1 and said[-1].lower() in _LOOSE_ENDS:
            said.pop()
    return " ".join(said).title()


IFEVAL_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


class ConstrainedResponse(Spec):
    """The answer contains one of the given options verbatim (IFEval's
    `constrained_response`: "My answer is yes.", "... no.", "... maybe.")."""

    kind: Literal["constrained_response"] = "constrained_response"
    options: Annotated[tuple[Phrase, ...], Field(min_length=1, max_length=10)] = IFEVAL_OPTIONS

    def check(self, text: str) -> Finding | None:
        if any(option in text.strip() for option in self.options):
            return None
        choices = " or ".join(repr(o) for o in self.options)
        return self.finding(f"the answer contains none of the options {choices} verbatim")

    def describe(self) -> str:
        return "Answer with one of: " + ", ".join(repr(o) for o in self.options) + "."

    def _repair(self, text: str) -> str | None:
        for option in self.options:
            loose = re.escape(option.rstrip(".!? ")) + r"[.!?,;:]?"
            match = re.search(loose, text, flags=re.IGNORECASE)
            if match:
                return text[: match.start()] + option + text[match.end() :]
        return None


class TwoResponses(Spec):
    """Two different responses separated by six asterisks `******` (IFEval's `two_responses`:
    an empty first or last part is ignored, an empty middle part fails, and the two must
    differ once stripped)."""

    kind: Literal["two_responses"] = "two_responses"

    def check(self, text: str) -> Finding | None:
        parts = text.split("******")
        kept = []
        for i, part in enumerate(parts):
            if part.strip():
                kept.append(part)
            elif 0 < i < len(parts) - 1:
                return self.finding(f"response {i + 1} is empty: two ****** dividers in a row")
        if len(kept) != 2:
            return self.finding(
                f"{len(kept)} responses divided by ******, exactly 2 required", str(len(kept))
            )
        if kept[0].strip() == kept[1].strip():
            return self.finding("the two responses are the same")
        return None

    def describe(self) -> str:
        return "Give two different responses, separated by a line of six asterisks: ******."

    def _repair(self, text: str) -> str | None:
        """A text of exactly two paragraphs (or, without blank lines, two lines) is two
        responses: the divider goes between them, and a line of asterisks elsewhere goes
        (measured on IFEval-kinds dev: ifeval-k23 opened with '********' above its two)."""
        text = re.sub(r"(?m)^[ \t]*\*{3,}[ \t]*$", "", text)
        for joint in ("\n\n", "\n"):
            parts = [p.strip() for p in text.strip().split(joint) if p.strip()]
            if len(parts) == 2:
                return f"{parts[0]}\n******\n{parts[1]}"
            if len(parts) > 2:
                return None
        return None


Delimiter = Literal[",", "\t", ";", "|"]


def raw_fields(line: str, delimiter: str) -> list[str]:
    """The fields of one CSV line as written, quotes kept (`"Mcdonald's"` stays quoted); a
    delimiter inside double quotes does not split."""
    fields, start, quoted = [], 0, False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            fields.append(line[start:i])
            start = i + 1
    return [*fields, line[start:]]


def _quoted_special(line: str) -> bool:
    """Whether a CSV line has a field in double quotes with a special character inside the
    quotes, read field by field with its quotes kept (as IFBench's checker reads it: a
    pattern over the whole line took `",200,"` between two quoted fields for one)."""
    fields = next(csv.reader([line.replace('"', '"""')]), [])
    return any(re.match(r'"[^"]*[^\w\s"][^"]*"$', f.strip()) for f in fields)


class CsvTable(Spec):
    """CSV data: a header with exactly these columns (quoted or not), exactly `rows` data rows
    of as many fields, optionally every field in double quotes or at least one quoted field
    holding a special character (IFBench's `custom:csv_city`, `csv_quotes` and
    `csv_special_character`, which read the header line by regular expression and the rows
    with Python's `csv`)."""

    kind: Literal["csv_table"] = "csv_table"
    columns: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]],
        Field(min_length=1, max_length=50),
    ]
    rows: Annotated[int, Field(ge=1, le=10_000)]
    delimiter: Delimiter = ","
    all_quoted: bool = False
    quoted_special: bool = False

    def check(self, text: str) -> Finding | None:
        return next(self._misses(text), (0, None))[1]

    def _misses(self, text: str) -> Iterator[tuple[int, Finding]]:
        """The check's steps in order, each (steps met before it, its finding) where it fails:
        the header, the row count, the fields a row, then each quoting rule asked."""
        lines = [line for line in text.strip().split("\n") if line.strip()]
        if not lines:
            yield 0, self.finding("no CSV data")
            return
        header = [f.strip().strip('"') for f in lines[0].split(self.delimiter)]
        if header != self.columns:
            yield (
                0,
                self.finding(
                    f"the header is {header}, it must be {self.columns}",
                    *header[: len(self.columns)],
                ),
            )
        data = lines[1:]
        if len(data) != self.rows:
            yield 1, self.finding(f"{len(data)} data rows, exactly {self.rows} required")
        for i, line in enumerate(data, 2):
            fields = next(csv.reader([line], delimiter=self.delimiter))
            if len(fields) != len(self.columns):
                yield (
                    2,
                    self.finding(
                        f"line {i} has {len(fields)} fields, {len(self.columns)} required", str(i)
                    ),
                )
                break
        raw = [line.split(self.delimiter) for line in lines]
        if self.all_quoted and not all(
            len(f.strip()) > 1 and f.strip()[0] == f.strip()[-1] == '"' for row in raw for f in row
        ):
            yield 3, self.finding("every field must be enclosed in double quotes")
        if self.quoted_special and not any(map(_quoted_special, data)):
            yield (
                3 + self.all_quoted,
                self.finding("no field holds a special character inside double quotes"),
            )

    def nearness(self, text: str) -> float:
        """The share of the check's steps met before the first it fails (header, row count,
        fields a row, then each quoting rule asked), so a table cut to the right header
        outscores the draft it came from (ifbench-276: the cut scored no better, and the
        draft with a sixth column was returned)."""
        met, finding = next(self._misses(text), (0, None))
        return 1.0 if finding is None else met / (3 + self.all_quoted + self.quoted_special)

    def words_needed(self) -> int:
        return (self.rows + 1) * len(self.columns) * 2  # a field is a token or two

    def _repair(self, text: str) -> str | None:
        """The table cut to what was asked, nothing else touched: columns the header has
        beyond the required ones (all of them there, in order) taken out of every line, and
        the data rows past the count, or one cut off mid-row, dropped (measured on IFBench
        dev: a table of five columns came with a sixth, "Special Character", and 13 rows for
        12, the last cut at the token cap). None where a column or a row is missing."""
        lines = [line for line in text.strip().split("\n") if line.strip()]
        if not lines:
            return None
        table = [raw_fields(line, self.delimiter) for line in lines]
        names = [f.strip().strip('"') for f in table[0]]
        keep, at = [], 0
        for name in self.columns:
            if name not in names[at:]:
                return None
            at = names.index(name, at) + 1
            keep.append(at - 1)
        width = len(names)
        if keep == list(range(len(keep))) and not any(len(r) == width for r in table[1:]):
            width = len(keep)  # the header alone has the extra columns, at its end
        rows = [row for row in table[1:] if len(row) == width][: self.rows]
        if len(rows) < self.rows:
            return None
        return "\n".join(self.delimiter.join(row[i] for i in keep) for row in [table[0], *rows])

    def regroup(self, text: str) -> str | None:
        """The table cut to what was asked (`_repair`) even where that alone does not pass:
        a field still to be quoted or given a special character is the model's work, and
        the cut is kept if nothing else fails after it (a repair that must pass was thrown
        away for ifbench-276, leaving its header a sixth column)."""
        cut = self._repair(text)
        return cut if cut is not None and cut != text.strip() else None

    def describe(self) -> str:
        name = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}[self.delimiter]
        extra = " Enclose every field in double quotes." if self.all_quoted else ""
        if self.quoted_special:
            extra += " Make one field hold a special character, enclosed in double quotes."
        return (
            f"Answer with {name}-delimited CSV only: the header {', '.join(self.columns)}, "
            f"then exactly {self.rows} rows.{extra}"
        )
