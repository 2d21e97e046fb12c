"""Score `refinery run --input` result files on an instruction-following data set with the
official verifiers (`evals.verifiers`), side by side: what `eval compare` reports for
instruction following, for results generated at any concurrency.

    .venv/bin/python -m evals.score_file --dataset ../shared/data/ifbench_dev.jsonl \\
        runs/if14/single_pass.jsonl runs/if14/refine_default.jsonl

Per file: prompt- and instruction-level accuracy (strict, loose; instruction level the micro
average), per instruction family, tokens a task, tasks in error, the content guard's figures
(median), and for each later file against the first an exact McNemar test on prompt-level loose.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from scipy.stats import binomtest

from evals.instruction_summary import summarise_checks
from evals.verifiers import InstructionCheck, benchmark_of, check


def load_rows(dataset: Path) -> dict[str, dict[str, Any]]:
    """Data set rows by the id `refinery run` results carry (`<benchmark>-<key>`)."""
    rows = {}
    for line in dataset.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[f"{benchmark_of(row['instruction_id_list'])}-{row['key']}"] = row
    return rows


def score(rows: dict[str, dict[str, Any]], results: Path) -> dict[str, Any]:
    """The figures of one results file (every row of the data set; a missing or failed task
    follows nothing)."""
    from nodes.content import figures

    answers = {}
    for line in results.read_text().splitlines():
        if line.strip():
            result = json.loads(line)
            answers[result["id"]] = result
    checks: dict[str, list[InstructionCheck]] = {}
    tokens, errors, guard = [], [], []
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
            guard.append(figures(answer, result["first_draft"], row["prompt"]))
    summary = summarise_checks(list(checks.values()))
    return {
        "file": str(results),
        "summary": summary.model_dump(),
        "prompt_loose": {k: all(c.loose for c in v) for k, v in checks.items()},
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
        "| errors | to task | to first draft | length share |\n" + "|---" * 10 + "|"
    )
    lines = [head]
    for s in scored:
        m, c = s["summary"], s["content"]
        lines.append(
            f"| {Path(s['file']).stem} | {m['prompt_strict']:.3f} | {m['prompt_loose']:.3f} | "
            f"{m['instruction_strict']:.3f} | {m['instruction_loose']:.3f} | "
            f"{s['tokens_per_task']:.0f} | {len(s['errors'])} | {c.get('to_task', '-')} | "
            f"{c.get('to_first_draft', '-')} | {c.get('length_share', '-')} |"
        )
    families = sorted({f for s in scored for f in s["summary"]["by_family"]})
    names = " | ".join(Path(s["file"]).stem + " loose" for s in scored)
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
    args = parser.parse_args()
    rows = load_rows(args.dataset)
    scored = [score(rows, path) for path in args.results]
    print(table(scored))
    for later in scored[1:]:
        test = mcnemar(scored[0]["prompt_loose"], later["prompt_loose"])
        names = f"{Path(later['file']).stem} against {Path(scored[0]['file']).stem}"
        print(
            f"\n{names}, prompt loose: {test['gained']} gained, {test['lost']} lost, "
            f"exact McNemar p = {test['p_value']}"
        )
    if args.json:
        args.json.write_text(json.dumps(scored, indent=2))


if __name__ == "__main__":
    main()
