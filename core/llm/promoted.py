"""The promoted student, a local model besides the embedded default that a preset's role can
name (`refinery train promote` records it in `data/training/promoted.json`: a base GGUF and its
LoRA adapter): served by a `llama-server` of its own the first time a role asks for it, with the
deployment's own chain as its fallback. The record is read when a role's chain is first built,
so a new promotion reaches a process started after it (or after `reset_models`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

PROMOTED = "promoted"
"""What a role's `model` says to be answered by whichever model is promoted now (a preset
cannot name an adapter's own name: each training gives a new one)."""


class LocalModel(BaseModel):
    """A model the project serves itself: a GGUF, with a LoRA adapter over it."""

    model_config = ConfigDict(frozen=True)

    name: str
    """The name its server answers to: `<base file stem>+<adapter file stem>`."""
    base_file: str
    adapter_file: str
    report: str = ""
    """The training pipeline's report that allowed it."""

    def environment(self) -> dict[str, str]:
        """The settings that serve it as the embedded default instead."""
        return {"REFINERY_MODEL_PATH": self.base_file, "REFINERY_MODEL_LORA": self.adapter_file}

    def settings(self, settings: Settings) -> Settings:
        """`settings` with this model as the one its local server serves."""
        update = {"model_path": Path(self.base_file), "model_lora": Path(self.adapter_file)}
        return settings.model_copy(update=update)


class NoPromotedModelError(LookupError):
    """A role names the promoted model and none is promoted (or its record is unreadable)."""


def promoted_path(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "training" / "promoted.json"


def promoted_model(settings: Settings | None = None) -> LocalModel | None:
    """The promoted model, if one is."""
    path = promoted_path(settings)
    if not path.is_file():
        return None
    try:
        return LocalModel.model_validate(json.loads(path.read_text()))
    except (ValueError, ValidationError) as exc:
        raise NoPromotedModelError(f"{path} is not a promoted model's record: {exc}") from exc


def named_local_model(name: str | None, settings: Settings | None = None) -> LocalModel | None:
    """The local model a role's `model` names (`promoted`, or the promoted model's own name);
    None where it names none of them (the deployment's endpoints serve the role)."""
    if name is None:
        return None
    try:
        model = promoted_model(settings)
    except NoPromotedModelError:
        if name == PROMOTED:
            raise
        log.warning("a broken promoted-model record is ignored for model %r", name, exc_info=True)
        return None  # a deployment's own model name must not fail on it
    if name == PROMOTED and model is None:
        raise NoPromotedModelError(
            f"a role asks for the {PROMOTED!r} model, but none is promoted in "
            f"{promoted_path(settings)}: train one and run `refinery train promote`"
        )
    return model if model is not None and name in (PROMOTED, model.name) else None
