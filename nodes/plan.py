"""The orchestrator: decides which agents a request needs, before any model call, and reads the
request's verifiable instructions ("under 120 words, all lowercase") into checks."""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError

from core.instructions import Instruction, conflicts, parse_instruction
from core.instructions.extract import Extracted, extract
from core.llm.factory import complete
from core.questions.chains import REPLY_FORMAT, chained, worth_asking
from core.questions.plan import QuestionPlan, is_question, plan_question
from core.run_config import RunConfig, load_config
from core.state import Plan, RefineState, Usage, empty_usage, merge_usage
from core.text.plain import estimate_tokens
from nodes import prompts
from nodes.read_instructions import read_with_model

log = logging.getLogger(__name__)

GIVEN = "given"
"""The `read_from` of an instruction the caller gave in `constraints.instructions`."""


def read_instructions(
    state: RefineState, extracted: list[Extracted] | None = None
) -> list[dict[str, Any]]:
    """The run's instructions: those given explicitly, then those read from the task's words
    that say something new (a request that both gives and words "no commas" gets one check).
    Each is a spec's fields plus `read_from`."""
    given = (state.get("constraints") or {}).get("instructions") or []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in given:
        try:
            spec = parse_instruction(item)
        except ValidationError as exc:  # the API validates; a direct caller may not
            log.warning("dropped an invalid given instruction %r: %s", item, exc.errors()[0]["msg"])
            continue
        seen.add(spec.model_dump_json())
        out.append(spec.model_dump() | {"read_from": GIVEN})
    for found in extract(state["task"]) if extracted is None else extracted:
        if found.instruction.model_dump_json() not in seen:
            seen.add(found.instruction.model_dump_json())
            out.append(found.as_dict())
    return out


def _key(item: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in item.items() if k != "read_from"}, sort_keys=True)


def instructions_of(state: RefineState) -> list[Instruction]:
    """The specs of the plan's instructions (what the validators check and the refiner fixes)."""
    planned = (state.get("plan") or {}).get("instructions") or []
    return [parse_instruction({k: v for k, v in i.items() if k != "read_from"}) for i in planned]


def critic_weight(state: RefineState, config: RunConfig) -> float:
    """The critic's weight for this request: low where validators can check the answer."""
    constraints = state.get("constraints") or {}
    planned = (state.get("plan") or {}).get("instructions")
    checkable = bool(constraints) or bool(state.get("documents")) or bool(planned)
    return config.weights.critic_checkable if checkable else config.weights.critic_free


def make_plan(
    state: RefineState, config: RunConfig, read: list[dict[str, Any]] | None = None
) -> Plan:
    """The plan; `read` the instructions already read (by default by the rules alone)."""
    constraints = state.get("constraints") or {}
    documents = state.get("documents") or []
    instructions = read_instructions(state) if read is None else read
    validators = ["repetition"]
    if constraints.get("required_words"):
        validators.append("required_words")
    if {"max_words", "min_words", "max_sentences"} & constraints.keys():
        validators.append("length")
    question = plan_question(state["task"]) if documents and is_question(state["task"]) else None
    if documents:
        validators += ["grounding", "citations"]
    if question is not None:
        validators.append("answer")
    if instructions:
        validators += ["instructions", "content"]
    long_docs = [
        d["id"] for d in documents if estimate_tokens(d["text"]) > config.budgets.document_tokens
    ]
    plan: Plan = {
        "retrieve": bool(documents),
        "summarise": long_docs,
        "validators": validators,
        "critic": False,
        "instructions": instructions,
        "conflicts": conflicts(
            [
                parse_instruction({k: v for k, v in i.items() if k != "read_from"})
                for i in instructions
            ]
        ),
    }
    if question is not None:
        plan["question"] = question.model_dump()
    plan["critic"] = critic_weight({**state, "plan": plan}, config) > 0
    return plan


async def chain_with_model(task: str, planned: Plan, config: RunConfig) -> tuple[Plan, Usage]:
    """The plan, its question split into a chain of look-ups where the model finds one the
    rules missed and its reply passes the checks of `core.questions.chains`; no call where the
    plan has no question or the question describes no thing in a clause of its own."""
    if "question" not in planned:
        return planned, empty_usage()
    rules = QuestionPlan.model_validate(planned["question"])
    if not worth_asking(task, rules):
        return planned, empty_usage()
    ask = prompts.SPLIT_QUESTION.format(question=" ".join(task.split()))
    [reply], usage = await complete(
        "plan", config.roles.critique, [ask], prompts.system_for(ask), response_format=REPLY_FORMAT
    )
    question = chained(rules, reply, task) or rules
    return {**planned, "question": question.model_dump()}, usage


async def plan(state: RefineState) -> dict[str, Any]:
    """The plan, with instructions the model read in sentences the rules left, and a grounded
    question's chain of look-ups the model found (each when the run configuration allows that
    call and the request has something for it to read)."""
    config = load_config(state["config"])
    extracted = extract(state["task"])  # read once: the rules' list also tells the model call
    read = read_instructions(state, extracted)
    usage = empty_usage()
    if config.refine.read_with_model:
        found, usage = await read_with_model(state["task"], extracted, config)
        known = {_key(i) for i in read}
        read += [item for item in found if _key(item) not in known]
    planned = make_plan(state, config, read)
    if config.refine.chain_with_model:
        planned, used = await chain_with_model(state["task"], planned, config)
        usage = merge_usage(usage, used)
    return {"plan": planned, "usage": usage}
