"""The model names the chat endpoint answers to: `refinery-<preset>` for each run configuration
preset, and `refinery` for the server's default (or, while an A/B experiment runs, the variant
assigned to the request's `user`)."""

from __future__ import annotations

import time

from api.chat.schemas import ModelList, ModelOut
from api.errors import field_error
from core.run_config import load_config, preset_names

DEFAULT_MODEL = "refinery"
PREFIX = "refinery-"
_LISTED_AT = int(time.time())


def model_name(preset: str) -> str:
    return PREFIX + preset


def model_list() -> ModelList:
    """Every model name, the default first."""
    default = ModelOut(
        id=DEFAULT_MODEL,
        created=_LISTED_AT,
        description="The server's default preset, or the A/B variant of the request's `user`.",
    )
    presets = [
        ModelOut(id=model_name(name), created=_LISTED_AT, description=load_config(name).description)
        for name in preset_names()
    ]
    return ModelList(data=[default, *presets])


def preset_of(model: str) -> str | None:
    """The preset a model name runs (None: the default or the experiment's variant); a 404 in
    OpenAI's terms (`model_not_found`) for a name that is not one of them."""
    if model == DEFAULT_MODEL:
        return None
    preset = model.removeprefix(PREFIX)
    if model.startswith(PREFIX) and preset in preset_names():
        return preset
    known = ", ".join(m.id for m in model_list().data)
    raise field_error(
        404,
        "model_not_found",
        f"the model {model!r} does not exist",
        f"use one of: {known} (GET /v1/models)",
        "model",
    )
