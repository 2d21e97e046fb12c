"""Reliability and security under crashes, outages, load and hostile input, in one run.

Run: `.venv/bin/python -m bench.reliability` (or `make reliability`). It starts its own
processes on loopback: an append-only redis-server with a password, two fake model servers
speaking the OpenAI protocol (primary and fallback tier, steered over HTTP), and two
`refinery serve` processes sharing that Redis. Then, in order: model faults, prompt injection
(fake model), hostile input (crafted bodies and schemathesis), load (capacity, 3x, a soak at 2x),
Redis outage, process crash (SIGKILL mid-stream, restart, resume), access; finally prompt
injection on the real local model (under `flock /tmp/refinery-model.lock`; `--no-model` skips
it). Prints a report per scenario (requests sent, completed, failed and why, threads interrupted
and resumed, data lost) and writes it to bench/out/reliability.json; exits 1 unless all held.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.scenarios import access, crash, hostile, injection, load, model_faults, outage
from bench.scenarios.report import Scenario, render
from bench.scenarios.stack import Stack, running_stack

OUT = Path(__file__).resolve().parent / "out" / "reliability.json"


def scenarios(args: argparse.Namespace) -> dict[str, Callable[[Stack], Awaitable[Scenario]]]:
    return {
        "model_faults": model_faults.run,
        "injection": lambda stack: injection.run(stack, real_model=False),
        "hostile": lambda stack: hostile.run(stack, examples=args.examples),
        "load": lambda stack: load.run(stack, soak_s=args.soak_s),
        "outage": outage.run,
        "crash": crash.run,
        "access": access.run,  # last: it reads every log the others left
    }


async def run_all(args: argparse.Namespace, workdir: Path) -> list[Scenario]:
    done: list[Scenario] = []
    chosen = scenarios(args)
    with running_stack(workdir) as stack:
        for name, scenario in chosen.items():
            if args.only and name not in args.only:
                continue
            started = time.monotonic()
            print(f"-- {name} ...", file=sys.stderr, flush=True)
            try:
                report = await scenario(stack)
            except Exception as exc:  # a scenario that breaks is reported, the rest still run
                report = Scenario(name, "(did not finish)")
                report.check(f"ran to the end: {type(exc).__name__}: {exc}", False)
                traceback.print_exc()
            report.seconds = time.monotonic() - started
            done.append(report)
            print(render([report]), file=sys.stderr, flush=True)
    if args.model and (not args.only or "injection" in args.only):
        started = time.monotonic()
        print("-- injection on the real local model ...", file=sys.stderr, flush=True)
        report = Scenario(
            "prompt injection, real local model",
            "planted instructions in documents, answered by the embedded local model (single_pass)",
        )
        injection._real(report)
        report.seconds = time.monotonic() - started
        done.append(report)
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--soak-s", type=float, default=240.0, help="length of the soak")
    parser.add_argument("--examples", type=int, default=25, help="schemathesis examples per op")
    parser.add_argument(
        "--no-model", dest="model", action="store_false", help="skip the real local model"
    )
    parser.add_argument("--only", nargs="*", help="run only these scenarios")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()
    for name, value in {"RAGAS_DO_NOT_TRACK": "true", "HF_HUB_OFFLINE": "1"}.items():
        os.environ.setdefault(name, value)
    workdir = Path(tempfile.mkdtemp(prefix="refinery-reliability-"))
    started = time.monotonic()
    try:
        reports = asyncio.run(run_all(args, workdir))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render(reports))
    print(
        f"== {time.monotonic() - started:.0f} s in all"
        + (f"; logs in {workdir}" if args.keep else "")
    )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps([r.as_dict() for r in reports], indent=2, default=str))
    sys.exit(0 if all(r.held for r in reports) else 1)


if __name__ == "__main__":
    main()
