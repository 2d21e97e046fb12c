"""The comparison report: coherence figures get their rows, their note naming the second model,
and their panels on the quality axis of the plot, where the runs have them."""

from __future__ import annotations

from pathlib import Path

from evals.coherence import READER
from evals.compare import compare
from evals.report import quality_panels, write_report
from tests.evals.synthetic import make_run

IDS = [f"t{i:02d}" for i in range(10)]


def _run(config: str, ratio: float, frames: float) -> object:
    return make_run(
        config,
        {
            task: {
                "concept_coverage": 0.5 + 0.05 * n,
                "tokens": 300.0,
                "perplexity": 8.0 * ratio + n,
                "perplexity_ratio": ratio,
                "pairwise": 0.5,
                "judged_not_worse": 1.0,
                # B - A is `frames` on every task, through sums that round apart
                "repeated_frames": 0.07 * n + frames,
            }
            for n, task in enumerate(IDS)
        },
    )


def test_coherence_figures_are_reported_beside_coverage(tmp_path: Path) -> None:
    a, b = _run("single_pass", 1.0, 0.0), _run("refine_default", 1.4, 0.2)
    comparison = compare(a, b)
    report = write_report(a, b, comparison, tmp_path).read_text()

    assert f"| perplexity_ratio [judge: {READER}] | coherence | 10 | 1.000 | 1.400 |" in report
    # one difference on every task: no spread, so no effect size (it printed dz = 6.2e15)
    assert "| repeated_frames | coherence | 10 | 0.315 | 0.515 | +0.200 |" in report
    frames_row = next(line for line in report.splitlines() if "| repeated_frames |" in line)
    assert frames_row.split("|")[11].strip() == "-"  # Cohen dz
    assert f"Coherence, read by a second model ({READER}), not the writer" in report
    assert "`repeated_frames` (no model)" in report
    by_name = {m.metric: m for m in comparison.metrics}
    assert by_name["perplexity_ratio"].better == "a"  # lower reads better
    assert by_name["perplexity_ratio"].judge == READER
    assert quality_panels([a, b]) == [
        ("constrained", "concept_coverage"),
        ("constrained", "perplexity"),
        ("constrained", "pairwise"),
        ("constrained", "repeated_frames"),
    ]
    for plot in ("score_by_iteration.png", "quality_vs_cost.png", "differences.png"):
        assert (tmp_path / plot).read_bytes()[:4] == b"\x89PNG"


def test_runs_without_coherence_get_neither_note_nor_panels(tmp_path: Path) -> None:
    plain = {task: {"concept_coverage": 0.5, "tokens": 100.0} for task in IDS}
    a, b = make_run("single_pass", plain), make_run("refine_default", plain)
    report = write_report(a, b, compare(a, b), tmp_path).read_text()
    assert "read by a second model" not in report and "repeated_frames" not in report
    assert quality_panels([a, b]) == [("constrained", "concept_coverage")]
