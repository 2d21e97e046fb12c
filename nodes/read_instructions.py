"""Instructions the rules did not read, read by the model: one JSON-mode call over the request's
sentences that sound like instructions but that no rule matched, offered only the kinds whose
descriptions share words with them. Its output is validated by the specs and must be grounded in
the request (every word or phrase it names and every number it sets appear there); anything else
is dropped and logged, never trusted."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model

from core.instructions import SPECS, parse_instruction
from core.instructions.extract import NUMBER_WORDS, Extracted
from core.llm.factory import complete
from core.run_config import RunConfig
from core.state import Usage, empty_usage
from nodes import prompts

log = logging.getLogger(__name__)

CUE = re.compile(
    r"\b(?:(?:your|the|whole|entire) (?:response|answer|reply|output)|"
    r"(?:at least|at most|exactly|no more than|no fewer than|fewer than|more than|under)\s+"
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twenty)\b|"
    r"(?:each|every) (?:word|sentence|paragraph|line|letter)|bullet|lower ?case|upper ?case|"
    r"capital letters|commas?|JSON|(?:end|start|begin) (?:it |each \w+ )?with)\b",
    re.IGNORECASE,
)
"""Words that make a sentence sound like an instruction about the answer's form."""
MAX_KINDS = 8
"""Kinds offered to the model at most (their one-line descriptions make up the prompt)."""
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by each every for from in is it its of on or that the this to "
        "with your you response answer text word words",
    )
)


def _sentences(text: str) -> list[str]:
    return [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def uncovered(task: str, read: list[Extracted]) -> list[str]:
    """The request's sentences that sound like instructions and that no rule read, in whole or
    in part (a rule's words may run over two sentences: "four parts. Start each part with the
    word Section" left "Start each part with the word Section and its number, e.g. Section 1."
    to the model, which read a second, conflicting section count from it, ifeval-k45)."""
    pieces = [p for e in read for p in _sentences(e.phrase) if len(p.split()) >= 2]
    covered = [" ".join(c.lower().split()) for c in [e.phrase for e in read] + pieces]
    return [
        s
        for s in _sentences(task)
        if CUE.search(s) and not any(c in s.lower() or s.lower() in c for c in covered)
    ]


def _summary(kind: str) -> str:
    doc = " ".join((SPECS[kind].__doc__ or "").split())
    return re.sub(r"\s*\([^()]*\)", "", re.split(r"\.\s+(?=[A-Z])", doc)[0]).rstrip(".")


def _stems(text: str) -> set[str]:
    """Content words cut to five letters, a stem crude enough that "bulleted" is "bullet"."""
    return {w[:5] for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP}


def candidate_kinds(sentences: list[str]) -> list[str]:
    """The kinds whose descriptions share the most content words with the sentences."""
    said = _stems(" ".join(sentences))
    scored = []
    for kind in SPECS:
        overlap = len(said & _stems(f"{kind.replace('_', ' ')} {_summary(kind)}"))
        if overlap:
            scored.append((overlap, kind))
    return [kind for _, kind in sorted(scored, key=lambda p: -p[0])[:MAX_KINDS]]


def reply_format(kinds: list[str]) -> dict[str, Any]:
    """A JSON schema allowing only `{"instructions": [...]}` of the offered kinds."""
    union: Any = SPECS[kinds[0]]
    for kind in kinds[1:]:
        union = union | SPECS[kind]
    model: type[BaseModel] = create_model(
        "Instructions", instructions=(list[union], Field(default_factory=list, max_length=5))
    )
    return {
        "type": "json_schema",
        "json_schema": {"name": "instructions", "schema": model.model_json_schema()},
    }


def _numbers(text: str) -> set[int]:
    found = {int(n) for n in re.findall(r"\d+", text)}
    found |= {v for w, v in NUMBER_WORDS.items() if re.search(rf"\b{re.escape(w)}\b", text, re.I)}
    return found


def grounded(item: dict[str, Any], task: str) -> bool:
    """Whether every word, phrase and number the item sets appears in the request."""
    text = " ".join(task.lower().split())
    for key, value in item.items():
        if key == "kind" or value is None or isinstance(value, bool):
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, int | float) and int(v) not in _numbers(task):
                return False
            if isinstance(v, str) and " ".join(v.lower().split()) not in text:
                return False
    return True


def named(kind: str, sentences: list[str]) -> bool:
    """Whether the sentences use a word of the kind's own name ("bullets" for `bullet_count`,
    "highlight" for `highlighted_sections`), numbers aside: a kind the request never names is
    the model's guess (measured: "Highlight at least two key phrases" was read as
    `two_responses` and `sentences_then_bullets`)."""
    name = _stems(kind.replace("_", " ")) - {w[:5] for w in NUMBER_WORDS}
    return bool(name & _stems(" ".join(sentences)))


def read_reply(
    reply: str, kinds: list[str], task: str, sentences: list[str] | None = None
) -> list[dict[str, Any]]:
    """The valid, grounded instructions of the model's reply, each of an offered kind and, when
    the sentences it was read from are given, one they name."""
    try:
        items = json.loads(re.search(r"\{.*\}", reply, re.DOTALL)[0]).get("instructions")  # type: ignore[index]
    except (TypeError, json.JSONDecodeError, AttributeError):
        log.info("instruction reader: no JSON in %r", reply[:200])
        return []
    kept = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("kind") not in kinds:
            log.info("instruction reader: dropped %r (not an offered kind)", item)
            continue
        try:
            spec = parse_instruction(item)
        except ValidationError as exc:
            log.info("instruction reader: dropped %r: %s", item, exc.errors()[0]["msg"])
            continue
        if sentences is not None and not named(spec.kind, sentences):
            log.info("instruction reader: dropped %r (a kind the request does not name)", item)
            continue
        fields = spec.model_dump(exclude_defaults=True)
        if not grounded(fields, task):
            log.info("instruction reader: dropped %r (not in the request)", fields)
            continue
        kept.append(spec.model_dump())
    return kept


async def read_with_model(
    task: str, read: list[Extracted], config: RunConfig
) -> tuple[list[dict[str, Any]], Usage]:
    """Instructions in the sentences the rules left, each with `read_from` "model: <sentence>";
    no call when every instruction-like sentence was read."""
    left = uncovered(task, read)
    kinds = candidate_kinds(left) if left else []
    if not kinds:
        return [], empty_usage()
    catalogue = "\n".join(f"- {kind}: {_summary(kind)}" for kind in kinds)
    ask = prompts.READ_INSTRUCTIONS.format(kinds=catalogue, sentences="\n".join(left))
    system = prompts.system_for(ask)
    [reply], usage = await complete(
        "plan", config.roles.critique, [ask], system, response_format=reply_format(kinds)
    )
    found = read_reply(reply, kinds, task, left)
    where = "; ".join(left)[:300]
    return [item | {"read_from": f"model: {where}"} for item in found], usage
