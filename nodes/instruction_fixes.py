"""Refining against the request's verifiable instructions: fix without a model what can be
fixed, then give the model one small, checked piece of work.

Order of work on a failing draft:
1. `repair_all`: every deterministic repair that leaves fewer instructions failing (case,
   commas, wrapping, quotation, title, postscript, markers, headers, trimming to a count).
2. Sentence rewordings (`nodes.sentence_changes`): missing keywords, names and conjunctions
   woven into sentences (not new sentences bolted on), statements turned into questions until a
   ratio holds, an over-used word taken out, a missing punctuation mark worked in; in parallel,
   each kept only if it passes its own test and no instruction that held before fails after it.
3. Too short for a count that more text raises (words, unique words, pronouns, sentences,
   paragraphs, a keyword's sentence N): one more paragraph of about the missing length,
   continuing the text; any of its sentences that repeats one already there is dropped (a
   small model continuing a text tends to say it again: measured, one continuation doubled a
   whole paragraph).
4. Otherwise a rewrite of the whole response told exactly which rules it breaks (the
   findings' own words), repaired again deterministically: at most `MAX_REWRITES` a run, none
   where the plan reports conflicting instructions or only rules a rewrite was measured not to
   move fail (`UNMOVED_BY_REWRITE`). The score node keeps the best draft, so a rewrite that
   makes things worse is never the answer.
"""

from __future__ import annotations

import logging
import re

from core.instructions import Instruction, repair_all
from core.instructions.text import rule_sentences
from core.run_config import RoleModel, RunConfig
from core.state import RefineState, Usage, empty_usage, merge_usage
from core.text.plain import (
    closing_at,
    normalise,
    quotes_balanced,
    replace_spans,
    sentence_spans,
    sentences,
    unquote,
    words,
)
from nodes import prompts
from nodes.content import echoes, hollow, same_meaning
from nodes.draft import (
    GROWABLE,
    WORDS_PER,
    described,
    draft_role,
    grammar_of,
    numbered,
    write_draft,
)
from nodes.plan import instructions_of
from nodes.sentence_changes import (
    Change,
    faithful,
    kept_layout,
    restatements,
    sentence_changes,
    what_is_asked,
)
from nodes.validate import drop_repeats
from nodes.writing import on_round, without_rules, write

log = logging.getLogger(__name__)

POSITIONED = frozenset({"keyword_in_sentence", "keyword_at_position"})
"""Rules on sentence N of the text: a text with fewer sentences must grow first."""
MAX_TOKENS = 1024
"""The most output tokens a continuation or a whole rewrite is given."""
MAX_REWRITES = 1
"""Whole rewrites per run at most: each costs a whole response's tokens, and a rule the model
missed once it mostly misses again (two allowed: the dev sample's rewrites all came back
failing the same rule, at 4x the tokens of one pass)."""
MAX_REWORDS = 12
"""Sentence rewordings per run at most: a rule the model could not meet by rewording in two
rounds it mostly does not meet in four (measured on IFBench dev: taking "the" out of sentences,
ten palindromes, 7,000 tokens on one task that still failed)."""
MAX_SENTENCES_GROWN = 8
"""The most sentences a text is continued by to reach the sentence a keyword is ruled into
(measured on IFBench dev: 3 short of sentence 6 was reached; 11 short of 28, at 2,000-2,800
tokens a task, never was)."""
MAX_CONTINUATIONS = 2
"""Continuations per run at most: measured on IFBench dev, a count still short after two
(pronouns, unique words) ran every task to its last round, the main cause of refinement's
token cost there."""
WORD_SHAPE_KINDS = frozenset({
    "alphabet_chain", "prime_length_words", "consonant_clusters", "vowel_limit",
    "no_same_first_letter", "syllable_alternation", "alliteration_growth",
    "last_word_first_next", "sentence_growth", "equal_sentences", "sentence_initials_alphabet",
    "nth_word_japanese", "keyword_at_position", "second_word_both_ends", "palindrome_count",
    "lines_start_end_same",
})  # fmt: skip
"""Rules on the shape of every word or sentence, or on exact positions: a rewrite told the
rule does not make a small model meet it, so none is asked for when only these fail."""
UNMOVED_BY_REWRITE = WORD_SHAPE_KINDS | {
    "trigram_overlap", "keyword_in_sentence", "number_count", "word_repeat_limit",
    "csv_table", "multiple_choice", "nested_brackets", "one_word_per_line",
    "sentences_then_bullets",
}  # fmt: skip
"""Rules a whole rewrite was asked for and never met, besides the word shapes: measured on
IFBench and IFEval-kinds dev at ff23f5c, 14 rewrites for these alone (an overlap with a
reference text, a keyword in sentence 28, exactly 5 numbers, a CSV table, nested brackets,
one word a line ...) all came back failing, at 70 tokens a task of IFBench's 681; the two
rewrites that met their rules were for two responses and commas, and for a paragraph count
and a closing phrase."""


def regrouped(text: str, specs: list[Instruction]) -> str:
    """`text` with its sentences regrouped where a rule needs a count it cannot reach by
    rewording alone (`SentenceTypeBalance.regroup`: statements joined so the count splits
    three ways), kept where no other instruction fails after it."""
    for spec in failing(text, specs):
        joined = spec.regroup(text)
        if joined and len(failing(joined, specs)) <= len(failing(text, specs)):
            text = joined
    return text


def sized(role: RoleModel, tokens: int) -> RoleModel:
    """`role` with room for about `tokens` output tokens (never below its own cap)."""
    tokens = min(MAX_TOKENS, tokens)
    return role.model_copy(update={"max_tokens": tokens}) if tokens > role.max_tokens else role


def calls(state: RefineState, node: str) -> int:
    """How many model calls `node` has made in this run so far."""
    return (state.get("usage") or {}).get("by_node", {}).get(node, {}).get("calls", 0)


def failing(text: str, specs: list[Instruction]) -> list[Instruction]:
    return [s for s in specs if s.check(text) is not None]


GIST_CHARS = 200
"""The most characters of the request a sentence sub-task carries (a word limit alone let a
request in Chinese, with few spaces, send 1,500 tokens with every sentence)."""


def gist(task: str, limit: int = 30) -> str:
    """The request in a few words, for a sub-task that must not carry the whole prompt."""
    first = " ".join(task.split()[:limit])
    if len(first) > GIST_CHARS:
        cut = first[:GIST_CHARS]
        first = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return first if first == " ".join(task.split()) else first + " ..."


async def reword(
    text: str, changes: list[Change], specs: list[Instruction], state: RefineState,
    config: RunConfig, asked: str | None = None,
) -> tuple[str, Usage]:  # fmt: skip
    """Each sentence reworded as its change asks, in parallel, on the round's seed (`on_round`:
    the sentence a keyword is ruled into is asked again each round, and got the same failing
    reply again); a reply is kept where it passes its change's test, is still about one
    sentence long, and no instruction that held before fails after it. `asked`: the request
    as the sub-tasks see it (its gist), where not the whole request."""
    about = gist(asked or state["task"])
    asks = [
        prompts.REWORD.format(gist=about, sentence=c.sentence, change=c.change) for c in changes
    ]
    replies, usage = await write("reword", on_round(config.roles.refine, state), asks)
    for change, reply in zip(changes, replies, strict=True):
        new = unlabelled(unquote(reply).strip())
        if change.sentences == 1:
            new = without_the_old(change.sentence, new)
        why = refusal(change, new, text, about)
        if why is not None:
            log.info("rewording refused (%s): %r -> %r", why, change.sentence[:80], new[:160])
            continue
        new = " ".join(new.split())
        candidate = text.replace(change.sentence, new, 1)
        if len(failing(candidate, specs)) <= len(failing(text, specs)):
            text = candidate
        else:
            log.info("rewording refused (another rule fails): %r", new[:160])
    return text, usage


def refusal(change: Change, reply: str, text: str, about: str) -> str | None:
    """Why a reworded sentence may not replace `change.sentence` in `text`, or None where it
    may: it must keep the sentence's place in the layout, make the change, keep quotes
    balanced, not quote the old sentence, stay about a sentence long, keep its content words
    (or its meaning, where it restates), and not copy the request (`about`)."""
    if not kept_layout(change.sentence, reply):
        return "layout"
    new = " ".join(reply.split())
    if not new or not change.done(new):
        return "change not made"
    if change.sentence not in text:
        return "sentence gone"
    if quotes_balanced(change.sentence) and not quotes_balanced(new):
        return "unbalanced quotes"
    if quoted_more(change.sentence, new):
        return "the old sentence quoted, not reworded"
    if len(new.split()) > 3 * len(change.sentence.split()) + 10:
        return "a paragraph, not a sentence"
    if not faithful(
        change.sentence, new, cuts=change.cuts, adds=change.adds, restates=change.restates
    ):
        return "cut short, or another sentence"
    if change.restates and not same_meaning(change.sentence, new):
        return "another meaning"
    if borrowed(change.sentence, new, about):
        return "the request's words, not the sentence's"
    return None


BORROWED_RUN = 6
"""This many words in a row from the request's gist, not in the old sentence, are copied."""


def borrowed(old: str, new: str, about: str) -> bool:
    """Whether a reworded sentence took a run of the request's own words (or the gist's "..."),
    which the old sentence did not have. Measured on IFBench dev: "... in the labyrinth of
    corruption, greed, inequity, madness, inequality, an establishment that preached
    conspiracy theories and wild speculations over truth and an equally ..." came back from a
    rewording that was shown the request's first thirty words."""
    if about.endswith("...") and "..." in new and "..." not in old:
        return True

    def runs(text: str) -> set[tuple[str, ...]]:
        found = words(text)
        return {tuple(found[i : i + BORROWED_RUN]) for i in range(len(found) - BORROWED_RUN + 1)}

    return bool((runs(new) & runs(about)) - runs(old))


_QUOTED = re.compile(r'["\u201c]([^"\u201c\u201d]+)["\u201d]')
QUOTED_SHARE = 0.6
"""The share of the old sentence's words a new quotation holding them makes it a quotation of
the old sentence, not a title quoted in it."""


def quoted_more(old: str, new: str) -> bool:
    """Whether a rewording put most of the old sentence inside quotation marks it did not
    have (measured on IFBench dev: asked for a question, the model wrapped the old statement in
    quotes and asked '"Did the war, fought on all continents, ... wounded, " do you think it
    was a significant event in history?'). A quoted title ('Is the song "Silence Skull's
    hollow" full of sharp lines?') is kept."""
    before = set(_QUOTED.findall(old))
    mine = set(words(old))
    for quoted in _QUOTED.findall(new):
        inside = set(words(quoted))
        if quoted not in before and mine and len(inside & mine) >= QUOTED_SHARE * len(mine):
            return True
    return False


_LABEL = re.compile(
    r"^(?:exclamation|question|statement|rewritten(?: sentence)?|new sentence|sentence)\s*:\s*",
    re.IGNORECASE,
)
"""A label a model may put before a reworded sentence."""


def unlabelled(reply: str) -> str:
    """A reworded sentence without a label the model put before it (measured on IFBench dev:
    "Exclamation: I deeply lament the chaos ...!" was spliced into the answer)."""
    return _LABEL.sub("", reply, count=1)


def without_the_old(old: str, reply: str) -> str:
    """A reworded sentence without the old one said first (measured on IFBench dev: "Moreover,
    video games are ... rather than just ... Moreover, video games are ... but not just ...":
    the reply kept the old sentence and added its new version, and the text said it twice)."""
    said = sentences(reply.strip())
    new = [s for s in said if normalise(s) != normalise(old)]
    return " ".join(new) if new and len(new) < len(said) else reply.strip()


def shortfall(text: str, specs: list[Instruction]) -> tuple[str, int] | None:
    """The unit and size of the continuation a short count needs ("words", 60), if one is
    short: a count's finding carries the count it found."""
    for spec in specs:
        if spec.kind in POSITIONED and spec.check(text) is not None:
            missing = spec.sentence - len(rule_sentences(text))  # type: ignore[attr-defined]
            if 0 < missing <= MAX_SENTENCES_GROWN:
                return "sentences", missing
        finding = spec.check(text) if spec.kind in GROWABLE else None
        if finding is None:
            continue
        noun, per = GROWABLE[spec.kind]
        missing = spec.low() - int(finding["data"][1])  # type: ignore[attr-defined]
        if missing > 0:
            return noun, int(missing * per)
    return None


async def grow(
    text: str, noun: str, missing: int, state: RefineState, config: RunConfig
) -> tuple[str, Usage]:
    """One more paragraph continuing the text, about as long as the count is short, ending on
    a whole sentence (ifeval-k42's ran to its cap and the answer ended "... a reminder of the
    end"), put before the text's closing part where it has one (`closing_at`): measured on
    IFEval-kinds dev (ifeval-k43, an essay 25 words short of 300), asked to go on after
    "**Conclusion** ..." the model wrote the conclusion again, which was dropped as a repeat,
    three seeds of three; shown the essay up to its conclusion, it wrote a new section on two."""
    size = max(30, min(400, missing * WORDS_PER[noun]))
    at = closing_at(text)
    body, closing = (text[:at].rstrip(), text[at:]) if at is not None else (text.rstrip(), "")
    ask = prompts.CONTINUE.format(task=state["task"], draft=body, words=size)
    role = sized(config.roles.rewrite, int(size * 1.4) + 40)
    reply, usage = await write_draft("continue", role, ask)  # cut at its cap: whole sentences
    more = reply.strip()
    if closing:
        more = before_the_closing(more, closing)
    more = until_it_loops(more, body)
    if not more:
        return text, usage
    parts = [body, more, closing] if closing else [body, more]
    return drop_repeats("\n\n".join(parts), []), usage


LOOP_TRIGRAMS = 0.5
"""A sentence with this share of its word trigrams in one earlier sentence says it again."""


def until_it_loops(more: str, before: str) -> str:
    """A continuation without the sentences that say one of the text's again, and up to its
    first sentence that says one of its own again, with a word or two swapped
    (`LOOP_TRIGRAMS` of its trigrams in one earlier sentence): measured on IFEval-kinds dev,
    ifeval-k42's continuation went "... a reminder of the end of the universe ... of the
    cosmos. The leaves are a reminder of the end of the earth ... of the planet." to its token
    cap."""
    told = [_trigrams(s) for s in sentences(before)]
    own: list[set[tuple[str, ...]]] = []
    dropped: list[tuple[int, int]] = []

    def said(grams: set[tuple[str, ...]], earlier: list[set[tuple[str, ...]]]) -> bool:
        return any(len(grams & old) >= LOOP_TRIGRAMS * len(grams) for old in earlier)

    for a, b in sentence_spans(more):
        grams = _trigrams(more[a:b])
        if grams and said(grams, own):
            more = more[:a]
            break
        if grams and said(grams, told):
            dropped.append((a, b))
        own.append(grams)
    return replace_spans(more, dict.fromkeys(dropped, "")).strip()


def _trigrams(sentence: str) -> set[tuple[str, ...]]:
    said = words(sentence)
    return {tuple(said[i : i + 3]) for i in range(len(said) - 2)}


def before_the_closing(more: str, closing: str) -> str:
    """A continuation put before `closing`, without a closing of its own and without the
    sentences `closing` says (measured: ifeval-k43's continuation ended on "Visit your
    library.", the closing line the request asked for, which then stood mid-text as well)."""
    if (own := closing_at(more)) is not None:
        more = more[:own]
    said = {normalise(s) for s in sentences(closing)}
    spans = sentence_spans(more)
    said_again = {(a, b): "" for a, b in spans if normalise(more[a:b]) in said}
    return replace_spans(more, said_again).strip()


async def redraft(
    specs: list[Instruction], state: RefineState, config: RunConfig
) -> tuple[str, Usage]:
    """A new draft for one that said too little to answer anything, asked for in full, with a
    seed of its round (the drafter's fixed seed would give the same few words again)."""
    ask = prompts.REDRAFT.format(task=state["task"], rules=numbered(specs))
    role = on_round(draft_role(state, config), state)
    reply, usage = await write_draft("refine", role, ask, grammar_of(specs))
    return drop_repeats(without_rules(reply, described(specs)).strip(), []), usage


async def rewrite_to_rules(
    text: str, bad: list[Instruction], state: RefineState, config: RunConfig
) -> tuple[str, Usage]:
    """The whole response written again, told which rules it breaks and how."""
    problems = "\n".join(
        f"- {spec.describe()} Now: {finding['message']}."
        for spec in bad
        if (finding := spec.check(text)) is not None
    )
    ask = prompts.FIX_RULES.format(task=state["task"], draft=text, problems=problems)
    role = sized(config.roles.rewrite, int(len(words(text)) * 1.5) + 60)
    [reply], usage = await write("rewrite", role, [ask], grammar_of(instructions_of(state)))
    return (drop_repeats(without_rules(reply, described(bad)).strip(), []) or text), usage


async def follow_instructions(
    text: str, state: RefineState, config: RunConfig
) -> tuple[str, Usage] | None:
    """The next version of `text` against the request's instructions, or None when it follows
    them all (the refiner then works on its other findings)."""
    specs = instructions_of(state)
    if not specs:
        return None
    if echoes(text, state) and calls(state, "refine"):  # redrafted, and said back again
        changes = restatements(text, state["task"], offset=state.get("iteration", 0))
        changes = changes[: max(0, MAX_REWORDS - calls(state, "reword"))]
        if changes:
            asked = what_is_asked(state["task"], text)
            text, used = await reword(text, changes, specs, state, config, asked)
            return repair_all(text, specs)[0], used
    if hollow(text, state):  # it says nothing (too short, a loop, the request): write it in full
        text, used = await redraft(specs, state, config)
        return repair_all(text, specs)[0], used
    if not failing(text, specs):
        return None
    conflicted = bool((state.get("plan") or {}).get("conflicts"))
    text, _ = repair_all(text, specs)
    text = regrouped(text, specs)
    bad = failing(text, specs)
    if not bad:
        return text, empty_usage()
    usage = empty_usage()
    room = MAX_REWORDS - calls(state, "reword")
    changes = sentence_changes(text, bad, offset=state.get("iteration", 0))[: max(0, room)]
    if changes:
        text, used = await reword(text, changes, specs, state, config)
        return repair_all(text, specs)[0], merge_usage(usage, used)
    short = shortfall(text, bad)
    if short and calls(state, "continue") < MAX_CONTINUATIONS:
        text, used = await grow(text, *short, state, config)
        return repair_all(text, specs)[0], merge_usage(usage, used)
    rewrites = calls(state, "rewrite")
    hopeless = all(spec.kind in UNMOVED_BY_REWRITE for spec in bad)
    if rewrites >= MAX_REWRITES or conflicted or hopeless:
        return text, usage  # no second rewrite, none for rules that cannot all hold
    text, used = await rewrite_to_rules(text, bad, state, config)
    return repair_all(text, specs)[0], merge_usage(usage, used)
