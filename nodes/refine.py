"""Refining: improves the best draft so far in small, checkable pieces of work.

Small local models cannot rewrite a whole text to a list of fixes (measured: the draft comes
back unchanged), but they can write one short sentence for three given words, or restate one
sentence from its source. So the refiner fixes what it can deterministically (repeats, missing
citations, excess length), then hands the model one small sub-task per problem, in parallel, and
splices the checked results into the text. It sees the best draft and the current findings only,
never the history, so its prompts stay the same size every round.
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.run_config import RunConfig, load_config
from core.state import Finding, RefineState, Usage, empty_usage, merge_usage
from core.text.citations import cited_ids
from core.text.embeddings import embed
from core.text.lexicon import derived_forms, used_words
from core.text.plain import (
    normalise,
    quotes_balanced,
    replace_spans,
    sentence_spans,
    sentences,
    strip_citations,
    unquote,
)
from nodes import prompts
from nodes.answer_repair import answer_from_facts
from nodes.context import context_passages
from nodes.draft import (
    constraint_notes,
    draft_prompt,
    draft_role,
    tidy,
    write_draft,
)
from nodes.instruction_fixes import calls, follow_instructions
from nodes.sentence_changes import faithful, uses_all
from nodes.validate import (
    SUPPORT_OVERLAP,
    drop_repeats,
    listing_sentences,
    overlap,
    premise,
    repeated_sentences,
    sources_of,
    support,
    word_bag,
)
from nodes.writing import on_round, write


def _required(state: RefineState) -> list[str]:
    return (state.get("constraints") or {}).get("required_words") or []


def _first_sentence(reply: str) -> str:
    parts = sentences(unquote(reply))
    return parts[0] if parts else ""


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

    required = _required(state)
    while len(kept) > 1 and too_long(kept):
        droppable = [i for i in kept if not used_words(parts[i], required)[0]]
        kept.remove(droppable[-1] if droppable else kept[-1])
    return replace_spans(text, {spans[i]: "" for i in range(len(parts)) if i not in kept})


WEAVE_GROUP = 2
"""Missing words worked into one existing sentence at a time (a small model rewording a
sentence takes two new words in; four make it a list)."""


def word_groups(
    missing: list[str], iteration: int, config: RunConfig, size: int | None = None
) -> list[list[str]]:
    """Missing words in small groups, regrouped every round so a hard pairing is not retried."""
    shift = iteration % len(missing) if missing else 0
    ordered = missing[shift:] + missing[:shift]
    size = size or config.refine.group_size
    return [ordered[i : i + size] for i in range(0, len(ordered), size)][: config.refine.max_groups]


def copies_text(sentence: str, text: str, span: int = 6) -> bool:
    """Whether `sentence` repeats a run of `span` words of `text` (copied, not new)."""
    have = normalise(text).split()
    seen = {tuple(have[i : i + span]) for i in range(len(have) - span + 1)}
    new = normalise(sentence).split()
    return any(tuple(new[i : i + span]) in seen for i in range(len(new) - span + 1))


ECHO_JACCARD = 0.6
"""A continuation sharing this much of its words with the sentence it follows says that sentence
again with a word swapped ("The toe moved, causing the sander to work. The toe floated, causing
the sander to work.", read in a refined answer)."""


def echoes(sentence: str, anchor: str) -> bool:
    """Whether `sentence` is `anchor` again with a word or two swapped."""
    return overlap(word_bag(sentence), word_bag(anchor)) >= ECHO_JACCARD


def cover_ask(sentence: str, group: list[str], text: str) -> str:
    """The sub-task of a sentence of its own for one group of missing words, to follow
    `sentence`; where the text already holds a derived form of one ("snowy" for "snow"), it
    asks for the word itself."""
    hints = [
        f"{word} (not {', '.join(forms)})" for word in group if (forms := derived_forms(text, word))
    ]
    exact = prompts.EXACT_WORDS.format(hints="; ".join(hints)) if hints else ""
    return prompts.COVER_WORDS.format(
        sentence=strip_citations(sentence).strip(), words=", ".join(group), exact=exact
    )


def nearest_sentences(text: str, groups: list[list[str]]) -> list[tuple[str, bool]]:
    """For each group of words, the sentence of `text` most about them (MiniLM similarity) and
    whether it is free to reword (no other group took it first; a taken one is still where a
    sentence of the group's own goes)."""
    parts = [text[a:b] for a, b in sentence_spans(text)]
    if not parts:
        return [("", False) for _ in groups]
    vectors = embed([" ".join(g) for g in groups] + parts)
    similar = vectors[: len(groups)] @ vectors[len(groups) :].T
    chosen: list[tuple[str, bool]] = []
    for row in similar:
        order = [int(i) for i in row.argsort()[::-1]]
        free = [i for i in order if parts[i] not in {c for c, _ in chosen}]
        chosen.append((parts[free[0]], True) if free else (parts[order[0]], False))
    return chosen


async def cover_missing(
    text: str, missing: list[str], state: RefineState, config: RunConfig
) -> tuple[str, Usage]:
    """Missing words worked into the text where they fit: each pair is woven into the sentence
    most about them (reworded in place, in parallel); a pair the rewording could not take gets
    a short sentence of its own, placed right after that sentence, not at the end. Every edit is
    kept only if it adds required words without repeating what the text already says."""
    required = _required(state)
    weave = config.refine.weave_words
    groups = word_groups(
        missing, state.get("iteration", 0), config, size=WEAVE_GROUP if weave else None
    )
    targets = await asyncio.to_thread(nearest_sentences, text, groups)  # the encoder blocks
    pairs = list(zip(targets, groups, strict=True))
    if not weave:  # each group a sentence of its own, after the sentence most about it
        return await add_sentences(text, [(t, g) for (t, _), g in pairs], required, state, config)
    left = [(target, group) for (target, free), group in pairs if not free]
    changes = [
        uses_all(target, group, lambda new, g=group: not used_words(new, g)[1])
        for (target, free), group in pairs
        if free
    ]
    groups = [group for (_, free), group in pairs if free]
    asks = [prompts.REWORD_SENTENCE.format(sentence=c.sentence, change=c.change) for c in changes]
    replies, usage = await write("refine", config.roles.refine, asks)
    for change, group, reply in zip(changes, groups, replies, strict=True):
        new = " ".join(unquote(reply).split())
        candidate = text.replace(change.sentence, new, 1)
        fits = len(new.split()) <= 2 * len(change.sentence.split()) + 12
        if (
            change.sentence in text
            and change.done(new)
            and fits  # still a sentence, not a paragraph
            and faithful(change.sentence, new)  # not cut short, nor another sentence
            and not listing_sentences(new)
            and (quotes_balanced(new) or not quotes_balanced(change.sentence))
            and gains(candidate, text, required)
        ):
            text = candidate
        else:
            left.append((change.sentence, group))
    if not left:
        return text, usage
    text, more = await add_sentences(text, left, required, state, config)
    return text, merge_usage(usage, more)


async def add_sentences(
    text: str, left: list[tuple[str, list[str]]], required: list[str], state: RefineState,
    config: RunConfig,
) -> tuple[str, Usage]:  # fmt: skip
    """One short sentence per group of missing words, in parallel, each continuing its
    sentence and placed right after it (at the end where none is given); kept where it adds
    required words without copying or repeating what the text already says, and says something
    rather than listing the words."""
    asks = [cover_ask(after, group, text) for after, group in left]
    replies, usage = await write("refine", config.roles.refine, asks)
    for (after, _), reply in zip(left, replies, strict=True):
        sentence = _first_sentence(reply)
        anchor = after if after and after in text else ""
        candidate = (
            text.replace(anchor, f"{anchor} {sentence}", 1) if anchor else f"{text} {sentence}"
        ).strip()
        if (
            sentence
            and quotes_balanced(sentence)
            and gains(candidate, text, required)
            and not copies_text(sentence, text)
            and not echoes(sentence, anchor)
            and not listing_sentences(sentence)
        ):
            text = candidate
    return text, usage


SPARSE_MIN_WORDS = 8
SPARSE_SHARE = 0.4
"""A draft of at least `SPARSE_MIN_WORDS` required words that uses fewer than this share of
them ignored its plan and told a story of its own. Read in the 30-task dev evaluation at c8a66fe:
5 of 30 first drafts used 7-32% of their words (the next lowest 61%), and those 5 spent 18,600
of the 47,200 tokens, two to five rounds of sub-tasks each; one more draft costs about 300."""


def sparse(text: str, required: list[str]) -> bool:
    """Whether a word draft left most of its words out (`SPARSE_SHARE`)."""
    used = len(used_words(strip_citations(text), required)[0])
    return len(required) >= SPARSE_MIN_WORDS and used < SPARSE_SHARE * len(required)


async def redraft_words(state: RefineState, config: RunConfig) -> tuple[str, Usage]:
    """A word story drafted again from the drafter's own plan prompt, on the round as its seed
    (the drafter's seed would give the same text again): for a draft that listed the words,
    described its plan, was too short to be a story, or left most of them out. A prompt of
    its own for a listing draft (every word in one list, "a short story of N sentences") did
    worse than the plan asked again: on dev CommonGen-Hard 0-18, both on seed 1 against a
    llama-server, coverage 0.42 against 0.58, 13 replies looping to the token cap against 5,
    42 sentences echoing an earlier one against 30, and as many listing drafts (2)."""
    role = on_round(draft_role(state, config), state)
    reply, usage = await write_draft("redraft", role, draft_prompt(state))
    return reply.strip(), usage


def gains(candidate: str, text: str, required: list[str]) -> bool:
    """Whether `candidate` uses every required word `text` uses and more, and repeats no
    sentence that `text` did not (a near-repeat kept for the only required word it carries would
    otherwise refuse every edit: read in a run where 21 calls changed nothing). A rewording that
    works two words in and one out is refused, not counted as one gained: what is kept stays
    kept. (An invariant, not a measured fault: the words lost between rounds of the 30-task dev
    runs at ae3caa5 were all lost to a whole redraft.)"""
    had, has = set(used_words(text, required)[0]), set(used_words(candidate, required)[0])
    return had < has and len(repeated_sentences(candidate)) <= len(repeated_sentences(text))


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
        fixed = _first_sentence(reply)
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


async def improve(text: str, findings: list[Finding], state: RefineState) -> tuple[str, Usage]:
    """The next version of `text`: deterministic repairs, then one kind of model sub-task."""
    config = load_config(state["config"])
    asked = [f["message"] for f in findings if f["source"] == "reviewer"]
    if asked:  # a person said what to change: that comes before anything the checks found
        return await rewrite(text, asked, state, config)
    followed = await follow_instructions(text, state, config)
    if followed is not None:
        return followed
    required = _required(state)
    told = [(f.get("data") or [""])[0] for f in findings if f["source"] == "repetition"]
    listed = required and {"listing", "plan", "short"} & set(told)  # the validator read it
    if (listed or sparse(text, required)) and not calls(state, "redraft"):  # not a story: again
        return await redraft_words(state, config)
    text = drop_repeats(text, required)
    known = {d["id"] for d in state.get("documents") or []}
    text = cite_uncited(text, context_passages(state, config), known, premise(state))
    text = trim_to_length(text, state)
    if any(f["source"] == "answer" for f in findings) and not calls(state, "answer"):
        return await answer_from_facts(text, state, config)
    missing = used_words(strip_citations(text), required)[1]
    if missing:
        return await cover_missing(text, missing, state, config)
    unsupported = [s for s in _data(findings, "grounding") if s in sentences(text)]
    if unsupported:
        return await fix_unsupported(text, unsupported, state, config)
    if any(f["source"] == "length" and f.get("data", [""])[0] == "min_words" for f in findings):
        ask = prompts.EXPAND.format(task=state["task"], draft=text)
        [reply], usage = await write("refine", config.roles.refine, [ask])
        return f"{text} {_first_sentence(reply)}".strip(), usage
    errors = any(f["severity"] == "error" for f in findings if f["source"] != "critic")
    feedback = [f["message"] for f in findings if f["source"] == "critic"]
    if feedback and not errors:
        return await rewrite(text, feedback, state, config)
    return text, empty_usage()


async def refine(state: RefineState) -> dict[str, Any]:
    text, usage = await improve(state["best_draft"], state.get("best_findings") or [], state)
    return {
        "draft": tidy(text, state),
        "iteration": state.get("iteration", 0) + 1,
        "usage": merge_usage(empty_usage(), usage),
    }
