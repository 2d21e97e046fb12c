"""The suite-under-load check runs pytest the asked number of times beside busy processes,
records each run, exits 1 when any run failed, and leaves no busy process behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]

CASE = """from pathlib import Path

def test_passes_only_the_first_time() -> None:
    seen = Path(__file__).with_suffix(".seen")
    first = not seen.exists()
    seen.touch()
    assert first
"""


def test_each_run_is_recorded_a_failed_one_fails_the_check_and_the_load_ends(
    tmp_path: Path,
) -> None:
    case = tmp_path / "cases" / "test_case.py"
    case.parent.mkdir()
    case.write_text(CASE)
    logs = tmp_path / "logs"
    done = subprocess.run(
        [sys.executable, "-m", "bench.suite_under_load", "--runs", "2", "--hogs", "1",
         "--logs", str(logs), str(case)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    runs = [json.loads(line) for line in (logs / "summary.jsonl").read_text().splitlines()]
    assert [(r["run"], r["exit_code"], r["hogs"]) for r in runs] == [(1, 0, 1), (2, 1, 1)]
    assert "1 passed" in runs[0]["result"] and "1 failed" in runs[1]["result"]
    assert (logs / "run-2.log").read_text().count("assert first") >= 1
    assert done.returncode == 1 and "1 of 2 runs passed under 1 busy processes" in done.stdout
    # this run's hogs are forks of it, so they carry its own `--logs` path; an outer run of the
    # check (the suite itself under load) has other processes of the same name, which stay
    spinning = [p for p in psutil.process_iter(["cmdline"]) if str(logs) in
                " ".join(p.info["cmdline"] or [])]  # fmt: skip
    assert not spinning
