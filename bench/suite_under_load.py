"""The whole test suite, several times in a row, on a loaded machine: a check that no test
depends on timing (issue 17 asks for five consecutive green runs under a CPU hog on every core).

Run: `.venv/bin/python -m bench.suite_under_load --runs 5` from a clean checkout with its set-up
done (`scripts/setup.sh --test`). It starts one busy process per core (`--hogs`), then runs
`python -m pytest -p no:cacheprovider` `--runs` times one after another, each with its exit
code, wall time and pytest's last line; the hogs are stopped however it ends. Each run's output
goes to `--logs`/run-N.log and the figures to `--logs`/summary.jsonl. Exits 1 unless every run
passed. Nothing else should use the machine meanwhile: the load is the hogs, stated.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spin() -> None:
    """Busy arithmetic until killed: one core's worth of load."""
    x = 0
    while True:
        x = (x * 1103515245 + 12345) % 2147483648


def last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else ""


def run_suite(number: int, logs: Path, pytest_args: list[str]) -> dict[str, object]:
    """One full pytest run, its output in `logs`/run-N.log."""
    log = logs / f"run-{number}.log"
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *pytest_args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return {
        "run": number,
        "exit_code": code,
        "seconds": round(time.monotonic() - started),
        "result": last_line(log),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 1, help="busy processes")
    parser.add_argument("--logs", type=Path, default=ROOT / "bench" / "out" / "suite_under_load")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (default: everything)")
    args = parser.parse_args()
    args.logs.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"conditions: commit {commit}, {os.cpu_count()} cores, {args.hogs} busy processes "
        f"beside the suite, {args.runs} runs in a row",
        flush=True,
    )
    hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    figures = []
    try:
        for number in range(1, args.runs + 1):
            figure = run_suite(number, args.logs, args.pytest_args)
            figures.append(figure)
            with (args.logs / "summary.jsonl").open("a") as out:
                out.write(json.dumps({"commit": commit, "hogs": args.hogs} | figure) + "\n")
            print(
                f"run {number}: exit {figure['exit_code']} in {figure['seconds']} s: "
                f"{figure['result']}",
                flush=True,
            )
    finally:
        for hog in hogs:
            hog.kill()
    passed = sum(f["exit_code"] == 0 for f in figures)
    print(f"{passed} of {args.runs} runs passed under {args.hogs} busy processes", flush=True)
    sys.exit(0 if passed == args.runs else 1)


if __name__ == "__main__":
    main()
