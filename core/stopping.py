"""When the critique-and-refine loop stops: passed, iterations spent, plateau, token budget."""

from __future__ import annotations

from core.run_config import RunConfig
from core.state import RefineState, StopReason


def stop_reason(state: RefineState, config: RunConfig) -> StopReason | None:
    """Why the loop should stop now, or None to refine again."""
    findings = state.get("findings") or []
    if state.get("score", 0.0) >= config.score_threshold and not any(
        f["severity"] == "error" for f in findings
    ):
        return "passed"
    if state.get("iteration", 0) >= config.max_iterations:
        return "max_iterations"
    if state.get("stale", 0) >= config.plateau_patience:
        return "plateau"
    budget = config.budgets.run_tokens
    usage = state.get("usage")
    if budget and usage and usage["input_tokens"] + usage["output_tokens"] >= budget:
        return "budget"
    return None
