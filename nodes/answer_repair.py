"""Repairing an answer that misses its question: written again from the facts the question
needs (each part's source sentence, and the conclusion their values give), or, where the
model's version still misses, composed from those source sentences themselves; where a part is
in no document, the answer says so instead of filling the gap."""

from __future__ import annotations

import re
from dataclasses import replace

from core.questions.checks import Conclusion, check_answer, conclusion, stated_values
from core.questions.facts import Fact
from core.questions.plan import RELATIONS, Part, QuestionPlan
from core.run_config import RunConfig
from core.state import RefineState, Usage, empty_usage
from core.text.plain import sentences, strip_citations
from nodes import prompts
from nodes.context import context_block
from nodes.draft import tidy
from nodes.validate import (
    SUPPORT_OVERLAP,
    check_grounding,
    premise,
    question_facts,
    sources_of,
    support,
)
from nodes.writing import write

_PRONOUN = re.compile(r"^(It|They|He|She)\b|^(Its|Their|His|Her)\b")
_PERSONAL = re.compile(r"^(?:He|She|His|Her)\b")
_INNER_OWNER = re.compile(r"(?<=\s)(its|it)\b")
_NAMED = re.compile(r"\b[A-Z]")
"""A capitalised word after a sentence's first: something named that an "its" may stand for."""


def cited(fact: Fact, subject: str = "") -> str:
    """A fact's source sentence with its citation, an opening pronoun replaced by what it stands
    for, the thing its document is about or else the part's subject ("Its hulls carry ..."
    quoted alone says whose hulls nowhere; a "She" or "His" is the part's subject where it has
    one, a person), and so an "its" inside it that nothing named before
    ("Among its 14,000 objects is the first cabin of the cable car": blind gb04, which asked
    where that cabin is, and was told nowhere that this was the Hollerstead Alpine Museum), and
    so an "it" ("At the 2021 census it had 11,260 residents")."""
    sentence = strip_citations(fact.sentence).rstrip().rstrip(".")
    # "She ran the business until 1994" in Pellor Launches' document stands for the person
    # the part asks about (Agnes Pellor), not for the firm (blind3 gd14)
    personal = _PERSONAL.match(sentence) and subject and subject != fact.about
    subject = subject if personal else fact.about or subject
    if subject:  # at the sentence's start: "The Orne Gallery", not "the Orne Gallery"
        named = subject[0].upper() + subject[1:]
        sentence = _PRONOUN.sub(lambda m: named if m[1] else f"{named}'s", sentence, count=1)
    inner = _INNER_OWNER.search(sentence)
    if fact.about and inner and not _NAMED.search(sentence, 1, inner.start()):
        owner = re.sub(r"^The\b", "the", fact.about) + ("'s" if inner[1] == "its" else "")
        sentence = f"{sentence[: inner.start()]}{owner}{sentence[inner.end() :]}"
    return f"{sentence} [{fact.doc_id}]."


def lead(verdict: Conclusion | None, facts: list[Fact]) -> str:
    """The direct answer a composed answer opens with, citing the documents it was worked out
    from ("Yes [a, b].", "Kestrel Freight [a, b].", "43 [a, b].")."""
    if verdict is None:
        return ""
    text = verdict.text + (f", by {verdict.by.text}" if verdict.by else "")
    sources = ", ".join(dict.fromkeys(f.doc_id for f in facts))
    return f"{text[0].upper()}{text[1:]} [{sources}]."


def compose(question: QuestionPlan, facts: list[Fact | None]) -> str:
    """An answer built from the facts alone: the conclusion their values give, then each
    fact's source sentence with its citation, then what no document says."""
    found = [f for f in facts if f is not None]
    parts = [lead(conclusion(question, facts), found)]
    parts += [cited(f, question.parts[f.part].subject) for f in found]
    missing = [question.parts[i] for i, f in enumerate(facts) if f is None]
    if missing and not found:
        parts.append("The documents do not hold the answer to this question.")
    parts += [unstated(part) for part in (missing if found else [])]
    return " ".join(p for p in parts if p)


def unstated(part: Part) -> str:
    """The sentence that declines one part ("The documents do not say when the Mirela garden
    opened.")."""
    clause = " ".join(w for w in part.query.rstrip("?").split() if w.lower() not in RELATIONS)
    if part.value == "date":
        return f"The documents do not say when {clause}."
    if part.subject:
        return f"The documents do not give this for {part.subject}."
    return f"The documents do not say: {clause}."


def with_stated(
    question: QuestionPlan, facts: list[Fact | None], text: str, state: RefineState
) -> list[Fact | None]:
    """The facts, each part no document was found for taken from the answer itself where it
    states a value for it in a sentence its sources support (the search misses some facts the
    model found: a repair must not throw them away)."""
    passages = [(p["doc_id"], p["text"]) for p in state.get("passages") or []]
    if not question.multi or not passages:
        return facts
    said = stated_values(question, text)
    out = list(facts)
    for i, (fact, value) in enumerate(zip(facts, said, strict=True)):
        if fact is not None or value is None:
            continue
        said_in = re.compile(rf"(?<![\w.,]){re.escape(value.text)}(?![\w]|[.,]\d)")
        sentence = next((s for s in sentences(text) if said_in.search(s)), "")
        clauses = re.split(r"[,;]\s+|\s+(?:and|while|but|whereas)\s+", strip_citations(sentence))
        bare = next((c for c in clauses if said_in.search(c)), "").strip()
        doc_id, source = max(passages, key=lambda p: support(bare, p[1], state["task"]))
        if bare and support(bare, source, state["task"]) >= SUPPORT_OVERLAP:
            out[i] = Fact(i, doc_id, bare, value)
    return out


def corroborated(
    question: QuestionPlan, facts: list[Fact | None], text: str, state: RefineState
) -> list[Fact | None]:
    """The facts, each one found by loose means (not `sure`) made sure where the answer, in a
    sentence its sources support, states the same value for the same part: two readings, the
    search's and the model's, agree on it (blind gb11: "No. The telescope ... was installed in
    1958, but the Aubery Dam was completed in 1964", both dates right and the dam's fact loose,
    so no conclusion was worked out and the wrong "No" was kept)."""
    said = stated_values(question, text)
    passages = [(p["doc_id"], p["text"]) for p in state.get("passages") or []]
    given = premise(state)  # worked out once, not once a sentence
    grounded = [s for s in sentences(text) if sources_of(s, passages, given)]
    out = list(facts)
    for i, (fact, value) in enumerate(zip(facts, said, strict=True)):
        if (
            fact is not None
            and not fact.sure
            and fact.value is not None
            and value is not None
            and value.kind == fact.value.kind
            and value.amount == fact.value.amount
            and any(value.text in s for s in grounded)
        ):
            out[i] = replace(fact, sure=True)
    return out


def fact_sheet(question: QuestionPlan, facts: list[Fact | None]) -> str:
    return "\n".join(
        f"- {cited(f, question.parts[f.part].subject)}" for f in facts if f is not None
    )


async def answer_from_facts(text: str, state: RefineState, config: RunConfig) -> tuple[str, Usage]:
    """A new answer to the question: the model writes it from the facts (and the worked-out
    conclusion; for a one-part question the passages), kept if it answers the question and is
    supported, else the facts composed (`text` kept for a one-part question its fact's words
    give no yes or no to); no call where a part is in no document (the answer says which)."""
    question, found = question_facts(state)
    assert question is not None, "answer_from_facts needs a planned question"
    facts = corroborated(question, with_stated(question, found, text, state), text, state)
    if any(f is None for f in facts) or not any(facts):
        return compose(question, facts), empty_usage()
    sure = all(f is not None and f.sure for f in facts)
    verdict = conclusion(question, facts) if sure else None
    # one fact found by loose means is a hint, not the answer: the model reads the passages
    sheet = fact_sheet(question, facts) if question.multi else context_block(state, config)
    ask = prompts.ANSWER_FROM_FACTS.format(
        task=state["task"],
        facts=sheet,
        conclusion=f"Worked out from these facts, the answer is: {verdict.text}.\n"
        if verdict
        else "",
        form=prompts.ANSWER_FORMS.get(question.answer_type, ""),
    )
    [reply], usage = await write("answer", config.roles.refine, [ask])
    written = tidy(reply.strip(), state)
    grounded = check_grounding(written, state)[0] == 1.0
    if written and grounded and not check_answer(question, facts, written, grounded):
        return written, usage
    # a one-part question's own sentence composes a right answer where it says yes or no
    composable = sure and (question.multi or verdict is not None)
    return (compose(question, facts) if composable else text), usage
