"""The LLM critic: a 0-10 score and concrete feedback items as JSON, read leniently when the
model's JSON is malformed. The graph runs it only where the plan gives the critic weight."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from core.llm.factory import complete
from core.run_config import load_config
from core.state import Critique, RefineState
from nodes import prompts
from nodes.context import context_block

_SCORE = re.compile(r"score\W{0,4}(\d+(?:\.\d+)?)", re.IGNORECASE)
_ITEM = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+(.+)$", re.MULTILINE)


class Verdict(BaseModel):
    score: float = Field(ge=0, le=10)
    feedback: list[str] = Field(default_factory=list, max_length=10)


VERDICT_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "verdict", "schema": Verdict.model_json_schema()},
}
"""The critic's reply as a JSON schema: a grammar on the embedded server, plain JSON mode on
endpoints that only take that (`core.llm.pooled`)."""


def read_verdict(raw: str) -> Critique:
    """The critic's verdict from its reply: strict JSON first, then a lenient reading."""
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if match:
        try:
            verdict = Verdict.model_validate(json.loads(match.group(0)))
            feedback = [str(f).strip() for f in verdict.feedback if str(f).strip()]
            return {"score": verdict.score, "feedback": feedback[:5], "parsed": True}
        except (json.JSONDecodeError, ValidationError):
            pass
    score = _SCORE.search(raw)
    value = min(10.0, float(score.group(1))) if score else 5.0
    items = [i.strip() for i in _ITEM.findall(raw)][:5]
    return {"score": value, "feedback": items, "parsed": False}


async def critique(state: RefineState) -> dict[str, Any]:
    config = load_config(state["config"])
    context = context_block(state, config)
    prompt = prompts.CRITIQUE.format(
        task=state["task"],
        context=f"Sources:\n{context}\n" if context else "",
        draft=state["draft"],
    )
    [reply], usage = await complete(
        "critique",
        config.roles.critique,
        [prompt],
        prompts.system_for(prompt),
        response_format=VERDICT_FORMAT,
    )
    return {"critique": read_verdict(reply), "usage": usage}
