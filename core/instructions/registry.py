"""Every instruction kind in one discriminated union, read from plain dicts and run together."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from core.instructions.base import Spec
from core.instructions.casing import AllCapitals, AllLowercase, NoCommas, NoMarks
from core.instructions.counts import (
    AllPunctuation,
    ConjunctionCount,
    EqualSentences,
    NameCount,
    NumberCount,
    PronounCount,
    SentenceTypeBalance,
    SentenceTypeRatio,
    StopWordRatio,
    TrigramOverlap,
    WordRepeatLimit,
)
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
)
from core.instructions.framing import (
    EndPhrase,
    ExactText,
    Postscript,
    Quotation,
    RepeatChangedFirstWord,
    RepeatPrompt,
    StartPhrase,
    StartsWithVerb,
)
from core.instructions.language import ResponseLanguage
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
)
from core.instructions.length import NthParagraphFirstWord, ParagraphCount, SentenceCount, WordCount
from core.instructions.lists import (
    DateList,
    ItemList,
    MultipleChoice,
    NumberSequence,
    SortedLines,
)
from core.instructions.shape import (
    AlliterationGrowth,
    AlphabetChain,
    ConsonantClusters,
    KeywordAtPosition,
    KeywordInSentence,
    LastWordFirstNext,
    LinesStartEndSame,
    NoSameFirstLetter,
    NthWordJapanese,
    PalindromeCount,
    PrimeLengthWords,
    SecondWordBothEnds,
    SentenceGrowth,
    SentenceInitialsAlphabet,
    SyllableAlternation,
    VowelLimit,
)
from core.instructions.words import (
    CapitalWordFrequency,
    ForbiddenWords,
    IncludedKeywords,
    KeywordFrequency,
    LetterFrequency,
    UniqueWordCount,
)
from core.state import Finding

Instruction = Annotated[
    IncludedKeywords
    | KeywordFrequency
    | ForbiddenWords
    | LetterFrequency
    | CapitalWordFrequency
    | UniqueWordCount
    | WordCount
    | SentenceCount
    | ParagraphCount
    | NthParagraphFirstWord
    | BulletCount
    | Placeholders
    | HighlightedSections
    | Sections
    | JsonFormat
    | Title
    | ConstrainedResponse
    | TwoResponses
    | EndPhrase
    | StartPhrase
    | StartsWithVerb
    | RepeatPrompt
    | Quotation
    | Postscript
    | ResponseLanguage
    | AllCapitals
    | AllLowercase
    | NoCommas
    | NoMarks
    | NumberCount
    | ConjunctionCount
    | PronounCount
    | NameCount
    | AllPunctuation
    | StopWordRatio
    | SentenceTypeRatio
    | SentenceTypeBalance
    | WordRepeatLimit
    | KeywordInSentence
    | KeywordAtPosition
    | SecondWordBothEnds
    | SentenceGrowth
    | LastWordFirstNext
    | LinesStartEndSame
    | AlphabetChain
    | ConsonantClusters
    | VowelLimit
    | NoSameFirstLetter
    | PalindromeCount
    | PrimeLengthWords
    | AlliterationGrowth
    | EmojiPerSentence
    | IndentStairs
    | OneWordPerLine
    | OptionsOnly
    | QuotesExplained
    | NestedQuotes
    | NestedBrackets
    | SubBullets
    | SentencesThenBullets
    | CustomBullets
    | ItalicThesis
    | TitleCase
    | TemplateLabels
    | NoWhitespace
    | ExactText
    | RepeatChangedFirstWord
    | TrigramOverlap
    | EqualSentences
    | NthWordJapanese
    | SentenceInitialsAlphabet
    | SyllableAlternation
    | CsvTable
    | NumberSequence
    | DateList
    | ItemList
    | SortedLines
    | MultipleChoice,
    Field(discriminator="kind"),
]
"""One verifiable instruction of any kind, told apart by its `kind` field."""

_ADAPTER: TypeAdapter[Instruction] = TypeAdapter(Instruction)
_LIST_ADAPTER: TypeAdapter[list[Instruction]] = TypeAdapter(list[Instruction])

SPECS: dict[str, type[Spec]] = {
    choice.model_fields["kind"].default: choice
    for choice in Instruction.__args__[0].__args__  # type: ignore[attr-defined]
}
"""Every kind's spec class, by kind name, in the union's order."""
KINDS: tuple[str, ...] = tuple(SPECS)
"""Every kind name, in the union's order."""


def catalogue() -> str:
    """One line a kind, `kind(field, optional_field?): what it checks`, short enough for an
    extraction prompt (the full JSON schema is about 50 kB)."""
    out = []
    for kind, spec in SPECS.items():
        fields = [
            name + ("" if info.is_required() else "?")
            for name, info in spec.model_fields.items()
            if name != "kind"
        ]
        summary = re.split(r"\.\s+(?=[A-Z])", " ".join((spec.__doc__ or "").split()))[0]
        summary = re.sub(r"\s*\([^()]*\)", "", summary)  # the notes on reference scorers
        out.append(f"{kind}({', '.join(fields)}): {summary.rstrip('.')}")
    return "\n".join(out)


def parse_instruction(data: dict[str, Any]) -> Instruction:
    """The instruction `data` describes; a pydantic `ValidationError` names an unknown kind
    (listing the known ones) or each bad field."""
    return _ADAPTER.validate_python(data)


def parse_instructions(data: list[dict[str, Any]]) -> list[Instruction]:
    """Every instruction of a list, or one `ValidationError` locating each bad item."""
    return _LIST_ADAPTER.validate_python(data)


def check_all(text: str, instructions: list[Instruction]) -> list[Finding]:
    """The findings of every instruction `text` does not follow, in the instructions' order.
    A blank answer follows none of them, as the reference scorers count it (an empty reply
    has no commas, but it does not answer)."""
    if not text.strip():
        return [i.finding("the answer is empty") for i in instructions]
    return [f for f in (i.check(text) for i in instructions) if f is not None]
