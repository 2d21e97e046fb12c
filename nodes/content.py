"""The content guard: a repair must not satisfy an instruction's letter by gutting the answer.

An empty or off-topic reply has no commas, and a two-word answer is "under 120 words". So a
refined answer is also compared with the first draft (the model's own attempt at the task):
it must keep most of its length, unless an instruction caps the length, and stay about the same
thing (MiniLM similarity to the first draft, and to the task no lower than the first draft's).
Requests whose instructions replace the content by design (answer with one option, repeat the
request, no whitespace at all) are not guarded.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from core.state import Finding, RefineState
from core.text.embeddings import embed
from core.text.plain import sentences, words

FORM_KINDS = frozenset({
    "exact_text", "repeat_changed_first_word", "options_only", "constrained_response",
    "no_whitespace", "number_sequence", "date_list", "item_list", "csv_table", "json_format",
    "multiple_choice", "sorted_lines",
})  # fmt: skip
"""Kinds whose answer is a given text or a data format: nothing of a prose draft need remain."""
CAPPING = frozenset({"word_count", "sentence_count", "paragraph_count", "unique_word_count"})
"""Count kinds that may ask for a shorter answer than the first draft."""
MIN_ANSWER_WORDS = 15
"""Fewer words than this do not answer a request for writing, unless a rule caps it lower or
asks for a form (one option, a given text): "see you there!" follows "all lowercase" and
"end with 'See you there!'" and answers nothing (measured: a 1.5B draft did exactly that)."""
MIN_LENGTH_SHARE = 0.4
"""A refined answer keeps at least this share of the first draft's words (unless capped)."""
MIN_DRAFT_SIMILARITY = 0.5
"""Below this similarity to the first draft, the answer must be no further from the task."""
LOOP_SHARE = 0.3
"""A text whose most repeated four-word run covers this share of its words is a loop, not an
answer (measured: a 1.5B draft asked to end with "GO GET THEM" said it two hundred times)."""
TASK_SLACK = 0.1
"""How much closer to the task the first draft may be before a dissimilar answer fails."""


def figures(answer: str, first_draft: str, task: str) -> dict[str, float]:
    """Similarity of the answer to the task and to the first draft, the first draft's to the
    task, the answer's length as a share of the first draft's, and how much of it is the
    request's own words (`echo_share`): what the guard reads, and what an evaluation reports
    beside accuracy."""
    a, d, t = embed([answer, first_draft, task])
    return {
        "to_task": round(float(a @ t), 4),
        "to_first_draft": round(float(a @ d), 4),
        "first_draft_to_task": round(float(d @ t), 4),
        "length_share": round(len(words(answer)) / max(1, len(words(first_draft))), 4),
        "echo": round(echo_share(answer, task), 4),
    }


def _capped(state: RefineState) -> bool:
    planned = (state.get("plan") or {}).get("instructions") or []
    constraints = state.get("constraints") or {}
    return (
        "max_words" in constraints
        or "max_sentences" in constraints
        or any(
            i["kind"] in CAPPING and (i.get("at_most") is not None or i.get("exactly") is not None)
            for i in planned
        )
    )


def too_short(answer: str, state: RefineState) -> bool:
    """Whether the answer is too short to answer the request at all: under `MIN_ANSWER_WORDS`
    words, or under what a rule capping the length allows (a sentence counts as 5 words)."""
    planned: list[dict[str, Any]] = (state.get("plan") or {}).get("instructions") or []
    if any(i["kind"] in FORM_KINDS for i in planned):
        return False
    floor = MIN_ANSWER_WORDS
    for i in planned:
        cap = i.get("exactly") if i.get("exactly") is not None else i.get("at_most")
        if i["kind"] in CAPPING and cap is not None:
            floor = min(floor, cap if i["kind"] in ("word_count", "unique_word_count") else 5 * cap)
    return len(words(answer)) < floor


def looping(answer: str) -> bool:
    """Whether the text is mostly one four-word run said over and over."""
    tokens = [w.lower() for w in words(answer)]
    if len(tokens) < 20:
        return False
    [(_, n)] = Counter(zip(tokens, tokens[1:], tokens[2:], tokens[3:], strict=False)).most_common(1)
    return n >= 5 and 4 * n / len(tokens) >= LOOP_SHARE


ECHO_SHARE = 0.8
"""An answer whose five-word runs are this much the request's own repeats the request."""
ECHO_KINDS = FORM_KINDS | {"repeat_prompt"}
"""Kinds that ask for the request's own words back."""


def echoes(answer: str, state: RefineState) -> bool:
    """Whether the answer is the request said back (`ECHO_SHARE` of its five-word runs are
    the request's), not a response to it: measured on IFBench dev, a 1.5B drafter answered
    "can you rephrase this: ...", "SHORT IT ...", "translate to ..." and "Use induction to
    prove ..." with the request's text, in 11 of 64 first drafts; the instruction checks
    passed some of them. None where a rule asks for the request's words back."""
    return echo_of(answer, state) >= ECHO_SHARE


def echo_of(answer: str, state: RefineState) -> float:
    """`echo_share` of the answer against the request, 0 where a rule asks for the request's
    words back."""
    planned: list[dict[str, Any]] = (state.get("plan") or {}).get("instructions") or []
    if any(i["kind"] in ECHO_KINDS for i in planned):
        return 0.0
    return echo_share(answer, state.get("task") or "")


def echo_share(answer: str, task: str, n: int = 5, least: int = 8) -> float:
    """The share of the answer's `n`-word runs that are the request's own (0 for an answer of
    fewer than `least` runs: too short to tell; a sentence is read with `n=4, least=3`)."""
    runs = _runs(answer, n)
    if len(runs) < least:
        return 0.0
    asked = set(_runs(task, n))
    return sum(run in asked for run in runs) / len(runs)


SAME_MEANING = 0.5
"""MiniLM similarity at which a sentence said in other words still says the same thing
(measured: the model's rephrasings of IFBench dev sentences 0.86 to 0.99, a memo sentence
rephrased by hand 0.57; "Board games are fun for families." beside a sentence on video games
as therapy 0.41, an unrelated one 0.07)."""


def same_meaning(old: str, new: str) -> bool:
    """Whether `new` says what `old` says, in any words (MiniLM similarity): measured on a
    rephrased memo, "Tag every lead before movers come" kept two of eleven content words of
    "Please label each cable before the movers arrive"."""
    a, b = embed([old, new])
    return float(a @ b) >= SAME_MEANING


def _runs(text: str, n: int = 5) -> list[tuple[str, ...]]:
    found = [w.lower() for w in words(text)]
    return [tuple(found[i : i + n]) for i in range(len(found) - n + 1)]


def hollow(answer: str, state: RefineState) -> bool:
    """Whether the answer says nothing worth keeping: too short, a loop, or the request
    said back."""
    return too_short(answer, state) or looping(answer) or echoes(answer, state)


def content_guard(answer: str, state: RefineState) -> tuple[float, list[Finding]]:
    """1.0 when the answer answers the request and keeps the first draft's substance, else
    0.0 with a finding (data `too_short` for an answer too short to answer anything)."""
    first = state.get("first_draft") or ""
    planned: list[dict[str, Any]] = (state.get("plan") or {}).get("instructions") or []
    if too_short(answer, state):
        n = len(words(answer))
        return 0.0, [_finding(f"the answer is {n} words: too short to answer the request",
                              "too_short")]  # fmt: skip
    if looping(answer):
        return 0.0, [_finding("the answer repeats one phrase over and over", "looping")]
    if (share := echo_of(answer, state)) >= ECHO_SHARE:
        message = f"{share:.0%} of the answer repeats the request instead of answering it"
        return 1 - share, [_finding(message, "echo")]
    if not first or answer == first or any(i["kind"] in FORM_KINDS for i in planned):
        return 1.0, []
    if not answer.strip():
        return 0.0, [_finding("the answer is empty")]
    seen = figures(answer, first, state["task"])
    problems = []
    kept = len(words(answer)) / max(1, said_once(first))
    if kept < MIN_LENGTH_SHARE and not _capped(state):
        problems.append(f"the answer kept {kept:.0%} of the first draft's words said once")
    drifted = seen["to_task"] < seen["first_draft_to_task"] - TASK_SLACK
    if seen["to_first_draft"] < MIN_DRAFT_SIMILARITY and drifted:
        problems.append(
            f"the answer drifted from the task (similarity {seen['to_task']:.2f}, first draft "
            f"{seen['first_draft_to_task']:.2f})"
        )
    if not problems:
        return 1.0, []
    return 0.0, [_finding("; ".join(problems))]


def said_once(text: str) -> int:
    """How many words `text` has once a sentence said again is not counted: what an answer
    must keep of a first draft that repeats itself (measured on IFEval-kinds dev: ifeval-k44's
    draft said four slogans over and over in 124 words; its 48-word cut without the repeats
    was held to have 'kept 39%' and lost to the loop)."""
    seen: set[str] = set()
    count = 0
    for sentence in sentences(text):
        said = " ".join(words(sentence.lower()))
        if said not in seen:
            seen.add(said)
            count += len(words(sentence))
    return count


def _finding(message: str, *data: str) -> Finding:
    finding: Finding = {"source": "content", "severity": "error", "message": message}
    if data:
        finding["data"] = list(data)
    return finding
