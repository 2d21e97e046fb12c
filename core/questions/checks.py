"""Checks that an answer answers its question: the kind of answer asked for comes first (a yes or
no, a duration, a date, a number), every fact the question needs is stated, a comparison's
conclusion agrees with the values the documents give, and an answer the documents do not hold
is declined, not made up. Each finding says which part is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.questions.facts import Fact
from core.questions.plan import QuestionPlan
from core.questions.values import NUMBER_WORDS, UNIT_DAYS, Value, values
from core.state import Finding
from core.text.plain import sentences, strip_citations, words

ABSTAIN = re.compile(
    r"\b(?:do(?:es)?\s*(?:not|n't)\s+(?:say|state|mention|give|specify|hold|include|contain|"
    r"provide|tell)|(?:is|are)\s*(?:not|n't)\s+(?:stated|mentioned|given|specified)|"
    r"no (?:information|mention|document)|not (?:in|from) the documents|cannot be (?:determined|"
    r"answered|found))",
    re.IGNORECASE,
)
"""How an answer says the documents do not hold what was asked."""
_YES_NO = {"yes": "yes", "no": "no"}
ASKED = {"date": "a date", "duration": "a length of time", "number": "a number", "time": "a time"}
ASKED = {"date": "a date", "duration": "a length of time", "number": "a number", "time": "a time"}


def abstains(answer: str) -> bool:
    """Whether the answer says the documents do not hold the answer."""
    return bool(ABSTAIN.search(strip_citations(answer)))


@dataclass(frozen=True)
class Conclusion:
    """What the facts' values say the answer is: "yes"/"no", one of the options, or a value."""

    text: str
    value: Value | None = None


def _years(days: float) -> str:
    years = days / UNIT_DAYS["year"]
    if abs(years - round(years)) < 0.05:
        return f"{round(years)} year{'s' if round(years) != 1 else ''}"
    months = round(days / UNIT_DAYS["month"])
    return f"{months} months"


def _plain(amount: float) -> str:
    return str(int(amount)) if amount == int(amount) else f"{amount:g}"


def conclusion(question: QuestionPlan, facts: list[Fact | None]) -> Conclusion | None:
    """The answer the facts' values give (None where a part has no value, or the question is
    not a comparison, a condition, a sum or a difference of two values)."""
    found = [f.value for f in facts if f is not None and f.value is not None]
    if len(found) != len(question.parts) or len(found) < 2 or question.relation == "none":
        return None
    if len({v.kind for v in found}) != 1:
        return None
    amounts = [v.amount for v in found]
    rel = question.relation
    if rel == "sum":
        total = sum(amounts)
        return Conclusion(_plain(total), Value(found[0].kind, total, _plain(total), 0))
    if rel == "difference":
        if found[0].kind == "date":  # whole years apart, as dates written as years read
            gap = abs(amounts[1] // 10_000 - amounts[0] // 10_000) * UNIT_DAYS["year"]
            text = _years(gap)
            return Conclusion(text, Value("duration", gap, text, 0))
        gap = abs(amounts[1] - amounts[0])
        return Conclusion(_plain(gap), Value(found[0].kind, gap, _plain(gap), 0))
    if amounts[0] == amounts[1]:
        holds = False
        pick = None
    else:
        smaller = int(amounts[1] < amounts[0])
        pick = smaller if rel in ("earlier", "less") else 1 - smaller
        holds = pick == 0  # the question's first clause is the one it asks about
    if question.options == ["before", "after"]:
        return Conclusion("before" if amounts[0] < amounts[1] else "after")
    if question.options:
        return None if pick is None else Conclusion(question.options[pick])
    if question.answer_type == "yes_no":
        return Conclusion("yes" if holds else "no")
    return None


def first_sentence(answer: str) -> str:
    parts = sentences(strip_citations(answer))
    return parts[0] if parts else ""


def states(answer: str, value: Value) -> bool:
    """Whether the answer states `value` (as written, or as the same amount)."""
    plain = strip_citations(answer)
    if value.text.lower() in plain.lower():
        return True
    said = values(plain, value.kind)
    if value.kind == "date":  # "in 2021" states "March 2021"
        return any(v.amount // 10_000 == value.amount // 10_000 for v in said)
    return any(abs(v.amount - value.amount) < 1e-6 for v in said)


def _finding(message: str, data: list[str]) -> Finding:
    return {"source": "answer", "severity": "error", "message": message, "data": data}


def gives(answer: str, kind: str) -> bool:
    """Whether the answer states a value of `kind` (a count may be written in words)."""
    plain = strip_citations(answer)
    if values(plain, kind):  # type: ignore[arg-type]
        return True
    counted = set(words(plain)) & (NUMBER_WORDS.keys() - {"a", "an"})
    return kind == "number" and bool(counted)


def check_type(question: QuestionPlan, answer: str) -> list[Finding]:
    """The kind of answer asked for, stated in the first sentence."""
    first = first_sentence(answer)
    kind = question.answer_type
    if kind == "yes_no":
        head = (words(first) or [""])[0]
        if head not in _YES_NO:
            return [_finding("a yes/no question: begin the answer with Yes or No", ["type", kind])]
    elif kind in ASKED and not gives(answer, kind):
        message = f"the question asks for {ASKED[kind]}: the answer gives none"
        return [_finding(message, ["type", kind])]
    return []


def check_answer(
    question: QuestionPlan, facts: list[Fact | None], answer: str, grounded: bool = True
) -> list[Finding]:
    """Every way the answer misses its question (`grounded`: whether every sentence of the
    answer is supported by a document)."""
    missing = [question.parts[i].query for i, f in enumerate(facts) if f is None]
    if abstains(answer):
        if not missing and (question.multi or not grounded):
            return []  # the facts were found by loose means: a refusal is not overruled by them
        if not missing:
            return [
                _finding("the answer says the documents do not hold it, but they do", ["abstain"])
            ]
        return []
    findings: list[Finding] = []
    if missing and (question.multi or not grounded):
        findings.append(
            _finding(f"no document states: {'; '.join(missing)}", ["missing", *missing])
        )
        return findings
    findings += check_type(question, answer)
    if question.multi:
        for fact in facts:
            if fact is not None and fact.value is not None and not states(answer, fact.value):
                part = question.parts[fact.part].query
                findings.append(
                    _finding(
                        f"the answer does not state {part!r} ({fact.value.text}, "
                        f"in [{fact.doc_id}])",
                        ["incomplete", str(fact.part)],
                    )
                )
    verdict = conclusion(question, facts)
    if verdict is not None and not agrees(answer, verdict, question):
        findings.append(
            _finding(
                f"the documents' values give {verdict.text!r}; the answer says otherwise",
                ["conclusion", verdict.text],
            )
        )
    return findings


def agrees(answer: str, verdict: Conclusion, question: QuestionPlan) -> bool:
    """Whether the answer's conclusion is the verdict."""
    first = first_sentence(answer).lower()
    if verdict.value is not None:
        return states(answer, verdict.value)
    if verdict.text in _YES_NO:
        return (words(first) or [""])[0] == verdict.text
    picked = verdict.text.lower()
    others = [o.lower() for o in question.options if o.lower() != picked]
    if picked not in first:
        return False
    return all(o not in first or first.index(picked) < first.index(o) for o in others)
