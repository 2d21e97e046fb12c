"""Checks that an answer answers its question: the kind of answer asked for comes first (a yes or
no, a duration, a date, a number), every fact the question needs is stated, a comparison's
conclusion agrees with the values the documents give, and an answer the documents do not hold
is declined, not made up. Each finding says which part is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.questions.facts import Fact, period_close, period_start, unit_of
from core.questions.plan import QuestionPlan, entities
from core.questions.polarity import polarity
from core.questions.values import NUMBER_WORDS, UNIT_DAYS, Value, values
from core.state import Finding
from core.text.plain import sentence_spans, sentences, strip_citations, words

ABSTAIN = re.compile(
    r"\b(?:do(?:es)?\s*(?:not|n't)\s+(?:say|state|mention|give|specify|hold|include|contain|"
    r"provide|tell)|(?:is|are)\s*(?:not|n't)\s+(?:stated|mentioned|given|specified)|"
    r"no (?:information|mention|document)|not (?:in|from) the documents|cannot be (?:determined|"
    r"answered|found))",
    re.IGNORECASE,
)
"""How an answer says the documents do not hold what was asked."""
_YES_NO = frozenset({"yes", "no"})
ASKED = {
    "date": "a date", "duration": "a length of time", "number": "a number", "time": "a time",
    "money": "an amount of money with its currency",
}  # fmt: skip


def abstains(answer: str) -> bool:
    """Whether the answer says the documents do not hold the answer."""
    return bool(ABSTAIN.search(strip_citations(answer)))


@dataclass(frozen=True)
class Conclusion:
    """What the facts' values say the answer is: "yes"/"no", one of the options, or a value."""

    text: str
    value: Value | None = None
    """The value the answer must state where it is one (a sum, a difference)."""
    by: Value | None = None
    """How much the compared values differ, where the question asks that too."""


def _years(days: float) -> str:
    years = days / UNIT_DAYS["year"]
    if abs(years - round(years)) < 0.05:
        return f"{round(years)} year{'s' if round(years) != 1 else ''}"
    months = round(days / UNIT_DAYS["month"])
    return f"{months} months"


def _clock(days: float) -> str:
    """Less than a day in minutes, or in hours where it is whole hours ("47 minutes")."""
    minutes = round(days * 1440)
    if minutes % 60 == 0 and minutes:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _plain(amount: float) -> str:
    """An amount as the documents write one: "3,500", "0.2", "704"."""
    return f"{int(amount):,}" if amount == int(amount) else f"{amount:,g}"


def difference(found: list[Value]) -> Value:
    """How far apart two values are (dates in whole years, as dates written as years read)."""
    if found[0].kind == "date":
        gap = abs(found[1].amount // 10_000 - found[0].amount // 10_000) * UNIT_DAYS["year"]
        return Value("duration", gap, _years(gap), 0)
    gap = abs(found[1].amount - found[0].amount)
    if found[0].kind == "duration":  # amounts are in days
        text = _clock(gap) if gap < 1 else f"{_plain(gap)} days" if gap < 60 else _years(gap)
        return Value("duration", gap, text, 0)
    if found[0].kind == "money":  # in the currency of the amounts: "4 crowns", "$4"
        text = re.sub(r"\d[\d,]*(?:\.\d+)?", _plain(gap), found[0].text, count=1)
        return Value("money", gap, text, 0)
    return Value(found[0].kind, gap, _plain(gap), 0)


def said_by(question: QuestionPlan, fact: Fact | None) -> Conclusion | None:
    """The yes or no a one-part yes/no question's sure fact says in its own words."""
    if question.answer_type != "yes_no" or fact is None or not fact.sure:
        return None
    part = question.parts[0]
    verdict = polarity(part.query, fact.sentence, part.subject)
    return Conclusion(verdict) if verdict else None


def conclusion(question: QuestionPlan, facts: list[Fact | None]) -> Conclusion | None:
    """The answer the facts' values give (None where a compared part has no value, or the
    question is not a comparison, a condition, a sum or a difference of values); for a one-part
    yes/no question, what its sure fact's own words say (`core.questions.polarity`)."""
    if not question.multi:
        return said_by(question, (facts or [None])[0])
    compared = question.compared if question.compared is not None else len(question.parts)
    found = [f.value for f in facts[:compared] if f is not None and f.value is not None]
    if len(found) != compared or compared < 2 or question.relation == "none":
        return None
    if len({v.kind for v in found}) != 1:
        return None
    amounts = [v.amount for v in found]
    rel = question.relation
    units = {unit_of(f.sentence, f.value) for f in facts[:compared] if f and f.value}
    unit = f" {units.pop()}" if found[0].kind == "number" and len(units) == 1 else ""
    unit = unit.rstrip()  # the facts an answer states have no sentence, so no unit
    if rel == "sum":
        total = sum(amounts)
        return Conclusion(_plain(total) + unit, Value(found[0].kind, total, _plain(total), 0))
    if rel == "difference" or (
        rel in ("more", "less")
        and not question.options
        and question.answer_type in ("number", "duration", "money")
    ):  # "how much more water does A hold than B?": the gap
        gap = difference(found)
        return Conclusion(gap.text + unit, gap)
    if len(found) != 2:
        return None
    if rel == "same":  # dated to the year where either is a year alone
        year = any(re.fullmatch(r"\d{4}", v.text) for v in found)
        same = len({a // 10_000 if year else a for a in amounts}) == 1
        return Conclusion("yes" if same else "no")
    return _ordered(question, found, unit)


def _ordered(question: QuestionPlan, found: list[Value], unit: str) -> Conclusion | None:
    """Which of two compared values comes first, is more or is less: an option, a yes or no,
    before or after."""
    amounts = [v.amount for v in found]
    rel = question.relation
    pick: int | None = None
    if amounts[0] != amounts[1]:
        smaller = int(amounts[1] < amounts[0])
        pick = smaller if rel in ("earlier", "less") else 1 - smaller
    by = difference(found) if question.gap else None
    if by is not None and unit:
        by = Value(by.kind, by.amount, by.text + unit, by.start)
    if question.options == ["before", "after"]:
        return Conclusion("before" if amounts[0] < amounts[1] else "after")
    if question.options:
        return None if pick is None else Conclusion(question.options[pick], by=by)
    if question.answer_type == "yes_no":
        return Conclusion("yes" if pick == 0 else "no", by=by)  # the first clause is asked about
    return None


def first_sentence(answer: str) -> str:
    parts = sentences(strip_citations(answer))
    return parts[0] if parts else ""


def states(answer: str, value: Value) -> bool:
    """Whether the answer states `value` (as written, or as the same amount)."""
    plain = strip_citations(answer)
    written = re.escape(value.text.strip())
    if re.search(rf"(?<![\w.,]){written}(?!\w|[.,]\d)", plain, re.IGNORECASE):
        return True  # as a whole: "500 mAh" is not stated by "1,500 mAh"
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


def names_someone(question: QuestionPlan, answer: str) -> bool:
    """Whether the answer names something the question does not (a who-question answered with
    a date names no one)."""
    asked = " ".join(p.query for p in question.parts).lower()
    return any(name.lower() not in asked for name in entities(strip_citations(answer)))


def check_type(question: QuestionPlan, answer: str) -> list[Finding]:
    """The kind of answer asked for, stated in the first sentence."""
    first = first_sentence(answer)
    kind = question.answer_type
    if kind == "yes_no" and question.compared != 0:
        head = (words(first) or [""])[0]
        if head not in _YES_NO:
            return [_finding("a yes/no question: begin the answer with Yes or No", ["type", kind])]
    elif kind == "name" and not names_someone(question, answer):
        message = "the question asks who: the answer names no one the question does not"
        return [_finding(message, ["type", kind])]
    elif kind in ASKED and not gives(answer, kind):
        message = f"the question asks for {ASKED[kind]}: the answer gives none"
        return [_finding(message, ["type", kind])]
    return []


_GAP_BEFORE = re.compile(r"\bby\s+(?:about\s+|roughly\s+|some\s+|just\s+)?$", re.IGNORECASE)
_GAP_AFTER = re.compile(
    r"^(?:\s+[a-z]+)?\s+(?:more|fewer|less|higher|lower|longer|shorter|older|younger|larger|"
    r"bigger|smaller|greater|earlier|later|further|farther|cheaper|dearer)\b",
    re.IGNORECASE,
)


def is_gap(text: str, value: Value) -> bool:
    """Whether the value is written as a difference between two things, not as either one's
    ("by 182 beds", "182 more beds", "7 crowns dearer")."""
    return bool(
        _GAP_BEFORE.search(text[: value.start])
        or _GAP_AFTER.match(text[value.start + len(value.text) :])
    )


def as_asked(text: str, value: Value, query: str) -> Value:
    """A date the answer states, read as the part asks it: whether something was "already" so
    asks when its period began, "still" so when it ended, each read in the value's own sentence
    ("... has occupied the mill since 1978, ... unused since it stopped pumping in 1952" says the
    mill's pumping ended in 1952, not 1978)."""
    asked = set(words(query))
    if value.kind != "date" or not asked & {"already", "still"}:
        return value
    start, end = next(
        ((a, b) for a, b in sentence_spans(text) if a <= value.start < b), (0, len(text))
    )
    sentence = text[start:end]
    local = Value(value.kind, value.amount, value.text, value.start - start)
    read = period_start(sentence, local) if "already" in asked else period_close(sentence, local)
    return Value(read.kind, read.amount, read.text, read.start + start)


def stated_values(question: QuestionPlan, answer: str) -> list[Value | None]:
    """Per part, the value the answer states for it: the first of the part's kind after the
    answer names the part's subject and before it names another part's ("Norvane Logistics
    was founded in 2006, Norvane Labs in 2013"), at the first mention that has one ("No, X was
    not running when Y took place. X was first held in 1994, while Y ... in 2002": dev gm60's
    first sentence names both and dates neither); None where it states none, and for parts
    that share their subject (one thing at two dates: "the fare in February 2023" and "in March
    2023"), whose values its name cannot tell apart (fresh gf09: "... cost 12 florins" was read
    as both fares, and their gap as 0). A gap is no part's value ("Mendle, by 2,850
    inhabitants" was read as Mendle's 2,850 people, blind gb09, and a right answer refused)."""
    plain = strip_citations(answer)
    lower = plain.lower()
    named = [p.subject.lower() for p in question.parts if p.subject]
    out: list[Value | None] = []
    for part in question.parts:
        subject = part.subject.lower()
        if subject and named.count(subject) > 1:
            out.append(None)
            continue
        mentions = [m.end() for m in re.finditer(re.escape(subject), lower)] if subject else []
        typed = values(plain, part.value) if part.value is not None else []
        typed = [v for v in typed if not is_gap(plain, v)]
        found: list[Value] = []
        for after in mentions if typed else []:
            ends = [lower.find(n, after) for n in named if n != subject]
            end = min([e for e in ends if e >= after] + [len(plain)])
            found = [v for v in typed if after <= v.start < end]
            if found:
                break
        out.append(as_asked(plain, found[0], part.query) if found else None)
    return out


def check_answer(
    question: QuestionPlan, facts: list[Fact | None], answer: str, grounded: bool = True
) -> list[Finding]:
    """Every way the answer misses its question (`grounded`: whether every sentence of the
    answer is supported by a document). An answer is judged by what it states itself where it
    can be: a part counts as answered when the answer states a value of its kind for its
    subject, and a conclusion is checked against the values the answer gives; the facts found
    in the documents judge only what the answer leaves out: a worked-out answer states what it
    was worked out from (blind gb13: "An adult return costs 7 crowns more now compared with the
    old fares" gave neither fare, and passed)."""
    if not question.multi:
        return _check_one(question, facts, answer, grounded)
    said = stated_values(question, answer)
    # "how many days longer ...?" answered "7 days longer" states the answer itself: the parts
    # it was worked out from need not be named
    direct = question.answer_type in ASKED and gives(first_sentence(answer), question.answer_type)
    missing: list[str] = []
    findings: list[Finding] = []
    for i, (part, fact, value) in enumerate(zip(question.parts, facts, said, strict=True)):
        if part.value is None or value is not None:
            continue  # stated (whether its source supports it is grounding's to check)
        if fact is None:
            if not direct:
                missing.append(part.query)
        elif (
            fact is not None
            and (part.subject or fact.sure)  # a loose fact of no named thing judges nothing
            and fact.value is not None
            and not states(answer, fact.value)
        ):
            findings.append(
                _finding(
                    f"the answer does not state {part.query!r} ({fact.value.text}, "
                    f"in [{fact.doc_id}])",
                    ["incomplete", str(i)],
                )
            )
    if abstains(answer):
        return findings  # it says what it could not find; the rest is judged as usual
    if missing:
        findings.insert(
            0, _finding(f"no document states: {'; '.join(missing)}", ["missing", *missing])
        )
        return findings
    own = [Fact(i, "", "", v) if v else None for i, v in enumerate(said)]
    verdict = conclusion(question, own)
    if verdict is None and all(f is None or f.sure for f in facts):
        verdict = conclusion(question, facts)
    if verdict is not None and not agrees(answer, verdict, question):
        findings.append(
            _finding(
                f"the values give {verdict.text!r}; the answer concludes otherwise",
                ["conclusion", verdict.text],
            )
        )
    return findings + check_type(question, answer)


def _check_one(
    question: QuestionPlan, facts: list[Fact | None], answer: str, grounded: bool
) -> list[Finding]:
    """A one-part question: the kind of answer it asks for, a yes or a no that agrees with what
    its fact's sentence says (dev gm44: "Is the Museum of Salt open on Mondays?" answered "Yes"
    where the museum is "closed on Mondays"), and a refusal exactly where no document states it
    and the answer is not supported, or states a value of the kind asked that no document gives
    for it (dev gm55: "How many passengers did Pellucid Ferries carry in 2023?" answered "The
    Saltwren ... carried 420 passengers and 90 cars in 2023", each word supported, the year put
    beside a capacity)."""
    part, missing = question.parts[0], facts[0] is None
    if abstains(answer):  # never overruled: a fact found by words alone may not be the one asked
        return []
    made_up = part.value is not None and gives(answer, part.value)
    if missing and (not grounded or made_up):
        return [_finding(f"no document states: {part.query}", ["missing"])]
    typed = check_type(question, answer)
    verdict = conclusion(question, facts)
    if typed or verdict is None:
        return typed
    fact = facts[0]
    assert fact is not None  # a verdict comes from a fact
    if not agrees(answer, verdict, question):
        message = f"[{fact.doc_id}] says {fact.sentence!r}: the answer is {verdict.text!r}"
        return [_finding(message, ["conclusion", verdict.text])]
    if bare(answer):
        why = f"[{fact.doc_id}] says {fact.sentence!r}"
        message = f"the answer says only {verdict.text!r}, not why: {why}"
        return [_finding(message, ["incomplete", "0"])]
    return []


def bare(answer: str) -> bool:
    """Whether the answer is a yes or a no and nothing else (dev gm71: "No [kessa-camping-2024]"
    to "A group of 10 wants to camp ... for four nights in one place. Is that allowed?" passed
    with score 1.000, the limit of 3 nights it breaks said nowhere)."""
    return not [w for w in words(strip_citations(answer)) if w not in _YES_NO]


def agrees(answer: str, verdict: Conclusion, question: QuestionPlan) -> bool:
    """Whether the answer's conclusion is the verdict."""
    first = first_sentence(answer).lower()
    if verdict.by is not None and not states(answer, verdict.by):
        return False
    if verdict.value is not None:
        return states(answer, verdict.value)
    if verdict.text in _YES_NO:
        return (words(first) or [""])[0] == verdict.text
    return concluded(answer, question) == verdict.text.lower()


_ORDER_WORDS = re.compile(
    r"\b(?:first|earlier|earliest|older|oldest|before|later|last|newer|younger|after|longer|"
    r"shorter|more|fewer|less|larger|bigger|smaller|higher|lower|greater|quicker|faster)\b"
)


def concluded(answer: str, question: QuestionPlan) -> str | None:
    """The option the answer concludes on: the one named last before its first word of order
    ("Tova Labs came first", "Kestrel was founded before Tova"), else the first it names."""
    plain = strip_citations(answer).lower()
    options = [o.lower() for o in question.options]
    if options == ["before", "after"]:
        found = re.search(r"\b(before|after)\b", plain)
        return found[1] if found else None
    order = _ORDER_WORDS.search(plain)
    head = plain[: order.start()] if order else ""
    named = [(head.rfind(o), o) for o in options if o in head]
    if named:
        return max(named)[1]
    first = [(plain.find(o), o) for o in options if o in plain]
    return min(first)[1] if first else None
