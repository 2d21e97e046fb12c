"""A GGUF base dequantised once into a Hugging Face folder (float32 safetensors, config and
tokenizer) that later loads read instead of the GGUF: transformers parses a GGUF's metadata in
pure Python three times a load (config, tokenizer, weights), about 20 s each for SmolLM2's
49k-token vocabulary on two busy cores, where the saved folder loads in 1.2 s (7.8 s for the
first load of a process, which imports the model's classes). The copy is float32 on disk:
about 0.5 GB for SmolLM2-135M, 2 GB for the 0.5B Qwen, 6 GB for the 1.5B; a copy made by
another transformers version is not read (nor removed)."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_DIR = "dequantised"
READY = "complete"
"""Written last into a finished folder (it holds the folder's key): a folder without it is an
interrupted conversion."""


def cache_key(gguf: Path) -> str:
    """The folder name of `gguf`'s dequantised copy: its content hash and the transformers
    version that converted it (another version may map the tensors differently)."""
    import transformers

    with gguf.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return f"{gguf.stem}-{digest[:16]}-transformers-{transformers.__version__}"


def _from_gguf(gguf: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    # The GGUF's tensors were dequantised on load: what is in memory is a plain float32 model,
    # which Trainer would otherwise refuse as "quantized with GGUF".
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    model.config.__dict__.pop("quantization_config", None)
    return model, tokenizer


def _save(model: Any, tokenizer: Any, target: Path, key: str) -> None:
    """Write the folder next to `target` and rename it into place, so a reader sees a whole
    copy or none; a concurrent writer that got there first wins."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not (target / READY).is_file():
        shutil.rmtree(target, ignore_errors=True)  # an interrupted conversion's leftovers
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / READY).write_text(key + "\n")
        staging.rename(target)
    except OSError as error:  # another process renamed its copy first, or the disk is full
        log.warning("dequantised copy not kept at %s: %s", target, error)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_dequantised(gguf: Path, cache_root: Path) -> tuple[Any, Any]:
    """`gguf` as a float32 model and its tokenizer (chat template included), from the copy under
    `cache_root` when one is there, else from the GGUF, saving the copy for the next load."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    key = cache_key(gguf)
    folder = cache_root / CACHE_DIR / key
    if (folder / READY).is_file():
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
        return model, tokenizer
    model, tokenizer = _from_gguf(gguf)
    _save(model, tokenizer, folder, key)
    return model, tokenizer
