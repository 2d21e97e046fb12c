"""Drafting: one strong prompt that writes the first answer (the single-pass baseline)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from core.instructions import Instruction, grammars
from core.instructions.shape import SENTENCE_WORDS
from core.run_config import RoleModel, RunConfig, load_config
from core.state import RefineState, Usage
from core.text.citations import canonical_citations, fold_source_sentences
from core.text.plain import whole_sentences
from nodes import prompts
from nodes.context import context_block
from nodes.intake import cleaned
from nodes.plan import instructions_of, make_plan
from nodes.writing import without_rules, write

MAX_DRAFT_TOKENS = 1024
"""The most tokens a draft's cap is raised to for a long word count."""
GROWABLE = {
    "word_count": ("words", 1.0),
    "unique_word_count": ("words", 1.5),
    "pronoun_count": ("words", 10.0),
    "sentence_count": ("sentences", 1.0),
    "paragraph_count": ("paragraphs", 1.0),
}
"""Counts more text raises: the unit a text is sized in for them, and how many of that unit
one more of the count takes (about one word in ten is a pronoun)."""
WORDS_PER = {"words": 1, "sentences": SENTENCE_WORDS, "paragraphs": 80}
"""About how many words one of each unit takes."""


def constraint_notes(state: RefineState, instructions: bool = True) -> str:
    """The request's limits as plain sentences on one line (and its instructions' own
    descriptions where `instructions`)."""
    constraints = state.get("constraints") or {}
    notes = [
        note.format(value=constraints[key])  # type: ignore[literal-required]
        for key, note in prompts.CONSTRAINT_NOTES.items()
        if key in constraints
    ]
    if instructions:
        notes += described(instructions_of(state))
    return " ".join(notes)


def described(specs: list[Instruction]) -> list[str]:
    """Each instruction as the prompts word it."""
    return [spec.describe() for spec in specs]


def numbered(specs: list[Instruction]) -> str:
    """The instructions as a numbered list of plain sentences, for a drafting prompt."""
    return "\n".join(f"{i}. {rule}" for i, rule in enumerate(described(specs), 1))


def tidy(text: str, state: RefineState) -> str:
    """A model's text as the graph keeps it: citations of the request's documents in one form,
    a sentence that only names the source folded into the one it sources."""
    known = {d["id"] for d in state.get("documents") or []}
    return fold_source_sentences(canonical_citations(text, known), known)


def draft_sentences(words: list[str]) -> int:
    """How many sentences to ask for: a story of a beginning, a middle and an end even for a
    few words (two lines of six words read as a list, not a story); about four words a sentence
    for many."""
    return max(4, min(8, (len(words) + 3) // 4))


WORDS_NAMED = "the words given"
"""What a request's own list of its required words becomes where a prompt lists them itself;
said back in a story, it is plan talk (`nodes.validate.plan_talk`)."""


def without_word_list(task: str, words: list[str]) -> str:
    """`task` with its own list of the required words (three or more of them in a row, as
    "vest, snow, remove, ...") named instead of spelled out: the plan and the sub-tasks carry
    the words they need, and thirty words said twice are tokens for nothing in every call."""
    if len(words) < 3:
        return task
    word = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    run = rf"(?<!\w)(?:{word})(?:\s*(?:,|and|or)\s*(?:and\s+)?(?:{word})){{2,}}(?!\w)"
    return re.sub(run, WORDS_NAMED, task, flags=re.IGNORECASE)


def word_plan(words: list[str]) -> list[list[str]]:
    """The required words dealt out to the draft's sentences, in the order given, a few to each
    (`draft_sentences` of them): the model writes each sentence for its own handful instead of
    spreading a list of thirty words over a story, where it drops a third of them.

    Dealt by meaning instead (MiniLM groups of the same sizes: "snow, dunk, rink, winter",
    "headphone, cupcake, piano, wine") was tried on dev CommonGen-Hard 30-49 at 0cb6908 and not
    kept: refine_default's coverage 0.971 -> 0.977, every word used 11 -> 13 of 20, tokens
    1,949 -> 1,563 a task, but the final answers read worse to the second model (median
    perplexity 9.2 -> 12.9) and repeat their frames more (0.113 -> 0.203): a sentence given
    four things that go together lists them ("her comb and present in hand, her mower and wine
    in hand")."""
    n = min(draft_sentences(words), len(words))
    cuts = [round(i * len(words) / n) for i in range(n + 1)]
    return [words[a:b] for a, b in pairwise(cuts)]


def plan_lines(plan: list[list[str]]) -> str:
    return "\n".join(f"Sentence {i}: {', '.join(group)}" for i, group in enumerate(plan, 1))


def draft_prompt(state: RefineState) -> str:
    config = load_config(state["config"])
    words = (state.get("constraints") or {}).get("required_words") or []
    question = (state.get("plan") or {}).get("question") or {}
    if state.get("passages"):
        prompt = prompts.DRAFT_GROUNDED.format(
            context=context_block(state, config),
            task=state["task"],
            example_id=state["passages"][0]["doc_id"],  # a real id: a placeholder gets echoed
            form=prompts.ANSWER_FORMS.get(question.get("answer_type", ""), ""),
        )
    elif words:
        plan = word_plan(words)
        prompt = prompts.DRAFT_WORDS.format(
            task=without_word_list(state["task"], words),
            sentences=len(plan),
            plan=plan_lines(plan),
        )
    elif specs := instructions_of(state):
        prompt = prompts.DRAFT_INSTRUCTED.format(task=state["task"], rules=numbered(specs))
        notes = constraint_notes(state, instructions=False)
        return f"{prompt}\n{notes}" if notes else prompt
    else:
        prompt = prompts.DRAFT_FREE.format(task=state["task"])
    notes = constraint_notes(state)
    return f"{prompt}\n{notes}" if notes else prompt


def one_pass_messages(
    request: Mapping[str, Any], config: str = "single_pass"
) -> list[dict[str, str]] | None:
    """The chat messages a one-pass run under `config` sends its drafter for `request` (task
    and constraints, the instructions its rules read; the system prompt `write` adds): what a
    distilled student learns to answer with the loop's final answer, so that it meets the same
    prompt when it answers in one pass. None for a grounded request, whose prompt holds the
    passages retrieval picks for it."""
    if request.get("documents"):
        return None
    state: Any = cleaned({**request, "config": config})  # type: ignore[typeddict-item]
    state["plan"] = make_plan(state, load_config(config))
    prompt = draft_prompt(state)
    return [
        {"role": "system", "content": prompts.system_for(prompt)},
        {"role": "user", "content": prompt},
    ]


def words_wanted(spec: Instruction) -> int:
    """About how many words a text needs to hold for `spec`: a count more text raises at its
    low end, else what the rule itself needs (`Spec.words_needed`: a keyword in sentence N,
    a table of N rows)."""
    if spec.kind in GROWABLE:
        noun, per = GROWABLE[spec.kind]
        return int(spec.low() * per * WORDS_PER[noun])  # type: ignore[attr-defined]
    return spec.words_needed()


def draft_role(state: RefineState, config: RunConfig) -> RoleModel:
    """The drafter's model settings, its token cap raised where an instruction needs more
    words than the cap could hold (about 1.4 tokens a word, plus room): measured on IFBench
    dev, drafts capped at 200 tokens had 3 to 6 sentences where a keyword was ruled into
    sentence 24, 27 or 28, and continuing them never got there."""
    role = config.roles.draft
    wanted = max((words_wanted(spec) for spec in instructions_of(state)), default=0)
    cap = min(MAX_DRAFT_TOKENS, int(wanted * 1.4) + 60)
    return role.model_copy(update={"max_tokens": cap}) if cap > role.max_tokens else role


def grammar_of(specs: list[Instruction]) -> str | None:
    """The grammar a whole response is written under for `specs`: the first rule's that has
    one (two grammars do not combine; the rest are checked and repaired as any rule is), and
    none where another rule needs marks the grammars rule out (`grammars.UNWRITABLE`: an
    emoji after each sentence, a JSON answer), which would then never be met."""
    if any(spec.kind in grammars.UNWRITABLE for spec in specs):
        return None
    return next((g for spec in specs if (g := spec.grammar()) is not None), None)


async def write_draft(
    node: str, role: RoleModel, ask: str, grammar: str | None = None
) -> tuple[str, Usage]:
    """One whole text from `ask` (under `grammar`, where the model's server takes one); a reply
    cut at its token cap ends on its last full sentence (measured: a word redraft that looped on
    one sentence frame stopped at "... but the goat would never", and the next edit spliced a
    sentence onto that stump)."""
    [reply], usage = await write(node, role, [ask], grammar)
    if usage["output_tokens"] >= role.max_tokens - 2:
        reply = whole_sentences(reply)
    return reply, usage


async def draft(state: RefineState) -> dict[str, Any]:
    config = load_config(state["config"])
    specs = instructions_of(state)
    role, ask = draft_role(state, config), draft_prompt(state)
    reply, usage = await write_draft("draft", role, ask, grammar_of(specs))
    text = tidy(without_rules(reply, described(specs)), state)
    return {
        "draft": text,
        "first_draft": text,
        "iteration": 0,
        "usage": usage,
    }
