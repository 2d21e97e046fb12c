"""A trained adapter exported to GGUF with llama.cpp's own converter (`convert_lora_to_gguf.py`
from the llama.cpp source that llama-cpp-python's sdist vendors, kept by scripts/setup.sh), so the
local `llama-server` loads it with `--lora`; the file is read back with `gguf` to check it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from core.settings import PROJECT_ROOT

CONVERTER = Path("src/llama.cpp/vendor/llama.cpp/convert_lora_to_gguf.py")


class ConverterMissingError(RuntimeError):
    """The vendored llama.cpp source is not there (run scripts/setup.sh)."""


class ExportedAdapter(BaseModel):
    path: str
    bytes: int
    tensors: int
    architecture: str
    alpha: float


def adapter_name(recipe: str, data: Path) -> str:
    """The GGUF's file name, `<recipe>-<data set version>.gguf`: its stem is what the local
    server's model name carries (`<base>+<stem>`), so two students are told apart in results."""
    manifest = data / "manifest.json"
    version = json.loads(manifest.read_text())["version"] if manifest.is_file() else "unversioned"
    return f"{recipe}-{version}.gguf"


def converter() -> Path:
    """llama.cpp's adapter converter in the virtual environment's vendored source."""
    for venv in (Path(sys.prefix), PROJECT_ROOT / ".venv"):
        script = venv / CONVERTER
        if script.is_file():
            return script
    raise ConverterMissingError(
        f"{CONVERTER} is not in the virtual environment: run scripts/setup.sh (it keeps the "
        "llama.cpp source it builds llama-server from)"
    )


def export_adapter(adapter: Path, base_config: Path, target: Path, outtype: str) -> ExportedAdapter:
    """Convert a peft adapter folder to one GGUF file at `target` and describe it."""
    import gguf

    target.parent.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [
        sys.executable, str(converter()), "--base", str(base_config), "--outfile", str(target),
        "--outtype", outtype, str(adapter),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0 or not target.is_file():
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise RuntimeError(f"convert_lora_to_gguf.py failed ({done.returncode}):\n{tail}")
    reader = gguf.GGUFReader(target)

    def field(name: str) -> object:
        value = reader.get_field(name)
        if value is None:
            raise RuntimeError(f"{target} has no {name}: not a LoRA adapter")
        return value.contents()

    if field("general.type") != "adapter" or field("adapter.type") != "lora":
        raise RuntimeError(f"{target} is not a LoRA adapter")
    return ExportedAdapter(
        path=str(target),
        bytes=target.stat().st_size,
        tensors=len(reader.tensors),
        architecture=str(field("general.architecture")),
        alpha=float(field("adapter.lora.alpha")),  # type: ignore[arg-type]
    )
