"""Citation markers in answers: reading `[doc-id]` (or `[a, b]`), rewriting the variants a
small model writes (`[document id: x]`, `[document-id: x]`, `[document id="x"]`, `[Source: x]`)
to that one form when `x` is a known document id, and folding a sentence that only names its
source ("This information is found in document [x].") into the sentence before it."""

from __future__ import annotations

import re
from collections.abc import Collection

from core.text.plain import sentences, strip_citations, words

MARKER = re.compile(r"\[([^\[\]]{1,120})\]")
"""A bracketed marker; what it holds may be one or more document ids."""
_LABEL = re.compile(
    r"^(?:documents?|docs?|sources?|references?|refs?)(?:[\s_-]*ids?)?\s*[:=#]?\s*", re.IGNORECASE
)
_SOURCE_ONLY = frozenset(
    {
        "this",
        "that",
        "these",
        "it",
        "the",
        "a",
        "an",
        "all",
        "of",
        "above",
        "information",
        "answer",
        "fact",
        "facts",
        "detail",
        "details",
        "data",
        "is",
        "are",
        "was",
        "were",
        "can",
        "be",
        "found",
        "given",
        "stated",
        "mentioned",
        "provided",
        "taken",
        "shown",
        "comes",
        "come",
        "from",
        "in",
        "on",
        "see",
        "source",
        "sources",
        "document",
        "documents",
        "doc",
        "docs",
        "according",
        "to",
        "as",
        "per",
        "cited",
    }
)
"""Words of a sentence that says where the answer is, and nothing else."""
_SEPARATOR = re.compile(r"\s*[,;]\s*|\s+and\s+")
_QUOTES = "\"'`“”‘’"


def _clean(part: str) -> str:
    return part.strip().strip(_QUOTES).strip()


def marker_ids(inner: str, known: Collection[str] | None = None) -> list[str]:
    """The document ids one marker's text names. With `known`, a label before an id
    (`document id: x`) is dropped when what is left is a known id; an id that is itself known
    (`doc-a`) is never cut."""
    if known is not None and _clean(inner) in known:
        return [_clean(inner)]
    unlabelled = _LABEL.sub("", inner.strip(), count=1)
    ids = []
    for part in _SEPARATOR.split(unlabelled):
        doc_id = _clean(part)
        if known is not None and doc_id not in known:
            labelled = _clean(_LABEL.sub("", doc_id, count=1))
            doc_id = labelled if labelled in known else doc_id
        if doc_id:
            ids.append(doc_id)
    if known is not None and not any(i in known for i in ids):
        return [_clean(inner)]  # not a citation of ours: leave it as it was written
    return ids


def cited_ids(text: str, known: Collection[str] | None = None) -> list[str]:
    """Every document id cited in `text`, in order, without repeats."""
    found: list[str] = []
    for inner in MARKER.findall(text):
        for doc_id in marker_ids(inner, known):
            if doc_id not in found:
                found.append(doc_id)
    return found


def canonical_citations(text: str, known: Collection[str]) -> str:
    """`text` with each marker that names known documents written `[a]` or `[a, b]`."""
    if not known:
        return text

    def rewrite(match: re.Match[str]) -> str:
        ids = marker_ids(match.group(1), known)
        if not all(i in known for i in ids):
            return match.group(0)
        return f"[{', '.join(ids)}]"

    return MARKER.sub(rewrite, text)


def fold_source_sentences(text: str, known: Collection[str]) -> str:
    """`text` with each sentence that only names its source (and cites known documents) folded
    into the sentence before it, as that sentence's citation."""
    parts = sentences(text)
    out: list[str] = []
    for sentence in parts:
        ids = [i for i in cited_ids(sentence, known) if i in known]
        said = words(strip_citations(sentence))
        if out and ids and said and set(said) <= _SOURCE_ONLY:
            previous = out[-1]
            new = [i for i in ids if i not in cited_ids(previous, known)]
            if new:
                body = previous.rstrip()
                end = body[-1] if body[-1] in ".!?" else "."
                body = body.rstrip(".!?").rstrip()
                out[-1] = f"{body} [{', '.join(new)}]{end}"
            continue
        out.append(sentence)
    return " ".join(out) if len(out) != len(parts) else text
