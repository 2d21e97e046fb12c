"""Score `refinery run --input` result files side by side, for results generated at any
concurrency: on an instruction-following data set with the official verifiers
(`evals.verifiers`), what `eval compare` reports for instruction following; on a grounded data
set with key facts, the key-fact metrics (`evals.facts`), optionally split by hops.

    .venv/bin/python -m evals.score_file --dataset ../shared/data/ifbench_dev.jsonl \\
        runs/if14/single_pass.jsonl runs/if14/refine_default.jsonl
    .venv/bin/python -m evals.score_file --dataset evals/data/grounded_multi_dev.jsonl \\
        --by hops runs/gm/single_pass.jsonl runs/gm/refine_default.jsonl

Instructions, per file: prompt- and instruction-level accuracy (strict, loose; instruction level
the micro average), per instruction family, tokens a task, tasks in error, the content guard's
figures (median), the answers that only say the request back (`nodes.content.echoes`) and
prompt-level loose accuracy with those counted as failed, and for each later file against the
first an exact McNemar test on prompt-level loose. Grounded: key-fact recall (answerable
tasks), fully correct, abstained (on answerable and on unanswerable tasks apart), retrieval
recall of the reference documents, tokens a task, tasks in error; with `--by hops` also for
single-document, multi-document (2+) and unanswerable tasks apart; McNemar on fully correct.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from scipy.stats import binomtest

from evals.datasets import EvalTask, load_dataset
from evals.facts import ABSTAINED, FULLY_CORRECT, KEY_FACT_RECALL, fact_metrics, hops_group
from evals.instruction_summary import summarise_checks
from evals.verifiers import InstructionCheck, benchmark_of, check

GROUNDED_COLUMNS = (KEY_FACT_RECALL, FULLY_CORRECT, ABSTAINED, "retrieval_recall")


def label(file: str) -> str:
    """A results file's name in a table: its stem, with its folder where the stem is
    `eval`'s own `results` (runs/if_c2/refine_default/results.jsonl: refine_default/results)."""
    path = Path(file)
    return f"{path.parent.name}/{path.stem}" if path.stem == "results" else path.stem


def load_rows(dataset: Path) -> dict[str, dict[str, Any]]:
    """Data set rows by the id `refinery run` results carry (`<benchmark>-<key>`)."""
    rows = {}
    for line in dataset.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[f"{benchmark_of(row['instruction_id_list'])}-{row['key']}"] = row
    return rows


def is_grounded(dataset: Path) -> bool:
    """Whether the data set's rows are grounded tasks (documents), not benchmark prompts."""
    first = next((line for line in dataset.read_text().splitlines() if line.strip()), "{}")
    return "documents" in json.loads(first)


def read_results(results: Path) -> dict[str, dict[str, Any]]:
    """A `refinery run` results file by task id."""
    answers = {}
    for line in results.read_text().splitlines():
        if line.strip():
            result = json.loads(line)
            answers[result["id"]] = result
    return answers


def _tokens(result: dict[str, Any]) -> int:
    usage = result.get("usage") or {}
    return int(usage.get("input_tokens", 0) + usage.get("output_tokens", 0))


def retrieval_recall(task: EvalTask, passages: list[str]) -> float:
    """Share of the reference documents among the passages retrieval chose (as ragas's
    id-based context recall)."""
    wanted = set(task.reference_doc_ids)
    return len(wanted & set(passages)) / len(wanted)


def grounded_scores(task: EvalTask, result: dict[str, Any]) -> dict[str, float]:
    """One task's key-fact metrics and retrieval recall (a missing or failed task answers
    nothing and retrieves nothing)."""
    values = fact_metrics(task, result.get("answer") or "")
    if task.reference_doc_ids:
        values["retrieval_recall"] = retrieval_recall(task, result.get("passages") or [])
    return values


def _means(per_task: list[dict[str, float]]) -> dict[str, float | int]:
    out: dict[str, float | int] = {"tasks": len(per_task)}
    for name in GROUNDED_COLUMNS:
        values = [v[name] for v in per_task if name in v]
        if values:
            out[name] = round(statistics.mean(values), 4)
    return out


def score_grounded(tasks: dict[str, EvalTask], results: Path) -> dict[str, Any]:
    """The key-fact figures of one results file over every task of the data set: overall, for
    answerable and unanswerable tasks, and per hops group (`evals.facts.hops_group`)."""
    answers = read_results(results)
    scores, tokens, errors = {}, [], []
    for task_id, task in tasks.items():
        result = answers.get(task_id) or {}
        if result.get("error") or not result:
            errors.append(task_id)
        tokens.append(_tokens(result))
        scores[task_id] = grounded_scores(task, result)
    scored = {k: v for k, v in scores.items() if FULLY_CORRECT in v}
    groups: dict[str, list[dict[str, float]]] = {}
    for task_id, values in scored.items():
        groups.setdefault(hops_group(tasks[task_id]), []).append(values)
    answerable = [v for k, v in scored.items() if tasks[k].answerable]
    unanswerable = [v for k, v in scored.items() if not tasks[k].answerable]
    return {
        "file": str(results),
        "summary": _means(list(scored.values())),
        "answerable": _means(answerable),
        "unanswerable": _means(unanswerable),
        "by_hops": {name: _means(groups[name]) for name in sorted(groups)},
        "fully_correct": {k: v[FULLY_CORRECT] == 1.0 for k, v in scored.items()},
        "tokens_per_task": round(statistics.mean(tokens), 1) if tokens else 0.0,
        "errors": errors,
    }


def _cell(values: dict[str, float | int], name: str) -> str:
    return f"{values[name]:.3f}" if name in values else "-"


def grounded_table(scored: list[dict[str, Any]], by_hops: bool = False) -> str:
    """Per file: key-fact recall, fully correct, abstained on answerable and on unanswerable
    tasks, retrieval recall, tokens a task, errors; with `by_hops` a line per hops group."""
    head = (
        "| results | tasks | key-fact recall | fully correct | abstained (answerable) "
        "| abstained (unanswerable) | retrieval recall | tokens/task | errors |\n"
        + "|---" * 9
        + "|"
    )
    lines = [head]
    for s in scored:
        m, a, u = s["summary"], s["answerable"], s["unanswerable"]
        lines.append(
            f"| {label(s['file'])} | {m['tasks']} | {_cell(m, KEY_FACT_RECALL)} | "
            f"{_cell(m, FULLY_CORRECT)} | {_cell(a, ABSTAINED)} | {_cell(u, ABSTAINED)} | "
            f"{_cell(m, 'retrieval_recall')} | {s['tokens_per_task']:.0f} | {len(s['errors'])} |"
        )
    if by_hops:
        lines += [
            "",
            "| results | hops | tasks | key-fact recall | fully correct | abstained "
            "| retrieval recall |",
            "|---" * 7 + "|",
        ]
        for s in scored:
            for name, g in s["by_hops"].items():
                lines.append(
                    f"| {label(s['file'])} | {name} | {g['tasks']} | "
                    f"{_cell(g, KEY_FACT_RECALL)} | {_cell(g, FULLY_CORRECT)} | "
                    f"{_cell(g, ABSTAINED)} | {_cell(g, 'retrieval_recall')} |"
                )
    return "\n".join(lines)


def score(rows: dict[str, dict[str, Any]], results: Path) -> dict[str, Any]:
    """The figures of one results file (every row of the data set; a missing or failed task
    follows nothing)."""
    from nodes.content import ECHO_KINDS, ECHO_SHARE, figures

    answers = read_results(results)
    checks: dict[str, list[InstructionCheck]] = {}
    tokens, errors, guard, echoed = [], [], [], set()
    for task_id, row in rows.items():
        result = answers.get(task_id) or {}
        answer = result.get("answer") or ""
        if result.get("error") or not result:
            errors.append(task_id)
        usage = result.get("usage") or {}
        tokens.append(usage.get("input_tokens", 0) + usage.get("output_tokens", 0))
        ids, benchmark = row["instruction_id_list"], benchmark_of(row["instruction_id_list"])
        checks[task_id] = check(benchmark, row["prompt"], ids, row["kwargs"], answer)
        if answer and result.get("first_draft"):
            seen = figures(answer, result["first_draft"], row["prompt"])
            guard.append(seen)
            kinds = {i.get("kind") for i in result.get("instructions") or []}
            if seen["echo"] >= ECHO_SHARE and not kinds & ECHO_KINDS:
                echoed.add(task_id)
    summary = summarise_checks(list(checks.values()))
    passed = {k: all(c.loose for c in v) for k, v in checks.items()}
    return {
        "file": str(results),
        "summary": summary.model_dump(),
        "prompt_loose": passed,
        "echoes": sorted(echoed),
        "prompt_loose_answering": round(
            sum(v and k not in echoed for k, v in passed.items()) / len(passed), 4
        ),
        "tokens_per_task": round(statistics.mean(tokens), 1),
        "errors": errors,
        "content": {
            key: round(statistics.median(g[key] for g in guard), 3)
            for key in ("to_task", "to_first_draft", "length_share")
        }
        if guard
        else {},
    }


def mcnemar(a: dict[str, bool], b: dict[str, bool]) -> dict[str, Any]:
    """Exact McNemar test of prompt-level success, B against A, on the tasks both scored."""
    gained = sum(1 for k in a if b.get(k) and not a[k])
    lost = sum(1 for k in a if a[k] and not b.get(k))
    p = binomtest(gained, gained + lost, 0.5).pvalue if gained + lost else 1.0
    return {"gained": gained, "lost": lost, "p_value": round(float(p), 4)}


def table(scored: list[dict[str, Any]]) -> str:
    head = (
        "| results | prompt strict | prompt loose | instr. strict | instr. loose | tokens/task "
        "| errors | to task | to first draft | length share | request said back "
        "| prompt loose, those failed |\n" + "|---" * 12 + "|"
    )
    lines = [head]
    for s in scored:
        m, c = s["summary"], s["content"]
        lines.append(
            f"| {label(s['file'])} | {m['prompt_strict']:.3f} | {m['prompt_loose']:.3f} | "
            f"{m['instruction_strict']:.3f} | {m['instruction_loose']:.3f} | "
            f"{s['tokens_per_task']:.0f} | {len(s['errors'])} | {c.get('to_task', '-')} | "
            f"{c.get('to_first_draft', '-')} | {c.get('length_share', '-')} | "
            f"{len(s['echoes'])} | {s['prompt_loose_answering']:.3f} |"
        )
    families = sorted({f for s in scored for f in s["summary"]["by_family"]})
    names = " | ".join(label(s["file"]) + " loose" for s in scored)
    lines += ["", f"| family | n | {names} |", "|---|---|" + "---|" * len(scored)]
    for name in families:
        cells = [s["summary"]["by_family"].get(name, {}) for s in scored]
        n = next((c["instructions"] for c in cells if c), 0)
        shares = " | ".join(f"{c['loose']:.3f}" if c else "-" for c in cells)
        lines.append(f"| {name} | {n} | {shares} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("results", type=Path, nargs="+")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--by",
        choices=["hops"],
        default=None,
        help="grounded sets: also split by hops (1, 2+, unanswerable)",
    )
    args = parser.parse_args()
    if is_grounded(args.dataset):
        tasks = {t.id: t for t in load_dataset(args.dataset)}
        scored = [score_grounded(tasks, path) for path in args.results]
        print(grounded_table(scored, by_hops=args.by == "hops"))
        key, label = "fully_correct", "fully correct"
    else:
        rows = load_rows(args.dataset)
        scored = [score(rows, path) for path in args.results]
        print(table(scored))
        key, label = "prompt_loose", "prompt loose"
    for later in scored[1:]:
        test = mcnemar(scored[0][key], later[key])
        names = f"{label(later['file'])} against {label(scored[0]['file'])}"
        print(
            f"\n{names}, {label}: {test['gained']} gained, {test['lost']} lost, "
            f"exact McNemar p = {test['p_value']}"
        )
    if args.json:
        args.json.write_text(json.dumps(scored, indent=2))


if __name__ == "__main__":
    main()
