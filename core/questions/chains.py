"""The question planner's model half: a question that asks about one thing through another ("The
town where Gadwall Brewing is based - how many people live there?") needs two facts in turn, the
town first, then its people. The rules read such a question as one fact; one small JSON-mode
model call lists the look-ups it needs, and its reply is trusted only as far as it can be
checked: the first look-up is about a thing the question names and finds a name (it asks where,
which or who), the next is about "that" thing, and only a one-part plan of the rules is ever
split. Anything else is dropped and logged."""

from __future__ import annotations

import json
import logging
import re

from pydantic import BaseModel, Field, ValidationError

from core.questions.plan import Part, QuestionPlan, entities

log = logging.getLogger(__name__)


class LookUp(BaseModel):
    """One fact to look up, as the model words it."""

    about: str = Field(max_length=200)
    look_up: str = Field(min_length=3, max_length=300)


class LookUps(BaseModel):
    """The model's reply: the look-ups a question needs, in the order they are done."""

    facts: list[LookUp] = Field(min_length=1, max_length=4)


REPLY_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "look_ups", "schema": LookUps.model_json_schema()},
}
"""The reply's JSON schema, as an OpenAI `response_format`."""

_REFERS = re.compile(
    r"^(?:that|this|these|those|the same|it|its|they|their|there|the (?:one|latter))\b", re.I
)
"""How a look-up says it is about what the one before it found ("that town", "it")."""
_FINDS_A_NAME = re.compile(r"\b(?:where|which|who|whom|whose|what|that)\b", re.IGNORECASE)
"""A look-up that finds a name: a place, a thing or a person described, not named ("the town
where Gadwall Brewing is based", "which ferry it built"); "the lighthouse at Quaysend" is a
thing the question names already, so a look-up about "that lighthouse" chains nothing."""
_RELATIVE = re.compile(r"\s(?:where|which|whose|whom|who|that)\s|\s-\s", re.IGNORECASE)
"""A question worth asking the model about: a clause inside it describes a thing ("the town
where ...", "the yard that built ..."), or a dash sets one off."""


def worth_asking(question: str, plan: QuestionPlan) -> bool:
    """Whether the model may find a chain the rules missed: their plan has one part and the
    question describes a thing in a clause of its own."""
    return not plan.multi and bool(_RELATIVE.search(" ".join(question.split())))


def _plain(name: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", " ".join(name.split()), flags=re.IGNORECASE)


def _named_in(about: str, question: str) -> str:
    """The question's own name for `about` ("" where it names no such thing): one of the
    question's named things, inside what the model wrote or containing it."""
    said = _plain(about).lower()
    if not said or said not in question.lower():
        return ""
    for name in entities(question):
        if name.lower() in said or said in name.lower():
            return name
    return ""


def refers(about: str, found: str) -> bool:
    """Whether a look-up `about` the thing an earlier one `found` says so: "that town", "it",
    or the earlier look-up's own head noun again ("the boatyard" after "the boatyard that built
    the Goldeneye")."""
    about = " ".join(about.split())
    if _REFERS.match(about):
        return True
    head = _FINDS_A_NAME.split(found, maxsplit=1)[0].strip().lower()
    return bool(head) and _plain(about).lower() == _plain(head)


def parse(reply: str) -> LookUps | None:
    """The reply's look-ups, or None where it holds no valid JSON of that shape."""
    try:
        return LookUps.model_validate(json.loads(reply))
    except (json.JSONDecodeError, ValidationError) as exc:
        log.info("question chain: unusable reply %r (%s)", reply[:200], type(exc).__name__)
        return None


def chained(plan: QuestionPlan, reply: str, question: str) -> QuestionPlan | None:
    """The rules' one-part `plan` split into a chain as the model's `reply` says: the first
    look-up finds the thing the question describes, the second asks the question of it (its
    subject is taken from the first fact found, `facts.bridged`). None where the reply is
    unusable or chains nothing, so the rules' plan stands."""
    found = parse(reply)
    if plan.multi or found is None or len(found.facts) < 2:
        return None
    first, then = found.facts[0], found.facts[1]
    subject = _named_in(first.about, question)
    if not subject:
        log.info("question chain: dropped %r (not about a thing the question names)", first)
        return None
    if not _FINDS_A_NAME.search(first.look_up) or not refers(then.about, first.look_up):
        return None  # two look-ups, but the second is not about what the first finds
    asked, query = plan.parts[0], " ".join(first.look_up.split())
    if subject.lower() not in query.lower():  # "which ferry it built": whose ferry
        query = f"{subject}: {query}"
    parts = [
        Part(query=query, subject=subject),
        Part(query=" ".join(then.look_up.split()), value=asked.value, bridge=True),
    ]
    return QuestionPlan(answer_type=plan.answer_type, parts=parts, compared=0)
