"""Asking the model for text: each prompt with the system prompt it needs, each reply without
the scaffolding of our own prompt that a small model sometimes echoes back after its answer,
and without its talk about the reply itself."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from core.llm.factory import complete
from core.run_config import RoleModel
from core.state import RefineState, Usage
from nodes import prompts

_ABOUT_REPLY = r"(?:response|answer|version|rewrite|revision|text)s?"
_LEAD_IN = re.compile(
    rf"(?:(?:sure|certainly|of course|absolutely|okay)[!.,]?(?:\s+here(?:'s| is| are)\b[^\n]*)?"
    rf"|here(?:'s| is| are)\s+"
    rf"(?:the|a|an|your|my)\s+(?:[\w-]+\s+){{0,3}}{_ABOUT_REPLY}\b[^\n]{{0,80}}:)\s*",
    re.IGNORECASE,
)
"""A first line that only announces the reply: "Sure!", "Here is the revised response:"."""
_SELF_REFERENCE = re.compile(
    rf"\b(?:the|this|my|above)\s+(?:(?:new|revised|rewritten|updated|final|complete)\s+)?"
    rf"{_ABOUT_REPLY}\b",
    re.IGNORECASE,
)
_CLAIM = re.compile(
    r"\b(?:rules?|requirements?|instructions?|constraints?|follows|adheres|meets|satisfies"
    r"|(?:now|exactly)\s+(?:includes|contains|uses|has))\b",
    re.IGNORECASE,
)


def self_talk(paragraph: str) -> bool:
    """Whether `paragraph` talks about the reply rather than being part of it ("The response
    now follows every rule and keeps its content.")."""
    if paragraph.lstrip().upper().startswith("P."):
        return False  # a postscript is the response's own
    return bool(_SELF_REFERENCE.search(paragraph) and _CLAIM.search(paragraph))


def without_self_talk(reply: str) -> str:
    """`reply` without a first line that only announces it and without closing paragraphs that
    say what it does; a reply that is nothing else is left as it is (measured on IFBench dev:
    three of 23 final answers ended "The response now follows every rule and keeps its
    content." or began "Here is the complete response:", after a whole rewrite)."""
    text = reply.strip()
    first, _, rest = text.partition("\n")
    if rest.strip() and _LEAD_IN.fullmatch(first.strip() + " "):
        text = rest.strip()
    while True:
        breaks = list(re.finditer(r"\n\s*\n", text))
        if not breaks or not self_talk(text[breaks[-1].end() :]):
            break
        text = text[: breaks[-1].start()].rstrip()
    return text if text != reply.strip() else reply


ECHO_SHARE = 0.6
"""A reply's line made this much of one rule's wording is the rule said back, not the answer."""


def without_rules(reply: str, rules: list[str]) -> str:
    """`reply` without its lines that mostly repeat one of `rules` (the instructions as our
    prompt words them; their quoted words are left out of the match, as those may be the
    answer's own). Measured on IFBench dev: "Nested brackets (and [brackets {and braces}]) at
    least 5 levels deep:" headed two final answers, the rule's own example said back."""
    bare = [re.sub(r"(?<!\w)([\"']).*?\1(?!\w)", "\0", rule).lower() for rule in rules]

    def echoed(line: str) -> bool:
        line = line.strip().lower()
        if len(line) < 12:
            return False
        for rule in bare:
            match = SequenceMatcher(None, line, rule, autojunk=False).find_longest_match()
            if match.size >= ECHO_SHARE * len(line):
                return True
        return False

    lines = reply.split("\n")
    kept = [line for line in lines if not echoed(line)]
    if len(kept) == len(lines) or not any(line.strip() for line in kept):
        return reply
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def on_round(role: RoleModel, state: RefineState) -> RoleModel:
    """`role` with a seed of this round's own: a prompt asked again in a later round (the
    sentence a keyword is ruled into, a draft asked for again) would get the same reply again
    on the role's fixed seed. A role without a seed is left to sample as it does."""
    if role.seed is None:
        return role
    return role.model_copy(update={"seed": role.seed + state.get("iteration", 0) + 1})


async def write(
    node: str, role: RoleModel, asks: list[str], grammar: str | None = None
) -> tuple[list[str], Usage]:
    """One reply per prompt (concurrently), under `grammar` where the model's server takes one,
    each cut where it starts repeating a prompt's own wording (measured: a whole rewrite came
    back with "The response breaks these rules: ..." and the rules after the answer, and was
    kept as the final answer), and without its talk about itself (`without_self_talk`)."""
    replies, usage = await complete(node, role, asks, prompts.system_for(*asks), grammar=grammar)
    return [without_self_talk(prompts.unechoed(reply)) for reply in replies], usage
