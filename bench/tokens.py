"""Benchmark of token efficiency: tokens per task after 4 iterations, this engine (preset
`refine_default`) against a naive Self-Refine loop that appends the whole history to every
prompt, on the same tasks and the same model, with coverage of the required words alongside.

Runs on the real local model, so serialize it:
`flock /tmp/refinery-model.lock .venv/bin/python -m bench.tokens --limit 20`.
The response cache is off: every token counted was spent by the model (reported usage).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from evals.datasets import DATA_DIR

DATA = DATA_DIR / "commongen_hard_dev.jsonl"
ITERATIONS = 4

FEEDBACK = (
    "Give feedback on your last text: which of the required concepts are missing and what "
    "reads badly. Be concrete. Do not rewrite the text."
)
REFINE = "Now rewrite the text using that feedback. Reply with the new text only."


def load_tasks(path: Path, limit: int) -> list[dict[str, Any]]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines[:limit]]


def tokens_of(message: Any) -> int:
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))


async def naive_self_refine(task: dict[str, Any]) -> dict[str, Any]:
    """Self-Refine as published: generate, then feedback and refine in turns, each prompt
    carrying the whole conversation so far. Same model and role settings as the engine."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from core.llm.factory import chat_model
    from core.run_config import load_config
    from nodes import prompts

    roles = load_config("refine_default").roles
    writer, critic = chat_model(roles.draft), chat_model(roles.critique)
    system = prompts.system_for(task["task"])  # the engine's choice for the same prompt
    history: list[Any] = [SystemMessage(system), HumanMessage(task["task"])]
    reply = await writer.ainvoke(history)
    tokens, calls, answer = tokens_of(reply), 1, str(reply.content).strip()
    for _ in range(ITERATIONS):
        history += [reply, HumanMessage(FEEDBACK)]
        feedback = await critic.ainvoke(history)
        history += [feedback, HumanMessage(REFINE)]
        reply = await writer.ainvoke(history)
        tokens += tokens_of(feedback) + tokens_of(reply)
        calls += 2
        answer = str(reply.content).strip() or answer
    return {"tokens": tokens, "calls": calls, "answer": answer}


async def engine(graph: Any, task: dict[str, Any]) -> dict[str, Any]:
    from graph.runner import run_task

    result = await run_task(graph, task, config_name="refine_default")
    if result.error:
        raise RuntimeError(result.error)
    usage = result.usage
    return {
        "tokens": usage.input_tokens + usage.output_tokens,
        "calls": usage.calls,
        "answer": result.answer or "",
        "iterations": result.iterations,
    }


def summary(name: str, rows: list[dict[str, Any]]) -> dict[str, float]:
    return {
        "name": name,
        "tokens": statistics.mean(r["tokens"] for r in rows),
        "calls": statistics.mean(r["calls"] for r in rows),
        "coverage": statistics.mean(r["coverage"] for r in rows),
        "wall_s": sum(r["wall_s"] for r in rows),
    }


def stored_engine_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The engine's answers from a `refinery run --input ... --output PATH` file of the same
    tasks (cache off), so one real-model run serves both that report and this comparison."""
    rows = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row.get("error"):
            continue
        usage = row["usage"]
        rows[row["id"]] = {
            "tokens": usage["input_tokens"] + usage["output_tokens"],
            "calls": usage.get("calls", 0),
            "answer": row["answer"] or "",
            "iterations": row["iterations"],
            "wall_s": row["wall_s"],
        }
    return rows


async def run_all(
    tasks: list[dict[str, Any]], output: Path | None, engine_results: Path | None
) -> None:
    from core.text.lexicon import coverage
    from graph.builder import build_graph

    graph = build_graph(None)
    results: dict[str, list[dict[str, Any]]] = {"engine": [], "naive": []}

    async def record(i: int, task: dict[str, Any], name: str, run: Any) -> None:
        started = time.perf_counter()
        row = await run()
        required = task["constraints"]["required_words"]
        row |= {
            "id": task["id"],
            "wall_s": row.get("wall_s", time.perf_counter() - started),
            "coverage": coverage(row["answer"], required),
        }
        results[name].append(row)
        print(
            f"[{i + 1}/{len(tasks)}] {task['id']} {name:6}: {row['tokens']:5d} tokens "
            f"{row['calls']:2d} calls coverage {row['coverage']:.3f} "
            f"({row['wall_s']:.0f} s)",
            flush=True,
        )

    if engine_results is None:  # both systems, task by task, so load drift hits both alike
        for i, task in enumerate(tasks):
            await record(i, task, "engine", lambda t=task: engine(graph, t))
            await record(i, task, "naive", lambda t=task: naive_self_refine(t))
    else:  # the naive loop first; the engine's stored rows are read after (a run may be
        # filling that file meanwhile), and a task still missing there runs here
        for i, task in enumerate(tasks):
            await record(i, task, "naive", lambda t=task: naive_self_refine(t))
        stored = stored_engine_rows(engine_results)
        for i, task in enumerate(tasks):

            async def engine_row(t: dict[str, Any] = task) -> dict[str, Any]:
                return dict(stored[t["id"]]) if t["id"] in stored else await engine(graph, t)

            await record(i, task, "engine", engine_row)
    if output:
        lines = [json.dumps({"system": k, **r}) + "\n" for k, rows in results.items() for r in rows]
        await asyncio.to_thread(output.write_text, "".join(lines))
    ours, naive = summary("engine", results["engine"]), summary("naive", results["naive"])
    print(f"\n{len(tasks)} tasks of {DATA.name}, {ITERATIONS} iterations at most")
    for row in (ours, naive):
        print(
            f"  {row['name']:6}: {row['tokens']:8.1f} tokens/task  {row['calls']:5.1f} calls/task"
            f"  coverage {row['coverage']:.3f}  wall {row['wall_s']:.0f} s"
        )
    print(f"engine tokens / naive tokens: {ours['tokens'] / naive['tokens']:.3f}")
    print(f"coverage difference (engine - naive): {ours['coverage'] - naive['coverage']:+.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--engine-results",
        type=Path,
        default=None,
        help="reuse the engine's answers from a `refinery run --output` file of these tasks",
    )
    args = parser.parse_args()
    os.environ["REFINERY_LLM_CACHE"] = "false"  # count spent tokens only
    # Tokens, not latency, are measured: a slow call on a busy machine must not time out
    # (a timed-out request keeps the server busy and the retry queues behind it).
    os.environ.setdefault("REFINERY_LLM_TIMEOUT_S", "900")
    for name, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}.items():
        os.environ.setdefault(name, value)
    asyncio.run(run_all(load_tasks(args.input, args.limit), args.output, args.engine_results))


if __name__ == "__main__":
    main()
