"""Benchmark of token efficiency on CommonGen-Hard: the engine (preset `refine_default`) against
two baselines that get the same model, the same first prompt and the same judge:

- **Self-Refine**, as published (generate, then feedback and refine in turns, each prompt
  carrying the whole conversation), started from the engine's own draft prompt and system
  prompt, stopped by the engine's rule (score at the threshold with no error, `max_iterations`
  rounds, or `plateau_patience` rounds without gaining `min_improvement`), its answer the best
  one it wrote, not the last; every answer scored by the engine's own validators.
- **Best-of-N**: independent samples of the engine's draft prompt (the draft role's
  temperature, a different seed each) until the next one would pass the engine's token count on
  that task; the answer is the sample the engine's validators score highest. This is the
  compute-matched baseline: what the same tokens buy without any refinement.

The response cache is off on every side and checked (no cache hit counted, so every token is
spent by the model), and the order alternates task by task (engine first on even tasks,
Self-Refine first on odd ones; best-of-N needs the engine's tokens, so it follows it).

Runs on the real local model, so serialize it:
`flock /tmp/refinery-model.lock .venv/bin/python -m bench.tokens --limit 20 --output F`. Each
row is appended to F as it finishes, and a second run with the same F goes on where the first
stopped (on two cores the 20 tasks take hours), if the code is the same: every row carries the
stamp of the engine that made it (`engine_stamp`), and rows of another engine are refused, not
mixed in. `--report` prints the table of the rows in F without running anything. Coverage in
the table is the evaluation's (`evals.concepts`: the word or an inflection of it), not the
engine's more lenient matcher that the validators use. Beside tokens and word coverage the
table gives how the answers read (perplexity under the evaluation's second model, repeated
sentence frames, word lists): the validators that pick best-of-N's sample and stop both loops
count words, not prose.
`--fake` runs it on the in-process stand-in model instead (a check that it runs, no figure).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from evals.datasets import DATA_DIR

ROOT = Path(__file__).resolve().parents[1]
ENGINE_PATHS = ("graph", "nodes", "core", "bench/tokens.py", "requirements.lock")
NOT_ENGINE = ("core/training/",)
"""The files whose content the engine stamp covers: the graph, its nodes, the shared code and
the pinned packages, less the training code no run imports."""

DATA = DATA_DIR / "commongen_hard_dev.jsonl"
CONFIG = "refine_default"
SYSTEMS = ("engine", "self_refine", "best_of_n")

FEEDBACK = (
    "Give feedback on your last text: which of the required concepts are missing and what "
    "reads badly. Be concrete. Do not rewrite the text."
)
REFINE = "Now rewrite the text using that feedback. Reply with the new text only."


def engine_stamp(root: Path = ROOT) -> str:
    """A hash of the tracked `ENGINE_PATHS` files as they are in the working tree (an edit not
    yet committed counts): two rows with one stamp were made by the same code."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", *ENGINE_PATHS],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    digest = hashlib.sha256()
    for name in sorted(n for n in listed.split("\0") if n and not n.startswith(NOT_ENGINE)):
        path = root / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(deleted)")
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def load_tasks(path: Path, limit: int) -> list[dict[str, Any]]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines[:limit]]


def tokens_of(message: Any) -> int:
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))


async def planned_state(task: dict[str, Any]) -> dict[str, Any]:
    """The state the engine's draft node sees for `task` (intake and plan applied)."""
    from nodes.intake import intake
    from nodes.plan import plan

    state: dict[str, Any] = {**task, "config": CONFIG}
    state |= await intake(state)  # type: ignore[arg-type]
    state |= await plan(state)  # type: ignore[arg-type]
    return state


def judged(answer: str, state: dict[str, Any]) -> tuple[float, bool]:
    """The engine's score of `answer` (its validators, the critic's weight as the plan set it:
    none on a checkable task) and whether the engine would stop on it as passed."""
    from core.run_config import load_config
    from nodes.score import combine
    from nodes.validate import run_checks

    config = load_config(CONFIG)
    validation = run_checks(answer, state)  # type: ignore[arg-type]
    score, _ = combine(validation, None, 0.0, config)
    errors = any(f["severity"] == "error" for f in validation["findings"])
    return score, score >= config.score_threshold and not errors


async def self_refine(task: dict[str, Any]) -> dict[str, Any]:
    """Self-Refine from the engine's draft prompt, under the engine's stopping rule, keeping
    its best answer (see the module docstring)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from core.llm.factory import chat_model
    from core.run_config import load_config
    from nodes import prompts
    from nodes.draft import draft_prompt

    config = load_config(CONFIG)
    state = await planned_state(task)
    ask = draft_prompt(state)  # type: ignore[arg-type]
    writer, critic = chat_model(config.roles.draft), chat_model(config.roles.critique)
    history: list[Any] = [SystemMessage(prompts.system_for(ask)), HumanMessage(ask)]
    reply = await writer.ainvoke(history)
    tokens, calls = tokens_of(reply), 1
    best_answer = str(reply.content).strip()
    best, passed = judged(best_answer, state)
    rounds = stale = 0
    while not passed and rounds < config.max_iterations and stale < config.plateau_patience:
        history += [reply, HumanMessage(FEEDBACK)]
        feedback = await critic.ainvoke(history)
        history += [feedback, HumanMessage(REFINE)]
        reply = await writer.ainvoke(history)
        tokens += tokens_of(feedback) + tokens_of(reply)
        calls, rounds = calls + 2, rounds + 1
        answer = str(reply.content).strip()
        score, passed = judged(answer, state)
        stale = 0 if score >= best + config.min_improvement else stale + 1
        if score > best:
            best, best_answer = score, answer
    stop = (
        "passed" if passed else "max_iterations" if stale < config.plateau_patience else "plateau"
    )
    return {"tokens": tokens, "calls": calls, "answer": best_answer, "iterations": rounds,
            "stop": stop}  # fmt: skip


async def best_of_n(task: dict[str, Any], budget: int) -> dict[str, Any]:
    """Samples of the engine's draft prompt while the next one fits in `budget` tokens (at least
    one); the answer is the sample the engine's validators score highest (first of equals)."""
    from core.llm.factory import complete
    from core.run_config import load_config
    from nodes import prompts
    from nodes.draft import draft_prompt

    role = load_config(CONFIG).roles.draft
    state = await planned_state(task)
    ask = draft_prompt(state)  # type: ignore[arg-type]
    tokens, samples, best, best_answer = 0, 0, -1.0, ""
    while samples == 0 or tokens + tokens / samples <= budget:
        seeded = role.model_copy(update={"seed": (role.seed or 0) + samples})
        [reply], usage = await complete("draft", seeded, [ask], prompts.system_for(ask))
        tokens += usage["input_tokens"] + usage["output_tokens"]
        samples += 1
        score, _ = judged(reply.strip(), state)
        if score > best:
            best, best_answer = score, reply.strip()
    return {"tokens": tokens, "calls": samples, "answer": best_answer, "iterations": samples}


async def engine(graph: Any, task: dict[str, Any]) -> dict[str, Any]:
    from graph.runner import run_task

    result = await run_task(graph, task, config_name=CONFIG)
    if result.error:
        raise RuntimeError(result.error)
    usage = result.usage
    return {
        "tokens": usage.input_tokens + usage.output_tokens,
        "calls": usage.calls,
        "answer": result.answer or "",
        "iterations": result.iterations,
        "stop": result.stop_reason,
        "calls_by_node": {node: u.get("calls", 0) for node, u in usage.by_node.items()},
    }


def summary(
    name: str, rows: list[dict[str, Any]], tasks: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Cost and coverage of one side; coverage by the evaluation's matcher, read again from
    each answer (a row's own `coverage` is the validators' lenient one, printed as it runs)."""
    from evals.concepts import concept_coverage

    honest = [
        concept_coverage(r["answer"], tasks[r["id"]]["constraints"]["required_words"]) for r in rows
    ]
    return {
        "name": name,
        "tokens": statistics.mean(r["tokens"] for r in rows),
        "calls": statistics.mean(r["calls"] for r in rows),
        "coverage": statistics.mean(honest),
        "all_words": statistics.mean(float(c == 1.0) for c in honest),
        "wall_s": sum(r["wall_s"] for r in rows),
    }


def quality(rows: list[dict[str, Any]], tasks: dict[str, dict[str, Any]]) -> dict[str, float]:
    """How the answers read, beside how many words they use: the evaluation's perplexity under
    the second model (median), its share of sentences that repeat an earlier one's frame, and
    the share of answers with a sentence the validators call a word list. A higher coverage
    bought with lists and bolted-on sentences shows here (never read perplexity alone: a list
    of the words reads as fluent)."""
    from evals.coherence import perplexity
    from evals.repetition import repeated_frames
    from nodes.validate import listing_sentences

    return {
        "perplexity": statistics.median(
            perplexity(r["answer"], tasks[r["id"]]["task"]) for r in rows
        ),
        "repeated_frames": statistics.mean(repeated_frames(r["answer"]) for r in rows),
        "listing": statistics.mean(float(bool(listing_sentences(r["answer"]))) for r in rows),
    }


def report(tasks: list[dict[str, Any]], results: dict[str, list[dict[str, Any]]]) -> None:
    """The table over the tasks every side finished, answers' quality included."""
    by_id = {task["id"]: task for task in tasks}
    done = set.intersection(*({r["id"] for r in found} for found in results.values()))
    stamps = sorted({r.get("engine") or "unstamped" for found in results.values() for r in found})
    print(
        f"\n{conditions(tasks)}; engine {', '.join(stamps)}; cache checked: no hit; "
        f"{len(done)} tasks finished by all; coverage by the evaluation's matcher"
    )
    rows = []
    for name, found in results.items():
        kept = [r for r in found if r["id"] in done]
        rows.append(summary(name, kept, by_id) | quality(kept, by_id))
    for row in rows:
        print(
            f"  {row['name']:11}: {row['tokens']:8.1f} tokens/task  {row['calls']:5.1f} calls/task"
            f"  coverage {row['coverage']:.3f}  all words {row['all_words']:.2f}"
            f"  perplexity {row['perplexity']:.2f}  repeated frames {row['repeated_frames']:.3f}"
            f"  with a list {row['listing']:.2f}  wall {row['wall_s']:.0f} s"
        )
    ours = rows[0]
    for other in rows[1:]:
        print(
            f"engine against {other['name']}: tokens x{ours['tokens'] / other['tokens']:.3f}, "
            f"coverage {ours['coverage'] - other['coverage']:+.3f}, perplexity "
            f"x{ours['perplexity'] / other['perplexity']:.3f}"
        )


def check_cache_off() -> None:
    """Fail unless the response cache is off and has served nothing (a hit costs 0 tokens)."""
    from core.llm.stats import llm_stats
    from core.settings import get_settings

    hits = llm_stats().snapshot().cache_hits
    if get_settings().llm_cache or any(hits.values()):
        raise SystemExit(f"the response cache was on or hit ({hits}): the token counts are void")


def conditions(tasks: list[dict[str, Any]]) -> str:
    from core.run_config import load_config
    from core.settings import get_settings

    config, settings = load_config(CONFIG), get_settings()
    roles = config.roles
    return (
        f"conditions: {len(tasks)} tasks of {DATA.name}; model endpoint "
        f"{settings.openai_base_url or 'embedded local model'}; "
        f"preset {CONFIG} ({config.fingerprint()}): threshold {config.score_threshold}, "
        f"{config.max_iterations} rounds at most, plateau {config.plateau_patience}; draft "
        f"temperature {roles.draft.temperature}, critique {roles.critique.temperature}; "
        f"response cache {'on' if settings.llm_cache else 'off'}; prompt-prefix reuse "
        f"{'on' if settings.local_prompt_reuse else 'off'}; order alternates by task; "
        "best-of-N spends at most the engine's tokens on each task"
    )


def stored_rows(
    tasks: list[dict[str, Any]], output: Path | None, engine: str | None = None
) -> list[dict[str, Any]]:
    """The rows of `tasks` an earlier run of the bench wrote to `output` (a resumed run keeps
    them, `--report` reads them); each must have been checked free of cache hits, and all made
    by one engine: `engine` when given (a resumed run's own), else whichever made the first."""
    if output is None or not output.exists():
        return []
    ids = {task["id"] for task in tasks}
    lines = output.read_text().splitlines()
    rows = [row for line in lines if line.strip() and (row := json.loads(line))["id"] in ids]
    if any(row.get("cache_hits", 1) for row in rows):
        raise SystemExit(f"{output} holds rows not checked free of cache hits: run afresh")
    stamps = {row.get("engine") for row in rows}
    wanted = {engine} if engine else stamps
    if rows and (len(stamps) > 1 or stamps != wanted):
        made = ", ".join(sorted(str(s) for s in stamps))
        raise SystemExit(
            f"{output} holds rows of engine {made}, not only of "
            f"{engine or 'one engine'}: the code changed between them, so they are not one "
            "measurement; give another --output"
        )
    return rows


def append(path: Path, line: str) -> None:
    """One JSON line added to the end of `path` (run off the event loop)."""
    with path.open("a") as out:
        out.write(line + "\n")


async def run_all(tasks: list[dict[str, Any]], output: Path | None) -> None:
    """Each task on each side, every row appended to `output` as it finishes; rows already
    there (a resumed run: the bench takes hours on two cores) are kept, not run again."""
    from core.llm.stats import llm_stats
    from core.text.lexicon import coverage
    from graph.builder import build_graph

    graph = build_graph(None)
    stamp = engine_stamp()
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in SYSTEMS}
    done = {(r["system"], r["id"]): r for r in stored_rows(tasks, output, stamp)}
    print(f"{conditions(tasks)}; engine {stamp}", flush=True)
    if done:
        print(f"resumed: {len(done)} rows of {output} kept", flush=True)

    async def record(i: int, task: dict[str, Any], name: str, run: Callable[[], Awaitable]) -> None:
        kept = done.get((name, task["id"]))
        if kept is not None:
            results[name].append({k: v for k, v in kept.items() if k != "system"})
            return
        started = time.perf_counter()
        row = await run()
        row |= {
            "id": task["id"],
            "wall_s": time.perf_counter() - started,
            "coverage": coverage(row["answer"], task["constraints"]["required_words"]),
            "cache_hits": sum(llm_stats().snapshot().cache_hits.values()),  # so far: must be 0
            "engine": stamp,
        }
        results[name].append(row)
        if output:
            await asyncio.to_thread(append, output, json.dumps({"system": name, **row}))
        print(
            f"[{i + 1}/{len(tasks)}] {task['id']} {name:11}: {row['tokens']:5d} tokens "
            f"{row['calls']:2d} calls coverage (validators) {row['coverage']:.3f} "
            f"({row['wall_s']:.0f} s)",
            flush=True,
        )

    for i, task in enumerate(tasks):
        engine_run = lambda t=task: engine(graph, t)  # noqa: E731
        naive_run = lambda t=task: self_refine(t)  # noqa: E731
        first, second = [("engine", engine_run), ("self_refine", naive_run)][
            :: 1 if i % 2 == 0 else -1
        ]
        await record(i, task, *first)
        await record(i, task, *second)
        budget = results["engine"][-1]["tokens"]
        await record(i, task, "best_of_n", lambda t=task, b=budget: best_of_n(t, b))
    check_cache_off()
    report(tasks, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument(
        "--output", type=Path, default=None, help="JSONL of every row; a second run resumes it"
    )
    parser.add_argument("--fake", action="store_true", help="the stand-in model (a smoke run)")
    parser.add_argument(
        "--report", action="store_true", help="print the table of the rows in --output, run nothing"
    )
    args = parser.parse_args()
    os.environ["REFINERY_LLM_CACHE"] = "false"  # count spent tokens only (checked at the end)
    # answers that depend on the task alone, not on the requests the server saw before it
    os.environ["REFINERY_LOCAL_PROMPT_REUSE"] = "false"
    if args.report:
        if args.output is None:
            parser.error("--report reads --output")
        tasks = load_tasks(args.input, args.limit)
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in SYSTEMS}
        for row in stored_rows(tasks, args.output):
            results[row["system"]].append(row)
        report(tasks, results)
        return
    # Tokens, not latency, are measured: a slow call on a busy machine must not time out
    # (a timed-out request keeps the server busy and the retry queues behind it).
    os.environ.setdefault("REFINERY_LLM_TIMEOUT_S", "900")
    for name, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}.items():
        os.environ.setdefault(name, value)
    fake = None
    if args.fake:
        from testkit.fake_openai import FakeOpenAI

        fake = FakeOpenAI().serve()
        os.environ["REFINERY_OPENAI_BASE_URL"] = fake.base_url
    try:
        asyncio.run(run_all(load_tasks(args.input, args.limit), args.output))
    finally:
        if fake:
            fake.stop()


if __name__ == "__main__":
    main()
