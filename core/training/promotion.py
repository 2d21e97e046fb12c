"""Promotion: a trained adapter that its evaluation allows becomes the promoted local model, which
a preset's role names as `promoted` (`core.llm.promoted`: its own local server, base and
adapter) or a deployment serves as its default (`REFINERY_MODEL_PATH` = its base,
`REFINERY_MODEL_LORA` = the adapter); the decision is a person's (`refinery train promote`)
unless the recipe promotes on its own."""

from __future__ import annotations

import json
from pathlib import Path

from core.llm.promoted import LocalModel, promoted_path
from core.settings import Settings


class NotPromotableError(ValueError):
    """The run has no adapter, or its evaluation refused it."""


def promote(
    report_dir: Path, *, force: bool = False, settings: Settings | None = None
) -> LocalModel:
    """Record the run in `report_dir` as the promoted model (a refused evaluation needs `force`)."""
    from core.training.pipeline import load_report

    report = load_report(report_dir)
    if report.adapter is None or report.training is None:
        raise NotPromotableError(f"{report_dir}: the run produced no adapter ({report.promotion})")
    if report.promotion == "refused" and not force:
        worse = ", ".join(report.evaluation.worse_on) if report.evaluation else "?"
        raise NotPromotableError(f"{report_dir}: its evaluation refused it (worse on {worse})")
    adapter = Path(report.adapter.path)
    base = Path(report.training.base_file)
    model = LocalModel(
        name=f"{base.stem}+{adapter.stem}",
        base_file=str(base),
        adapter_file=str(adapter),
        report=str(report_dir),
    )
    target = promoted_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(model.model_dump(), indent=2) + "\n")
    return model
