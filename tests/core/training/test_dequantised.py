"""A GGUF base is dequantised once: the saved copy loads the same weights, tokens and chat
template as the GGUF, a load converts only when no copy is there, and a copy left half-written by
an interrupted conversion is replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from core.settings import get_settings
from core.training import dequantised
from core.training.bases import smollm2_file
from core.training.dequantised import CACHE_DIR, READY, cache_key, load_dequantised

MESSAGES = [{"role": "user", "content": "Write about a red kite."}]


@pytest.fixture(scope="module")
def from_gguf() -> tuple[Any, Any]:
    """SmolLM2 read from its GGUF (the slow path, once for the module), and its copy in the
    data folder made from it if there is none: the one the training tests then load."""
    gguf = smollm2_file()
    model, tokenizer = dequantised._from_gguf(gguf)
    key = cache_key(gguf)
    folder = get_settings().data_dir / "models" / CACHE_DIR / key
    if not (folder / READY).is_file():
        dequantised._save(model, tokenizer, folder, key)
    return model, tokenizer


def test_the_saved_copy_loads_what_the_gguf_holds(from_gguf: tuple[Any, Any]) -> None:
    converted, tokenizer = from_gguf
    loaded, reloaded = load_dequantised(smollm2_file(), get_settings().data_dir / "models")
    assert type(loaded) is type(converted)
    expected, actual = converted.state_dict(), loaded.state_dict()
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[name], actual[name]) for name in expected)
    text = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert "red kite" in text
    assert reloaded.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True) == (
        text
    )
    assert reloaded(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert reloaded.eos_token == tokenizer.eos_token


def test_a_load_converts_once_and_replaces_an_interrupted_copy(
    from_gguf: tuple[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = smollm2_file()
    conversions: list[Path] = []

    def convert(path: Path) -> tuple[Any, Any]:
        conversions.append(path)
        return from_gguf

    monkeypatch.setattr(dequantised, "_from_gguf", convert)
    folder = tmp_path / CACHE_DIR / cache_key(gguf)
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"cut short")  # no marker: interrupted

    load_dequantised(gguf, tmp_path)
    assert conversions == [gguf]
    assert (folder / READY).read_text().strip() == folder.name
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left
    load_dequantised(gguf, tmp_path)
    assert conversions == [gguf]  # the copy, not the GGUF, the second time
