"""Metrics under several worker processes: each worker writes its samples to the shared
multiprocess folder and one exposition sums them, counters and live gauges alike."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from core.llm.stats import llm_stats
from core.telemetry import metrics

WORKER = """
import sys
from core.telemetry import metrics as m
for _ in range({runs}):
    m.RUNS.labels("open", "-", "ok").inc()
m.IN_FLIGHT.inc(2)
m.TOKENS.labels("fake", "draft", "open", "in").inc(100)
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()   # stay alive (live gauges count live processes only)
"""

READER = """
import sys
from core.telemetry import metrics as m
body, _ = m.exposition()
sys.stdout.write(body.decode())
"""


def _sample(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} missing from:\n{text}"
    return float(match.group(1))


def test_exposition_sums_every_worker_process(tmp_path: Path) -> None:
    env = {**os.environ, "REFINERY_PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER.format(runs=runs)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for runs in (3, 4)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
        read = [sys.executable, "-c", READER]
        text = subprocess.run(read, env=env, capture_output=True, text=True, check=True).stdout
        assert (
            _sample(text, 'refinery_runs_total{outcome="ok",request_type="open",variant="-"}') == 7
        )
        assert _sample(text, "refinery_runs_in_flight") == 4  # livesum over two live workers
        tokens = (
            'refinery_tokens_total{direction="in",model="fake",request_type="open",role="draft"}'
        )
        assert _sample(text, tokens) == 200
    finally:
        for worker in workers:
            worker.communicate("\n", timeout=30)
    # Once the workers are gone (and reaped), their live gauges go with them.
    for worker in workers:
        metrics.multiprocess.mark_process_dead(worker.pid, str(tmp_path / "prom"))
    text = subprocess.run(read, env=env, capture_output=True, text=True, check=True).stdout
    assert "refinery_runs_in_flight 4.0" not in text
    assert _sample(text, 'refinery_runs_total{outcome="ok",request_type="open",variant="-"}') == 7


def test_model_layer_counters_reach_the_metrics() -> None:
    """Retries, fallbacks and cache hits counted by `core.llm.stats` appear in `/metrics`."""
    before, _ = metrics.exposition()
    stats = llm_stats()
    stats.retry("InternalServerError", 0.5)
    stats.retry("InternalServerError", 1.0)
    stats.count("fallbacks", "tier1")
    stats.count("cache_hits", "redis", 3)
    stats.add("saved_input_tokens", 120)
    after = metrics.exposition()[0].decode()

    def delta(name: str) -> float:
        old = re.search(rf"^{re.escape(name)} (\S+)$", before.decode(), re.MULTILINE)
        return _sample(after, name) - (float(old.group(1)) if old else 0.0)

    assert delta('refinery_llm_retries_total{cause="InternalServerError"}') == 2
    assert delta('refinery_llm_fallbacks_total{tier="tier1"}') == 1
    assert delta('refinery_llm_cache_lookups_total{layer="redis",result="hit"}') == 3
    assert delta('refinery_llm_cache_saved_tokens_total{direction="in"}') == 120
