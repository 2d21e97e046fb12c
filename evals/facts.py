"""Key facts of grounded answers: whether an answer states each key fact, whether it abstains
("the documents do not say"), and the metrics built on them (no model involved)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from core.text.plain import strip_citations
from evals.datasets import EvalTask

KEY_FACT_RECALL, FULLY_CORRECT, ABSTAINED = "key_fact_recall", "fully_correct", "abstained"
FACT_METRICS = (KEY_FACT_RECALL, FULLY_CORRECT, ABSTAINED)

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70}
_TENS |= {"eighty": 80, "ninety": 90}
NUMBER_WORDS: dict[str, int] = {word: n for n, word in enumerate(_UNITS.split())} | _TENS
"""Number words read as digits: zero to twenty and the tens to ninety ("twenty-one" is 21).
Nothing else is rewritten: "two weeks" matches "14 days" only when a fact lists both."""
_COMPOUND = re.compile(
    r"(?<![\w-])(" + "|".join(_TENS) + r")[- ](one|two|three|four|five|six|seven|eight|nine)"
    r"(?![\w-])"
)
_NUMBER_WORD = re.compile(r"(?<![\w-])(" + "|".join(NUMBER_WORDS) + r")(?!\w)")
_THOUSANDS = re.compile(r"(?<=\d)[,\u00a0\u202f](?=\d{3}(?!\d))")
_PERCENT = re.compile(r"(?<=\d)\s*(?:%|per cent\b)")
_SPACE = re.compile(r"\s+")
_SAME = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-", "‑": "-", "\u00a0": " "})


def normalise(text: str) -> str:
    """Lower case, citations out, typographic quotes and dashes plain, thousands separators
    dropped ("1,200" = "1200"), number words as digits ("fourteen" = "14"), "%" and "per cent"
    as "percent", white space single."""
    text = strip_citations(text).lower()
    text = _THOUSANDS.sub("", text.translate(_SAME))
    text = _COMPOUND.sub(lambda m: str(NUMBER_WORDS[m[1]] + NUMBER_WORDS[m[2]]), text)
    text = _NUMBER_WORD.sub(lambda m: str(NUMBER_WORDS[m[1]]), text)
    text = _PERCENT.sub(" percent", text)
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def _form_pattern(form: str) -> re.Pattern[str]:
    """A form matched on word boundaries; a number is never part of a longer one ("17" is not
    in "2017", "2" is not in "2.80")."""
    body = re.escape(normalise(form)).replace(r"\ ", r"\s+")
    return re.compile(r"(?<!\w)(?<!\d[.,])" + body + r"(?!\w)(?![.,]\d)")


def states(answer: str, forms: list[str]) -> bool:
    """Whether `answer` states a fact: any of its surface forms occurs in it."""
    text = normalise(answer)
    return any(_form_pattern(form).search(text) for form in forms if form.strip())


def stated_facts(answer: str, key_facts: list[list[str]]) -> list[bool]:
    """For each key fact (a list of acceptable forms), whether the answer states it."""
    return [states(answer, forms) for forms in key_facts]


_DOCS = (
    r"(?:the |these |those |this |your |any |any of the |provided |given |available )*"
    r"(?:provided |given |available |supplied |retrieved |source )?"
    r"(?:documents?|sources?|texts?|passages?|context|excerpts?|materials?|information)"
    r"(?:\s+(?:provided|given|available|supplied|here|above|below))?"
)
_NOT = r"(?:not|n't|never)"
_NOT_FIRST = r"(?:\bnot|\bnever|n't)"
ABSTENTION_PHRASES: tuple[str, ...] = (
    # "the documents do not say", "it doesn't mention", "they never state"
    rf"\b(?:do|does|did)\s*{_NOT}\s+(?:explicitly\s+|directly\s+|actually\s+)?"
    r"(?:say|state|mention|specify|indicate)\b",
    # "the documents do not give / contain / name ...": with a document as subject only ("the
    # plan does not include backups" is an answer, not an abstention)
    rf"\b{_DOCS}\s+(?:do|does|did)\s*{_NOT}\s+(?:\w+\s+)?"
    r"(?:give|contain|include|provide|list|cover|hold|have|offer|address|answer|describe|name"
    r"|report|disclose|reveal|tell)\b",
    # "none of the documents", "neither document", "no document says"
    rf"\b(?:none of {_DOCS}|neither (?:document|source|text|passage))",
    r"\bno (?:document|source|passage|text) (?:says|states|mentions|gives|contains|specifies"
    r"|provides|lists|names)\b",
    # "is not stated", "isn't mentioned", "not specified", "never mentioned"
    rf"{_NOT_FIRST}\s+(?:explicitly\s+|directly\s+|clearly\s+)?"
    r"(?:stated|mentioned|specified)\b",
    # "not given in the documents", "not in the provided text", "does not appear in the text"
    rf"{_NOT_FIRST}\s+(?:\w+\s+)?(?:in|within|from|among|by|anywhere in)\s+{_DOCS}\b",
    # "no information", "no mention of", "no details about", "silent on"
    r"\bno (?:information|mention|indication)\b",
    r"\bno (?:details?|figures?) (?:about|on|of|regarding|for|is|are)\b",
    r"\bsilent (?:on|about|as to)\b",
    # "cannot be determined from", "can't tell", "unable to determine", "impossible to say"
    r"\b(?:cannot|can ?not|can't|could not|couldn't|unable to|impossible to|not possible to)"
    r"\s+(?:be\s+)?(?:determined?|tell|told|say|said|answer(?:ed)?|confirm(?:ed)?|establish"
    r"(?:ed)?|infer(?:red)?|work(?:ed)? out|find|know)\b",
    # "I don't know", "not enough information", "insufficient information", "unclear from"
    rf"\b(?:i|we)\s+(?:do|did)\s*{_NOT}\s+know\b",
    r"\b(?:not enough|insufficient) (?:information|detail|data|evidence)\b",
    rf"\b(?:unclear|not clear|unknown) from\s+{_DOCS}\b",
)
"""Ways an answer says the documents do not hold the answer, as regular expressions over the
lower-cased answer ("the documents do not say", "does not mention", "is not stated",
"no information", "cannot be determined from", "the documents don't give", "none of the
documents mention", "not in the documents", "I don't know"...). A denial of fact ("the plan
does not include backups", "refunds are not given") is not one: verbs of containing count only
with a document, source or text as their subject."""
_ABSTENTION = re.compile("|".join(f"(?:{p})" for p in ABSTENTION_PHRASES))


def abstains(answer: str) -> bool:
    """Whether the answer says the documents do not hold (part of) the answer."""
    text = _SPACE.sub(" ", strip_citations(answer).lower().translate(_SAME))
    return bool(_ABSTENTION.search(text))


def fact_metrics(task: EvalTask, answer: str) -> dict[str, float]:
    """The key-fact metrics of a grounded task that has key facts, or that has no answer in
    its documents (none for other tasks):

    - `key_fact_recall`: share of the key facts the answer states (answerable tasks only);
    - `fully_correct`: answerable, 1.0 when every key fact is stated and the answer does not
      abstain; unanswerable, 1.0 when the answer abstains (the correct answer);
    - `abstained`: 1.0 when the answer says the documents do not hold the answer.
    """
    if task.kind != "grounded" or (task.answerable and not task.key_facts):
        return {}
    abstained = abstains(answer)
    if not task.answerable:
        return {FULLY_CORRECT: float(abstained), ABSTAINED: float(abstained)}
    stated = stated_facts(answer, task.key_facts)
    return {
        KEY_FACT_RECALL: sum(stated) / len(stated),
        FULLY_CORRECT: float(all(stated) and not abstained),
        ABSTAINED: float(abstained),
    }


HopsGroup = Literal["1", "2+", "unanswerable", "unknown"]
HOPS_GROUPS: tuple[HopsGroup, ...] = ("1", "2+", "unanswerable", "unknown")


def hops_group(task: EvalTask) -> HopsGroup:
    """Single-document, multi-document or unanswerable: from `hops`, else from how many
    documents the reference needs (`reference_doc_ids`)."""
    if not task.answerable:
        return "unanswerable"
    hops = task.hops if task.hops is not None else len(task.reference_doc_ids)
    if hops <= 0:
        return "unknown"
    return "1" if hops == 1 else "2+"
