"""A word story told again one sentence at a time: each sentence of the plan asked for its own
few words, continuing the story so far, and kept only if it is a new sentence of the story.

The drafter asks for the whole story in one call, and the 1.5B model sometimes answers with the
plan's word groups strung together as sentences ("Rink, hill, gear gear the stage."), a
description of the plan, or a story of its own that leaves most of the words out. Asked for the
whole story again (the plan on another seed), it did the same kind of thing: measured on the
eight first drafts of dev CommonGen-Hard 0-29 that listed their words (refine_default at
3951377), the redrafts used 0.46 of the words on average (0.00 to 0.87). Asked for one sentence
at a time, each for its plan group and shown the last two sentences, the same eight stories used
0.76 (0.63 to 0.87), about 850 tokens each (prototype in the closing note of issue 15).
"""

from __future__ import annotations

import re

from core.run_config import RunConfig
from core.state import RefineState, Usage, empty_usage, merge_usage
from core.text.plain import sentences, unquote
from core.text.word_use import misused
from nodes import prompts
from nodes.draft import word_plan
from nodes.validate import listing_sentences, overlap, word_bag
from nodes.word_edits import required_words
from nodes.writing import on_round, write

CONTEXT_SENTENCES = 2
"""How many of the story's last sentences a sentence's ask shows: the prototype's best wording
was tried with two (0.76 of the words); one, tried only with another wording, gave 0.70."""
COPY_JACCARD = 0.5
"""A reply sentence sharing this much of its words with a sentence told before says that one
again with a new opening (read in the 30-task dev run at da7699e, which kept sentences under
the validator's 0.8: "As the person reached the station, they noticed that their coat was
starting to soak up the soap." after "As the person continued to float, they noticed that their
coat was starting to soak up the soap.", 0.78; two more pairs at 0.58 and 0.59)."""
ECHO_GRAM = 4
"""A reply sentence sharing a run of this many words with the ask's own instruction said the
instruction back ("At most 25 words, about the same people, ...": read in the prototype)."""


def sentence_ask(told: list[str], words: list[str]) -> str:
    """The ask for the story's next sentence (its first where nothing is told yet)."""
    listed = ", ".join(words)
    if not told:
        return prompts.STORY_OPENING.format(words=listed)
    return prompts.STORY_NEXT.format(story=" ".join(told[-CONTEXT_SENTENCES:]), words=listed)


def _grams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z']+", text.lower())
    return {tuple(words[i : i + ECHO_GRAM]) for i in range(len(words) - ECHO_GRAM + 1)}


_INSTRUCTION_GRAMS = _grams(prompts.STORY_NEXT) | _grams(prompts.STORY_OPENING)


def new_sentence(reply: str, told: list[str], words: list[str] | None = None) -> str:
    """The reply's first sentence that is a new sentence of the story: a whole sentence, not a
    list of words, not one told already or nearly (`COPY_JACCARD`; nor one that holds one told:
    the model often says the last sentence again and goes on), not the ask's instruction said
    back, and not one that writes one of its `words` that is a thing as an action ("the priest
    rinks it": `core.text.word_use`); "" if none."""
    for candidate in sentences(unquote(reply.strip())):
        candidate = candidate.strip()
        if not candidate or candidate[-1] not in ".!?\"'":
            continue
        bag = word_bag(candidate)
        if any(overlap(bag, word_bag(s)) >= COPY_JACCARD for s in told):
            continue
        if any(s.rstrip(".!?") in candidate for s in told):
            continue
        if _grams(candidate) & _INSTRUCTION_GRAMS or listing_sentences(candidate):
            continue
        if misused(candidate, words or []):
            continue
        return candidate
    return ""


async def tell_by_sentence(state: RefineState, config: RunConfig) -> tuple[str, Usage]:
    """The story told again, one call per group of its word plan (in order, each shown the
    story so far); a group whose reply gives no new sentence is skipped, its words left to the
    word rounds that follow. Calls are made as `redraft`: a run tells its story again once."""
    role = on_round(config.roles.refine, state)
    told: list[str] = []
    usage = empty_usage()
    for group in word_plan(required_words(state)):
        [reply], used = await write("redraft", role, [sentence_ask(told, group)])
        usage = merge_usage(usage, used)
        if sentence := new_sentence(reply, told, group):
            told.append(sentence)
    return " ".join(told), usage
