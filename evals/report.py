"""The comparison report: Markdown and JSON, with PNG plots (score by iteration, quality
against cost per configuration, and each metric's difference with its confidence interval)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display

import matplotlib.pyplot as plt
import numpy as np

from evals.compare import Comparison, MetricComparison, group
from evals.evaluate import EvalRun, RunStamp, TaskRow
from evals.metrics import COHERENCE, LOOPS, METRICS

PRIMARY = {
    "constrained": "concept_coverage",
    "grounded": "semantic_similarity",
    "instructions": "prompt_loose",
}
"""The quality metric each kind of task is plotted on."""
READ = ("perplexity", "pairwise", "repeated_frames")
"""The coherence metrics (`evals.metrics.COHERENCE`, `LOOPS`) plotted beside it, where a kind
has them."""
UNBOUNDED = frozenset({"perplexity", "perplexity_ratio"})
"""Quality metrics not on a 0-1 scale: their differences get a panel of their own."""


def curve(rows: list[TaskRow], key: str, last: int) -> list[float]:
    """Mean of `key` by iteration 0..last, each task carrying its last value forward once its
    run stopped (that is the answer it would return)."""
    means = []
    for iteration in range(last + 1):
        values = []
        for row in rows:
            points = [p for p in row.trajectory if p["iteration"] <= iteration and key in p]
            if points:
                values.append(points[-1][key])
        means.append(float(np.mean(values)) if values else float("nan"))
    return means


def _label(stamp: RunStamp) -> str:
    return f"{stamp.config} ({stamp.fingerprint[:6]})"


def plot_iterations(runs: list[EvalRun], path: Path) -> None:
    kinds = sorted({row.kind for run in runs for row in run.rows})
    panels = [("concept_coverage", "constrained")] if "constrained" in kinds else []
    panels += [("prompt_loose", "instructions")] if "instructions" in kinds else []
    panels += [("engine_score", kind) for kind in kinds]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, (key, kind) in zip(axes[0], panels, strict=True):
        chosen = [[r for r in run.rows if r.kind == kind and r.trajectory] for run in runs]
        # every curve spans the longest run: a stopped run keeps returning its answer
        last = max(
            (int(p["iteration"]) for rows in chosen for r in rows for p in r.trajectory), default=0
        )
        for run, rows, marker in zip(runs, chosen, "os^D", strict=False):
            ax.plot(
                range(last + 1),
                curve(rows, key, last),
                marker=marker,
                label=_label(run.summary.stamp),
            )
        ax.set(
            title=f"{key.replace('_', ' ')} ({kind} tasks)",
            xlabel="iteration",
            ylabel=f"mean {key.replace('_', ' ')}",
        )
        ax.set_xticks(range(last + 1))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Score by iteration (best answer so far)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _mean_ci(values: list[float]) -> tuple[float, float]:
    data = np.asarray([v for v in values if not np.isnan(v)], dtype=float)
    if len(data) < 2:
        return (float(data.mean()) if len(data) else float("nan")), 0.0
    return float(data.mean()), float(1.96 * data.std(ddof=1) / np.sqrt(len(data)))


def _axis_label(metric: str) -> str:
    info = METRICS.get(metric)
    lower = info is not None and not info.higher_is_better
    return metric.replace("_", " ") + (", lower is better" if lower else "")


def _panel_title(kind: str, metric: str) -> str:
    """The kind of task, and for a coherence metric the model that read the answers."""
    info = METRICS.get(metric)
    if metric in COHERENCE and info is not None:
        return f"{kind} tasks, read by {info.judge}"
    return f"{kind} tasks"


def quality_panels(runs: list[EvalRun]) -> list[tuple[str, str]]:
    """(kind, metric) per quality panel: each kind's primary metric, then the coherence
    metrics the kind's rows have."""
    panels = []
    for kind, primary in PRIMARY.items():
        rows = [r for run in runs for r in run.rows if r.kind == kind]
        if rows:
            panels.append((kind, primary))
            panels += [(kind, m) for m in READ if any(m in r.metrics for r in rows)]
    return panels


def plot_quality_cost(runs: list[EvalRun], path: Path) -> None:
    panels = quality_panels(runs)
    width = max(1, len(panels))
    fig, axes = plt.subplots(1, width, figsize=(5 * width, 4), squeeze=False)
    for ax, (kind, metric) in zip(axes[0], panels, strict=False):
        for run in runs:
            rows = [r for r in run.rows if r.kind == kind]
            quality, q_err = _mean_ci([r.metrics.get(metric, np.nan) for r in rows])
            tokens, t_err = _mean_ci([r.metrics["tokens"] for r in rows])
            ax.errorbar(
                tokens,
                quality,
                xerr=t_err,
                yerr=q_err,
                fmt="o",
                capsize=4,
                label=_label(run.summary.stamp),
            )
        ax.set(
            title=_panel_title(kind, metric),
            xlabel="tokens per task (mean, 95% CI)",
            ylabel=f"{_axis_label(metric)} (mean, 95% CI)",
        )
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Quality against cost per configuration")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_differences(comparison: Comparison, path: Path) -> None:
    """The quality metrics' paired differences; those not on a 0-1 scale (`UNBOUNDED`) on a
    panel of their own, so they do not squeeze the others to a point."""
    quality = [m for m in comparison.metrics if group(m.family) == "quality"]
    parts = [
        part
        for part in (
            [m for m in quality if m.metric not in UNBOUNDED],
            [m for m in quality if m.metric in UNBOUNDED],
        )
        if part
    ] or [[]]
    heights = [0.4 * len(part) + 1.0 for part in parts]
    fig, axes = plt.subplots(
        len(parts),
        1,
        figsize=(7, sum(heights) + 0.5),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for ax, part in zip(axes[:, 0], parts, strict=True):
        for y, m in enumerate(part):
            colour = {"b": "tab:green", "a": "tab:red", "none": "tab:gray"}[m.better]
            error = [[m.mean_diff - m.ci_low], [m.ci_high - m.mean_diff]]
            ax.errorbar(m.mean_diff, y, xerr=error, fmt="o", color=colour, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(part)), [m.metric for m in part])
        ax.set_xlabel(f"mean difference, {comparison.b.config} - {comparison.a.config} (95% CI)")
        ax.grid(alpha=0.3, axis="x")
    axes[0, 0].set_title("Paired differences (green/red: significant after Holm)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _row(m: MetricComparison) -> str:
    name = f"{m.metric} [judge: {m.judge}]" if m.judge else m.metric
    name += " (micro)" if m.weighted else ""
    dz = f"{m.cohens_dz:+.2f}" if m.cohens_dz is not None else "-"
    mark = {"b": "B better", "a": "A better", "none": ""}[m.better]
    cells = [
        name,
        m.family,
        str(m.n),
        f"{m.mean_a:.3f}",
        f"{m.mean_b:.3f}",
        f"{m.mean_diff:+.3f}",
        f"[{m.ci_low:+.3f}, {m.ci_high:+.3f}]",
        f"{m.p_value:.4f}",
        f"{m.p_holm:.4f}",
        f"{m.rank_biserial:+.2f}",
        dz,
        f"{m.wins}/{m.losses}",
        mark,
    ]
    return "| " + " | ".join(cells) + " |"


def _stamp_lines(tag: str, s: RunStamp) -> list[str]:
    data = ", ".join(
        f"{Path(d.path).name} ({d.tasks} tasks, sha256 {d.sha256})" for d in s.datasets
    )
    dirty = " (uncommitted changes)" if s.git_dirty else ""
    return [
        f"- **{tag}**: `{s.config}` fingerprint `{s.fingerprint}`, model `{s.model}`, "
        f"commit `{s.git_commit[:12]}`{dirty}; {data}"
    ]


def instruction_lines(comparison: Comparison) -> list[str]:
    """Per benchmark both runs scored: prompt- and instruction-level accuracy, strict and loose,
    then each instruction family (instruction level), A against B."""
    lines = []
    a, b = comparison.instructions_a, comparison.instructions_b
    for name in sorted(set(a) & set(b)):
        x, y = a[name], b[name]
        lines += [
            f"### {name} ({x.prompts} and {y.prompts} prompts, {x.instructions} and "
            f"{y.instructions} instructions)",
            "",
            "| figure | A strict | B strict | A loose | B loose |",
            "| --- | --- | --- | --- | --- |",
            f"| prompt level | {x.prompt_strict:.3f} | {y.prompt_strict:.3f} "
            f"| {x.prompt_loose:.3f} | {y.prompt_loose:.3f} |",
            f"| instruction level | {x.instruction_strict:.3f} | {y.instruction_strict:.3f} "
            f"| {x.instruction_loose:.3f} | {y.instruction_loose:.3f} |",
        ]
        for family in sorted(set(x.by_family) & set(y.by_family)):
            f, g = x.by_family[family], y.by_family[family]
            lines.append(
                f"| {family} ({f.instructions}) | {f.strict:.3f} | {g.strict:.3f} "
                f"| {f.loose:.3f} | {g.loose:.3f} |"
            )
        lines.append("")
    return ["## Instruction following", "", *lines] if lines else []


def coherence_note(comparison: Comparison) -> list[str]:
    """What the coherence metrics are, when the comparison has them."""
    found = [m for m in comparison.metrics if m.metric in COHERENCE]
    loops = any(m.metric in LOOPS for m in comparison.metrics)
    lines = []
    if found:
        lines += [
            f"Coherence, read by a second model ({found[0].judge}), not the writer: `perplexity` "
            "is the final answer's per-token perplexity and `perplexity_ratio` its ratio to the "
            "first draft's (lower is better for both); `pairwise` judges the final answer "
            "against the first draft in both orders, counting a verdict only when the orders "
            "agree (1 final better, 0.5 tie or disagreement, 0 worse), and `judged_not_worse` "
            "is 1 where it is at least 0.5.",
            "",
        ]
    if loops:
        lines += [
            "`repeated_frames` (no model) is the share of the answer's sentences that repeat an "
            "earlier one's frame: the same first three words, or a third of its word trigrams in "
            "one earlier sentence (lower is better). A loop reads as predictable, so perplexity "
            "alone rewards it.",
            "",
        ]
    return lines


def markdown(comparison: Comparison, plots: list[str]) -> str:
    head = (
        "| metric | family | n | A | B | B-A | 95% CI | Wilcoxon p | Holm p | rank-biserial "
        "| Cohen dz | wins/losses | |\n|" + " --- |" * 13
    )
    rows = {
        name: [_row(m) for m in comparison.metrics if group(m.family) == name]
        for name in ("quality", "content", "abstention", "cost")
    }
    lines = [
        f"# {comparison.b.config} against {comparison.a.config}",
        "",
        *_stamp_lines("A", comparison.a),
        *_stamp_lines("B", comparison.b),
        "",
        f"**Verdict:** {comparison.verdict_text}.",
        "",
        f"{comparison.paired_tasks} tasks paired by id. Differences are B minus A; p-values from "
        "the two-sided Wilcoxon signed-rank test, Holm-corrected within the quality metrics that "
        "differ on some task, within the content figures, within the abstention rate and within "
        "the cost metrics; the "
        "interval is a paired bootstrap (5000 resamples) of the "
        "mean difference; wins/losses count tasks where B is better/worse. A (micro) metric's "
        "means and interval weigh each task by its number of instructions, as IFEval and "
        "IFBench report instruction-level accuracy; its test stays per task.",
        "",
        "## Quality",
        "",
        head,
        *rows["quality"],
        "",
        *coherence_note(comparison),
        *(
            [
                "## Content (informational: the content guard's figures, no verdict)",
                "",
                head,
                *rows["content"],
                "",
            ]
            if rows["content"]
            else []
        ),
        *(
            [
                "## Abstention (informational: answers saying the documents do not hold the "
                "answer; right on unanswerable questions, wrong on the rest, so no verdict)",
                "",
                head,
                *rows["abstention"],
                "",
            ]
            if rows["abstention"]
            else []
        ),
        "## Cost (lower is better)",
        "",
        head,
        *rows["cost"],
        "",
        *instruction_lines(comparison),
        "## Plots",
        "",
        *[f"![{p}]({p})" for p in plots],
        "",
    ]
    return "\n".join(lines)


def write_report(a: EvalRun, b: EvalRun, comparison: Comparison, out: Path) -> Path:
    """Write report.md, report.json and the plots into `out`; returns the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    plots = ["score_by_iteration.png", "quality_vs_cost.png", "differences.png"]
    plot_iterations([a, b], out / plots[0])
    plot_quality_cost([a, b], out / plots[1])
    plot_differences(comparison, out / plots[2])
    (out / "report.json").write_text(json.dumps(comparison.model_dump(), indent=2) + "\n")
    path = out / "report.md"
    path.write_text(markdown(comparison, plots))
    return path
