"""How far the engine's question pipeline alone answers a grounded data set, without a model:
each question planned (`core.questions.plan`), its documents narrowed to the versions in force
(`core.questions.versions`), each part's fact found (`core.questions.facts`), and the answer
composed from those facts and their worked-out conclusion (`nodes.answer_repair.compose`, what
refinement falls back on), scored by the evaluation's own key-fact matcher (`evals.facts`).

    .venv/bin/python -m evals.fact_pipeline evals/data/grounded_multi_dev.jsonl \\
        evals/data/grounded_multi_heldout.jsonl [--misses] [--chain]

A question whose composed answer states every key fact (or declines an unanswerable one) has
what refinement needs to repair any draft of it; the rest are where planning or fact finding
fails. Deterministic and offline (MiniLM embeddings only): seconds a data set. With `--chain`
the plan also makes the model call that finds a chain of look-ups the rules missed
(`nodes.plan.chain_with_model`, one call where a question describes a thing in a clause), so
the figures then need the model and its cache settings.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from core.run_config import load_config
from core.state import RefineState
from evals.datasets import EvalTask, load_dataset
from evals.facts import FULLY_CORRECT, fact_metrics, hops_group
from nodes.answer_repair import compose
from nodes.plan import chain_with_model, make_plan
from nodes.retrieve import retrieve
from nodes.validate import question_facts


def composed(task: EvalTask, chain: bool = False) -> str:
    """The answer the question pipeline composes for `task` from its documents alone: the
    engine's own plan (the rules, and with `chain` the model's chain of look-ups) and
    retrieval, then `compose`."""
    state: RefineState = {
        "task": task.task,
        "documents": [{"id": d.id, "text": d.text} for d in task.documents or []],
        "config": "refine_default",
    }
    config = load_config(state["config"])
    state["plan"] = make_plan(state, config, [])
    if chain:
        state["plan"], _ = asyncio.run(chain_with_model(task.task, state["plan"], config))
    question, facts = question_facts({**state, **retrieve(state)})  # type: ignore[typeddict-item]
    return compose(question, facts) if question is not None else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true", help="print each question missed")
    parser.add_argument(
        "--chain", action="store_true", help="let the model split chains (one call a question)"
    )
    args = parser.parse_args(argv)
    print("| data set | group | questions | composed answer fully correct |")
    print("|---|---|---|---|")
    for path in args.datasets:
        tasks = [t for t in load_dataset(path) if t.kind == "grounded"]
        right: dict[str, list[bool]] = {}
        for task in tasks:
            answer = composed(task, args.chain)
            ok = fact_metrics(task, answer).get(FULLY_CORRECT) == 1.0
            for group in ("all", hops_group(task)):
                right.setdefault(group, []).append(ok)
            if args.misses and not ok:
                print(f"<!-- {task.id}: {task.task} -> {answer} -->")
        for group, found in right.items():
            share = f"{sum(found)} ({sum(found) / len(found):.3f})"
            print(f"| {path.name} | {group} | {len(found)} | {share} |")


if __name__ == "__main__":
    main()
