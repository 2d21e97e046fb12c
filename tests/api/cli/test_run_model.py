"""README command 1, end to end on the real embedded local model: `refinery run` drafts,
checks and refines offline, the embedded model (Qwen) answered every call, and the final answer
is the best-scoring draft (the first that reached the top score), never worse than the first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.text.lexicon import coverage

REFINERY = str(Path(sys.executable).with_name("refinery"))
WORDS = ["snow", "dog", "coffee", "window", "run", "scarf"]


@pytest.mark.model
def test_refinery_run_refines_on_the_local_model(redis_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFINERY_OPENAI")}
    env |= {"REDIS_URL": redis_url, "REFINERY_LLM_TIMEOUT_S": "600"}
    done = subprocess.run(
        [
            REFINERY,
            "run",
            "Write a short story about a winter morning.",
            "--words",
            ",".join(WORDS),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["error"] is None
    assert result["answer"]
    assert coverage(result["answer"], WORDS) >= coverage(result["first_draft"], WORDS)
    assert result["stop_reason"] in {"passed", "max_iterations", "plateau"}
    best = max(result["history"], key=lambda h: h["score"])  # the first of equals, as score keeps
    assert result["answer"] == best["draft"] and result["score"] == best["score"]
    usage = result["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    models = list(usage["by_model"])
    assert models and all("qwen" in m.lower() for m in models), f"not the local model: {models}"
    assert "draft" in result["usage"]["by_node"]
    # the progress a person watches goes to stderr, node by node
    assert "draft" in done.stderr and "score" in done.stderr
