"""Evaluation before promotion: the trained student (its base with the adapter, served by the
local server as `<base>+<adapter>`), its base, and the deployment's current default model each
answer the recipe's held-out rows under one preset (`refinery eval run`, one process each, so
each gets its own local server), then `evals.compare` says where the student differs; it may be
promoted only when it is significantly worse than neither on the metrics that must not worsen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.training.bases import base_file
from core.training.config import TrainConfig
from core.training.pipeline import Evaluation
from evals.compare import Comparison, compare, group
from evals.evaluate import EvalRun
from evals.report import write_report

ALL_ROWS = 1_000_000
"""`--limit` for a set evaluated whole (the command takes one limit per data set)."""


def eval_command(recipe: TrainConfig, out: Path, concurrency: int = 1) -> list[str]:
    """`refinery eval run` over the recipe's evaluation rows under its preset."""
    command = [sys.executable, "-m", "api.cli.main", "eval", "run", "--out", str(out)]
    command += ["--config", recipe.evaluation.preset, "--concurrency", str(concurrency)]
    command += ["--coherence" if recipe.evaluation.coherence else "--no-coherence"]
    for rows in recipe.evaluation.sets:
        command += ["--dataset", str(rows.path), "--limit", str(rows.first or ALL_ROWS)]
    return command


def run_side(
    recipe: TrainConfig, out: Path, adapter: Path | None, concurrency: int, *, base: bool = True
) -> EvalRun:
    """One side of the comparison, in its own process (its own local model server): the
    recipe's base (with `adapter` over it, if given), or with `base` False the deployment's
    current default model as its settings serve it."""
    env = dict(os.environ)
    if base:
        env["REFINERY_MODEL_PATH"] = str(base_file(recipe.base))
        env.pop("REFINERY_MODEL_LORA", None)
    if adapter is not None:
        env["REFINERY_MODEL_LORA"] = str(adapter)
    done = subprocess.run(eval_command(recipe, out, concurrency), env=env, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"refinery eval run for {out.name} failed ({done.returncode})")
    return EvalRun.load(out)


def decide(comparison: Comparison, must_not_worsen: list[str] | None) -> list[str]:
    """The metrics on which B (the student) is significantly worse and may not be."""
    return [
        m.metric
        for m in comparison.metrics
        if m.better == "a"
        and (m.metric in must_not_worsen if must_not_worsen else group(m.family) == "quality")
    ]


def evaluate_adapter(
    recipe: TrainConfig, adapter: Path, out: Path, concurrency: int = 1
) -> Evaluation:
    """Base against student on the held-out rows, and the current default against the student
    when the recipe asks; the reports are written under `out` (`out/vs-default` for the
    second)."""
    rules = recipe.evaluation
    base = run_side(recipe, out / "base", None, concurrency)
    student = run_side(recipe, out / "student", adapter, concurrency)
    comparison = compare(base, student)
    report = write_report(base, student, comparison, out)
    worse = decide(comparison, rules.must_not_worsen)
    complete = comparison.verdict != "incomplete"
    means = {"base": base.summary.means, "student": student.summary.means}
    default_report = default_verdict = None
    worse_than_default: list[str] = []
    if rules.against_default:
        default = run_side(recipe, out / "default", None, concurrency, base=False)
        versus = compare(default, student)
        default_report = str(write_report(default, student, versus, out / "vs-default"))
        default_verdict = versus.verdict_text
        worse_than_default = decide(versus, rules.must_not_worsen)
        complete = complete and versus.verdict != "incomplete"
        means["default"] = default.summary.means
    return Evaluation(
        report=str(report),
        verdict=comparison.verdict_text,
        worse_on=worse,
        default_report=default_report,
        default_verdict=default_verdict,
        worse_than_default_on=worse_than_default,
        allows_promotion=not worse and not worse_than_default and complete,
        means=means,
    )
