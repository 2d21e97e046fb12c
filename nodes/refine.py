"""Refining: improves the best draft so far in small, checkable pieces of work.

Small local models cannot rewrite a whole text to a list of fixes (measured: the draft comes
back unchanged), but they can write one short sentence for three given words, or restate one
sentence from its source. So the refiner fixes what it can deterministically (repeats, missing
citations, excess length), then hands the model one small sub-task per problem, in parallel, and
splices the checked results into the text. It sees the best draft and the current findings only,
never the history, so its prompts stay the same size every round.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from core.run_config import RunConfig, load_config
from core.state import Finding, RefineState, Usage, empty_usage, merge_usage
from core.text.citations import cited_ids
from core.text.lexicon import used_words
from core.text.plain import (
    replace_spans,
    sentence_spans,
    sentences,
    strip_citations,
)
from nodes import prompts
from nodes.answer_repair import answer_from_facts
from nodes.context import context_passages
from nodes.draft import (
    constraint_notes,
    tidy,
)
from nodes.instruction_fixes import calls, follow_instructions
from nodes.story_by_sentence import tell_by_sentence
from nodes.validate import (
    SUPPORT_OVERLAP,
    drop_repeats,
    premise,
    sources_of,
    support,
)
from nodes.word_edits import (
    continue_story,
    cover_missing,
    first_sentence,
    required_words,
    sparse,
)
from nodes.writing import write


def cite_uncited(
    text: str, passages: list[tuple[str, str]], known: set[str], given: str = ""
) -> str:
    """Append `[doc-id]` to each sentence that cites no known document and that one passage
    (or two together, both cited) supports (`given`: the question, see `support`); markers in
    it that name no document (an echoed `[document-id]`) go first. Other sentences are kept
    byte for byte."""
    if not passages:
        return text
    edits = {}
    for span, sentence in zip(sentence_spans(text), sentences(text), strict=True):
        if not set(cited_ids(sentence, known)) & known:
            bare = strip_citations(sentence)
            if found := sources_of(bare, passages, given):
                edits[span] = f"{bare.rstrip().rstrip('.')} [{', '.join(found)}]."
    return replace_spans(text, edits)


def trim_to_length(text: str, state: RefineState) -> str:
    """Drop trailing sentences that carry no required word until length limits hold; the
    sentences kept are kept byte for byte."""
    constraints = state.get("constraints") or {}
    max_words, max_sentences = constraints.get("max_words"), constraints.get("max_sentences")
    spans = sentence_spans(text)
    parts = sentences(text)
    kept = list(range(len(parts)))

    def too_long(keep: list[int]) -> bool:
        n_words = len(" ".join(parts[i] for i in keep).split())
        return bool(
            (max_words and n_words > max_words) or (max_sentences and len(keep) > max_sentences)
        )

    required = required_words(state)
    while len(kept) > 1 and too_long(kept):
        droppable = [i for i in kept if not used_words(parts[i], required)[0]]
        kept.remove(droppable[-1] if droppable else kept[-1])
    return replace_spans(text, {spans[i]: "" for i in range(len(parts)) if i not in kept})


def claimed_sources(sentence: str, passages: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The passages a sentence cites, where it cites any of them; else every passage. A
    sentence is restated from the document it claims: the one that merely shares the most words
    with it can be about another thing (a question over two firms shares most of its words with
    both firms' documents)."""
    cited = set(cited_ids(sentence, {doc for doc, _ in passages}))
    return [p for p in passages if p[0] in cited] or passages


async def fix_unsupported(
    text: str, unsupported: list[str], state: RefineState, config: RunConfig
) -> tuple[str, Usage]:
    """Restate each unsupported sentence from its best source; drop it if that fails too."""
    passages = context_passages(state, config)
    if not passages:
        return text, empty_usage()
    targets = unsupported[: config.refine.max_groups]
    task = state["task"]
    sources = [
        max(claimed_sources(s, passages), key=lambda p, s=s: support(s, p[1], task))
        for s in targets
    ]
    asks = [
        prompts.FIX_SENTENCE.format(
            doc_id=doc, source=prompts.fence(src), sentence=s, task=state["task"]
        )
        for s, (doc, src) in zip(targets, sources, strict=True)
    ]
    replies, usage = await write("refine", config.roles.refine, asks)
    spans = dict(zip(sentences(text), sentence_spans(text), strict=False))
    edits: dict[tuple[int, int], str] = {}
    for target, (doc_id, source), reply in zip(targets, sources, replies, strict=True):
        fixed = first_sentence(reply)
        if fixed and "[" not in fixed:
            fixed = f"{fixed.rstrip('.')} [{doc_id}]."
        ok = fixed and support(fixed, source, task) >= SUPPORT_OVERLAP
        if target in spans and (ok or len(spans) > 1):
            edits[spans[target]] = fixed if ok else ""  # restated, else dropped
    return replace_spans(text, edits), usage


async def rewrite(
    text: str, feedback: list[str], state: RefineState, config: RunConfig
) -> tuple[str, Usage]:
    """A whole rewrite from the critic's feedback: only when nothing checkable is wrong."""
    ask = prompts.REWRITE.format(
        task=state["task"],
        constraints=constraint_notes(state),
        draft=text,
        feedback="\n".join(f"- {item}" for item in feedback),
    )
    [reply], usage = await write("refine", config.roles.rewrite, [ask])
    return (reply or text), usage


def _data(findings: list[Finding], source: str) -> list[str]:
    return [d for f in findings if f["source"] == source for d in f.get("data", [])]


class Revision(NamedTuple):
    """The next version of a text, what it cost, and the word edits asked for it."""

    text: str
    usage: Usage
    tried: tuple[str, ...] = ()


async def improve(text: str, findings: list[Finding], state: RefineState) -> Revision:
    """The next version of `text`: deterministic repairs, then one kind of model sub-task."""
    config = load_config(state["config"])
    asked = [f["message"] for f in findings if f["source"] == "reviewer"]
    if asked:  # a person said what to change: that comes before anything the checks found
        return Revision(*await rewrite(text, asked, state, config))
    followed = await follow_instructions(text, state, config)
    if followed is not None:
        return Revision(*followed)
    required = required_words(state)
    told = [(f.get("data") or [""])[0] for f in findings if f["source"] == "repetition"]
    listed = required and {"listing", "plan"} & set(told)  # the validator read it
    short = required and "short" in told
    if short and not listed and not sparse(text, required) and not calls(state, "continue_story"):
        return Revision(*await continue_story(text, state, config))  # a story begun: go on
    if (listed or short or sparse(text, required)) and not calls(state, "redraft"):
        return Revision(*await tell_by_sentence(state, config))  # not a story: again
    text = drop_repeats(text, required)
    known = {d["id"] for d in state.get("documents") or []}
    text = cite_uncited(text, context_passages(state, config), known, premise(state))
    text = trim_to_length(text, state)
    if any(f["source"] == "answer" for f in findings) and not calls(state, "answer"):
        return Revision(*await answer_from_facts(text, state, config))
    missing = used_words(strip_citations(text), required)[1]
    if missing:
        text, usage, tried = await cover_missing(text, missing, state, config)
        return Revision(text, usage, tuple(tried))
    unsupported = [s for s in _data(findings, "grounding") if s in sentences(text)]
    if unsupported:
        return Revision(*await fix_unsupported(text, unsupported, state, config))
    if any(f["source"] == "length" and f.get("data", [""])[0] == "min_words" for f in findings):
        ask = prompts.EXPAND.format(task=state["task"], draft=text)
        [reply], usage = await write("refine", config.roles.refine, [ask])
        return Revision(f"{text} {first_sentence(reply)}".strip(), usage)
    errors = any(f["severity"] == "error" for f in findings if f["source"] != "critic")
    feedback = [f["message"] for f in findings if f["source"] == "critic"]
    if feedback and not errors:
        return Revision(*await rewrite(text, feedback, state, config))
    return Revision(text, empty_usage())


async def refine(state: RefineState) -> dict[str, Any]:
    text, usage, tried = await improve(state["best_draft"], state.get("best_findings") or [], state)
    update: dict[str, Any] = {
        "draft": tidy(text, state),
        "iteration": state.get("iteration", 0) + 1,
        "usage": merge_usage(empty_usage(), usage),
    }
    return update | ({"tried": list(tried)} if tried else {})
