"""Checks on how the answer opens and closes: start and end phrases, the repeated prompt,
quotation marks around it, and a postscript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field

from core.instructions.base import Phrase, Spec
from core.instructions.text import blank_line_paragraphs, sentence_spans
from core.state import Finding
from core.text.verbs import starts_with_verb


class EndPhrase(Spec):
    """The answer ends with the phrase, nothing after it (IFEval's `end_checker`: compared
    without case, after stripping whitespace and then double quotes from the answer)."""

    kind: Literal["end_phrase"] = "end_phrase"
    phrase: Phrase

    def check(self, text: str) -> Finding | None:
        if text.strip().strip('"').lower().endswith(self.phrase.strip().lower()):
            return None
        tail = " ".join(text.split()[-8:])
        return self.finding(f"does not end with {self.phrase!r}; it ends: ...{tail}", tail)

    def describe(self) -> str:
        return f"End the answer with the exact phrase {self.phrase!r}, with nothing after it."

    def _repairs(self, text: str) -> Iterator[str]:
        """The marks after the phrase taken off where the text already ends with it ("GO GET
        THEM!" for "GO GET THEM": measured on IFEval-kinds dev, ifeval-k04 got the phrase
        again below it), else the phrase as a line of its own."""
        bare, phrase = text.rstrip(), self.phrase.strip().lower()
        marks = len(bare) - len(bare.rstrip(_TRAILING_MARKS))
        for cut in range(1, marks + 1):
            if bare[:-cut].lower().endswith(phrase):
                yield bare[:-cut]
                break
        yield f"{bare}\n\n{self.phrase.strip()}"


_TRAILING_MARKS = ".!?,;:*_\"'\u201d\u2019 \n"
"""Marks a text may end with after its last word."""


class StartPhrase(Spec):
    """The answer starts with the phrase, compared without case after stripping whitespace and
    an opening double quote."""

    kind: Literal["start_phrase"] = "start_phrase"
    phrase: Phrase

    def check(self, text: str) -> Finding | None:
        if text.strip().lstrip('"').lower().startswith(self.phrase.strip().lower()):
            return None
        head = " ".join(text.split()[:8])
        return self.finding(f"does not start with {self.phrase!r}; it starts: {head}...", head)

    def describe(self) -> str:
        return f"Start the answer with the exact phrase {self.phrase!r}."

    def _repair(self, text: str) -> str | None:
        return f"{self.phrase.strip()} {text.lstrip()}"


class StartsWithVerb(Spec):
    """The answer's first token is an English verb form ("Consider ...", "Imagine ..."), by
    the lexicon of `core.text.verbs` (IFBench's `words:start_verb` asks a part-of-speech tagger
    instead: that module says where the two differ). A mark is a token: an answer opening with
    "**" or "#" does not start with a verb."""

    kind: Literal["starts_with_verb"] = "starts_with_verb"

    def check(self, text: str) -> Finding | None:
        if starts_with_verb(re.findall(r"\w+(?:'\w+)?|[^\w\s]+", text)[:2]):
            return None
        head = " ".join(text.split()[:8])
        return self.finding(f"the answer does not start with a verb; it starts: {head}...", head)

    def describe(self) -> str:
        return "Start the response with a verb, such as Consider, Imagine or Explore."


class RepeatPrompt(Spec):
    """The answer starts by repeating the given request word for word, compared without case
    (IFEval's `repeat_prompt`)."""

    kind: Literal["repeat_prompt"] = "repeat_prompt"
    prompt: Annotated[str, Field(min_length=1, max_length=5000)]

    def check(self, text: str) -> Finding | None:
        if text.strip().lower().startswith(self.prompt.strip().lower()):
            return None
        return self.finding("does not start by repeating the request word for word")

    def describe(self) -> str:
        return f"First repeat the request word for word, without change: {self.prompt.strip()!r}"

    def _repair(self, text: str) -> str | None:
        return f"{self.prompt.strip()}\n\n{text.lstrip()}"


class Quotation(Spec):
    """The whole answer is wrapped in double quotation marks (IFEval's `quotation`: the
    stripped answer's first and last characters are `"`)."""

    kind: Literal["quotation"] = "quotation"

    def check(self, text: str) -> Finding | None:
        body = text.strip()
        if len(body) > 1 and body[0] == '"' and body[-1] == '"':
            return None
        missing = [
            side
            for side, ok in (("opening", body[:1] == '"'), ("closing", body[-1:] == '"'))
            if not ok
        ]
        return self.finding(f"the answer lacks the {' and '.join(missing)} double quotation mark")

    def describe(self) -> str:
        return 'Wrap the entire answer in double quotation marks, "like this".'

    def _repair(self, text: str) -> str | None:
        body = text.strip()
        if len(body) > 1 and body[0] == '"' and body[-1] != '"':
            return body + '"'
        if len(body) > 1 and body[-1] == '"' and body[0] != '"':
            return '"' + body
        return f'"{body}"'


_MARKER_VARIANT = re.compile(r"(?im)^\s*(?:p\.?\s?s\.?|post\s?script)\s*[:.-]?\s+")


class Postscript(Spec):
    """A postscript opened by the marker, `P.S.` by default. As IFEval's `postscript`, the
    lower-cased answer is searched line by line for `p.s.` (`p\\.\\s?s\\.`), for `p.p.s`
    (`p\\.\\s?p\\.\\s?s`) or for any other marker as given; the match need not start a line."""

    kind: Literal["postscript"] = "postscript"
    marker: Annotated[str, Field(min_length=1, max_length=20)] = "P.S."

    def _pattern(self) -> str:
        if self.marker == "P.P.S":
            return r"\s*p\.\s?p\.\s?s.*$"
        if self.marker == "P.S.":
            return r"\s*p\.\s?s\..*$"
        return r"\s*" + re.escape(self.marker.lower()) + r".*$"

    def check(self, text: str) -> Finding | None:
        if re.findall(self._pattern(), text.lower(), flags=re.MULTILINE):
            return None
        return self.finding(f"no postscript starting with {self.marker!r} at the end")

    def describe(self) -> str:
        return f"End with a postscript starting with {self.marker!r}."

    def _repair(self, text: str) -> str | None:
        label = self.marker if self.marker.endswith(".") else self.marker + "."
        if _MARKER_VARIANT.search(text):
            return _MARKER_VARIANT.sub(f"\n{label} ", text, count=1).lstrip("\n")
        paragraphs = blank_line_paragraphs(text)
        if len(paragraphs) > 1:
            return "\n\n".join([*paragraphs[:-1], f"{label} {paragraphs[-1]}"])
        spans = sentence_spans(text)
        if len(spans) > 1:
            cut = spans[-1][0]
            return f"{text[:cut].rstrip()}\n\n{label} {text[cut:].strip()}"
        return None


class ExactText(Spec):
    """The whole answer is the given text and nothing else, compared word by word without case
    (IFBench's `repeat:repeat_simple` and `repeat:repeat_span` once the sentence or span to
    copy is known; if-verifiable 0.1.2 cuts a span `[n_start:n_end]` of the prompt's
    whitespace-split words, the end excluded)."""

    kind: Literal["exact_text"] = "exact_text"
    text: Annotated[str, Field(min_length=1, max_length=5000)]

    def check(self, text: str) -> Finding | None:
        if text.lower().split() == self.text.lower().split():
            return None
        return self.finding(f"the answer must be exactly {self.text.strip()!r} and nothing else")

    def describe(self) -> str:
        return f"Output exactly this text and nothing else: {self.text.strip()!r}"

    def _repair(self, text: str) -> str | None:
        return self.text.strip()


FIRST_WORDS = {
    "write": "compose", "compose": "write", "create": "make", "make": "create",
    "explain": "describe", "describe": "explain", "give": "provide", "provide": "give",
    "list": "name", "name": "list", "tell": "show", "show": "tell", "what": "which",
    "which": "what", "can": "could", "could": "can", "would": "could", "will": "would",
    "please": "kindly", "generate": "produce", "produce": "generate", "design": "devise",
    "summarize": "condense", "summarise": "condense", "imagine": "picture",
    "suggest": "propose", "propose": "suggest", "find": "locate", "help": "assist",
    "i": "we", "my": "our", "we": "i", "our": "my", "rewrite": "rephrase",
    "rephrase": "rewrite", "develop": "build", "build": "develop", "draft": "write",
    "analyze": "examine", "analyse": "examine", "compare": "contrast",
}  # fmt: skip
"""A first word of a request and one to put in its place, where a request must be repeated
with its first word changed."""


class RepeatChangedFirstWord(Spec):
    """The answer repeats the request with its first word changed and nothing else: the words
    after the first match and the answer is not the request itself (IFBench's
    `repeat:repeat_change`)."""

    kind: Literal["repeat_changed_first_word"] = "repeat_changed_first_word"
    prompt: Annotated[str, Field(min_length=1, max_length=5000)]

    def check(self, text: str) -> Finding | None:
        if text == self.prompt:
            return self.finding("the request is repeated unchanged: change its first word")
        if text.split()[1:] == self.prompt.split()[1:]:
            return None
        return self.finding(
            "the answer must be the request word for word, with only its first word changed"
        )

    def describe(self) -> str:
        return (
            "Repeat the request word for word with only its first word changed, and say nothing "
            f"else: {self.prompt.strip()!r}"
        )

    def _repair(self, text: str) -> str | None:
        """The request with its first word swapped for one of like meaning (`FIRST_WORDS`),
        in the same case; None for a first word without one there (a model rewrite then)."""
        first, *rest = self.prompt.split(" ", 1)
        other = FIRST_WORDS.get(first.lower())
        if other is None:
            return None
        if first[:1].isupper():
            other = other.capitalize()
        return " ".join([other, *rest])
